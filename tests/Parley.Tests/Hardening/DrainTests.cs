using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Parley.Server;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Hardening;

/// <summary>Graceful drain under load: no request whose handler started is lost, and the stop is bounded.</summary>
public class DrainTests : TransportTests
{
    private sealed record Outcome(int Started, int Completed, int CloseMarked, List<string> Lost);

    [Fact]
    public async Task Stopping_under_load_answers_every_started_request_and_refuses_new_connections()
    {
        var started = new ConcurrentDictionary<string, bool>();
        HttpServer? httpServer = null;
        var server = await TestServer.StartAsync(async (request, response) =>
        {
            string id = request.Headers["X-Id"] ?? "?";
            started[id] = true;
            await Task.Delay(30);
            response.WriteText($"id={id} stopping={httpServer!.IsStopping}");
        }, o =>
        {
            o.Transport = Transport;
            o.DrainTimeout = TimeSpan.FromSeconds(5);
        });
        httpServer = server.Server;
        int port = server.Port;

        var completed = new ConcurrentDictionary<string, RawResponse>();
        var unanswered = new ConcurrentBag<string>();
        using var stopClients = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        async Task ClientAsync(int client)
        {
            int n = 0;
            while (!stopClients.IsCancellationRequested)
            {
                RawConnection connection;
                try
                {
                    connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return; // refused: the server has stopped
                }
                await using (connection)
                {
                    while (true)
                    {
                        string id = $"{client}-{n++}";
                        try
                        {
                            await connection.SendAsync($"GET / HTTP/1.1\r\nHost: x\r\nX-Id: {id}\r\n\r\n");
                            RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
                            completed[id] = response;
                            if (response.Header("Connection") == "close") break;
                        }
                        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                        {
                            unanswered.Add(id); // closed before an answer: allowed only if the handler never started
                            break;
                        }
                    }
                }
            }
        }
        Task[] clients = Enumerable.Range(0, 8).Select(ClientAsync).ToArray();
        // Load first: at least 40 answered requests (bounded), so the stop lands in the middle of the load.
        Assert.True(await Hostile.WaitUntilAsync(() => completed.Count >= 40, TimeSpan.FromSeconds(10)), $"only {completed.Count} requests completed in 10 s");
        var clock = Stopwatch.StartNew();
        await server.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        TimeSpan stopTook = clock.Elapsed;
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.True(stopTook < TimeSpan.FromSeconds(5), $"StopAsync took {stopTook.TotalSeconds:F1} s, beyond the drain timeout");
        string[] lost = started.Keys.Where(id => !completed.ContainsKey(id)).ToArray();
        Assert.True(lost.Length == 0, $"{lost.Length} started requests got no complete response: {string.Join(", ", lost.Take(10))}");
        Assert.All(unanswered, id => Assert.False(started.ContainsKey(id), $"request {id} started but its connection closed unanswered"));
        foreach ((string id, RawResponse response) in completed)
        {
            Assert.Equal($"id={id}", response.BodyText.Split(' ')[0]);
            if (response.BodyText.EndsWith("stopping=True", StringComparison.Ordinal))
            {
                Assert.True(response.Header("Connection") == "close", $"response {id}, written during the stop, lacks Connection: close");
            }
        }
        Assert.Contains(completed.Values, r => r.BodyText.EndsWith("stopping=True", StringComparison.Ordinal));
        Assert.False(await Loopback.CanConnectAsync(port));
        Assert.Equal(0, server.Server.ConnectionCount);
    }

}

/// <summary>`parley serve` as a process, stopped by SIGTERM while clients keep it busy.</summary>
public class ServeDrainTests
{
    [Fact]
    public async Task Parley_serve_exits_0_on_SIGTERM_under_load_without_losing_a_started_response()
    {
        int port = Loopback.FreePort();
        string cli = Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");
        await using RunningTool process = ExternalTool.Start("dotnet", [cli, "serve", "--port", port.ToString(), "--quiet"]);
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(30));

        int completed = 0, truncated = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        async Task ClientAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                RawConnection connection;
                try
                {
                    connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return;
                }
                await using (connection)
                {
                    try
                    {
                        while (true)
                        {
                            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                            RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(10));
                            Assert.Equal(200, response.StatusCode);
                            Interlocked.Increment(ref completed);
                            if (response.Header("Connection") == "close") break;
                        }
                    }
                    catch (IOException ex) when (ex.Message.Contains("mid-response", StringComparison.Ordinal) && ex.Message.Contains("HTTP/1.1", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref truncated); // part of a response, then a close: a lost response
                    }
                    catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                    {
                        // closed while idle, before an answer started: the client may retry
                    }
                }
            }
        }
        Task[] clients = Enumerable.Range(0, 4).Select(_ => ClientAsync()).ToArray();
        // The stop must come under load: once the clients have had more than 20 answers (a fresh process
        // compiles the demo site's paths first, which on a busy machine can take more than a second).
        var warming = Stopwatch.StartNew();
        while (Volatile.Read(ref completed) <= 20 && warming.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        Process.Start("kill", ["-TERM", process.ProcessId.ToString()]).WaitForExit();
        int exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(15));
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, exitCode);
        Assert.True(completed > 20, $"only {completed} requests completed before the stop");
        Assert.Equal(0, truncated);
    }
}

/// <summary>The same drain over the epoll transport.</summary>
public class EpollDrainTests : DrainTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

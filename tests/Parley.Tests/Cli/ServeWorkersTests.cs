using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Parley.Cli;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Cli;

/// <summary>
/// `parley serve --workers N` as real processes: the workers share the port, the supervisor replaces one
/// that exits, and replacing them one at a time under load loses no request.
/// </summary>
public partial class ServeWorkersTests
{
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    [Fact]
    public async Task Two_workers_both_serve_connections_and_stop_with_the_supervisor()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using RunningTool supervisor = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--workers", "2", "--port", "0", "--quiet"]);
        int[] workers = await WaitForWorkersAsync(supervisor, 2);
        int port = ListeningPort(supervisor);

        // The kernel picks a slot's socket by a hash of each connection's ports: new connections reach
        // both workers within a few (the chance that 200 all land on one is 2^-199).
        var seen = new HashSet<int>();
        for (int i = 0; i < 200 && seen.Count < 2; i++)
        {
            await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            seen.Add(ServingProcess(port, ((IPEndPoint)connection.Socket.LocalEndPoint!).Port, workers));
        }
        Assert.Equal(workers.Order(), seen.Order());

        Process.Start("kill", ["-TERM", supervisor.ProcessId.ToString(CultureInfo.InvariantCulture)]).WaitForExit();
        Assert.Equal(0, await supervisor.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        foreach (int worker in workers) Assert.False(Directory.Exists($"/proc/{worker}"), $"worker {worker} outlived its supervisor");
        Assert.Equal(2, Regex.Matches(supervisor.StdOut, @"Worker \d+: Stopped\.").Count);
    }

    [Fact]
    public async Task A_second_supervisor_on_the_port_fails_with_one_line_and_exit_2_instead_of_sharing_it()
    {
        // Both would set SO_REUSEPORT, and the kernel lets sockets of one user that all have it share a port:
        // the second once joined the first, and connections alternated between two unrelated servers.
        if (!OperatingSystem.IsLinux()) return;
        await using RunningTool first = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--workers", "2", "--port", "0", "--quiet"]);
        await WaitForWorkersAsync(first, 2);
        int port = ListeningPort(first);

        ToolResult second = await ExternalTool.RunAsync("dotnet", [CliAssembly, "serve", "--workers", "2", "--port", port.ToString(CultureInfo.InvariantCulture), "--quiet"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, second.ExitCode);
        Assert.Equal($"parley: cannot listen on 127.0.0.1:{port}: address already in use", second.StdErr.Trim());
        Assert.DoesNotContain("accepting", second.StdOut);
        Assert.False(first.HasExited, first.StdErr);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1:")]
    [InlineData("::1", "[::1]:")]
    [InlineData("*", "[::]:")]
    public void Worker_sockets_do_not_join_another_process_s_reuse_port_sockets(string host, string described)
    {
        if (!OperatingSystem.IsLinux()) return;
        Socket[] held = WorkerSupervisor.Bind(host, 0, 2, TextWriter.Null)!;
        try
        {
            int port = ((IPEndPoint)held[0].LocalEndPoint!).Port;
            Assert.Equal(port, ((IPEndPoint)held[1].LocalEndPoint!).Port);
            var stderr = new StringWriter();
            Assert.Null(WorkerSupervisor.Bind(host, port, 2, stderr));
            Assert.Equal($"parley: cannot listen on {described}{port}: address already in use", stderr.ToString().Trim());
        }
        finally
        {
            foreach (Socket socket in held) socket.Dispose();
        }
    }

    [Fact]
    public async Task Restarting_the_workers_one_at_a_time_under_load_loses_no_request()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using RunningTool supervisor = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--workers", "2", "--port", "0", "--quiet"]);
        int[] workers = await WaitForWorkersAsync(supervisor, 2);
        int port = ListeningPort(supervisor);

        // Form POSTs (which no client or balancer may retry), each on a new connection, so that connections
        // keep arriving on both slots' sockets while their workers stop and start.
        using var stopLoad = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        int succeeded = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        async Task LoadAsync(int client)
        {
            for (int i = 0; i < 5000 && !stopLoad.IsCancellationRequested; i++)
            {
                string value = $"{client}-{i}";
                try
                {
                    await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
                    string body = $"name={value}";
                    await connection.SendAsync($"POST /contact_form.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\n\r\n{body}");
                    RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
                    if (response.StatusCode == 200 && response.BodyText.Contains(value, StringComparison.Ordinal)) Interlocked.Increment(ref succeeded);
                    else failures.Enqueue($"{value}: {response.StatusLine}");
                }
                catch (Exception ex)
                {
                    failures.Enqueue($"{value}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
        Task[] load = Enumerable.Range(0, 4).Select(client => Task.Run(() => LoadAsync(client))).ToArray();

        await WaitUntilAsync(() => Volatile.Read(ref succeeded) >= 100, "the load got going");
        foreach (int worker in workers)
        {
            int accepting = AcceptingWorkers(supervisor.StdOut).Length;
            int before = Volatile.Read(ref succeeded);
            Process.Start("kill", ["-TERM", worker.ToString(CultureInfo.InvariantCulture)]).WaitForExit();
            await WaitUntilAsync(() => AcceptingWorkers(supervisor.StdOut).Length > accepting, $"a worker replaced {worker}");
            // The replacement serves a share of the load before the next worker goes.
            await WaitUntilAsync(() => Volatile.Read(ref succeeded) >= before + 200, "the load went on");
        }
        stopLoad.Cancel();
        await Task.WhenAll(load);

        Assert.True(failures.IsEmpty, $"{failures.Count} of {succeeded + failures.Count} requests failed: {string.Join("; ", failures.Take(5))}");
        Assert.Contains($"parley: worker {workers[0]} exited with status 0; starting another", supervisor.StdErr);
        Assert.Contains($"parley: worker {workers[1]} exited with status 0; starting another", supervisor.StdErr);
        Assert.Equal(4, AcceptingWorkers(supervisor.StdOut).Length);
    }

    private static int ListeningPort(RunningTool supervisor) =>
        int.Parse(ListeningLine().Match(supervisor.StdOut).Groups[1].Value, CultureInfo.InvariantCulture);

    private static async Task<int[]> WaitForWorkersAsync(RunningTool supervisor, int count)
    {
        await WaitUntilAsync(() => AcceptingWorkers(supervisor.StdOut).Length >= count || supervisor.HasExited, "the workers started");
        Assert.False(supervisor.HasExited, supervisor.StdErr);
        Assert.Matches(ListeningLine(), supervisor.StdOut);
        return AcceptingWorkers(supervisor.StdOut);
    }

    private static int[] AcceptingWorkers(string output) =>
        AcceptingLine().Matches(output).Select(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"waited 60 s for: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Which of <paramref name="processes"/> holds the server side of the connection from local port
    /// <paramref name="clientPort"/>: its socket's inode from /proc/net/tcp, then the process whose
    /// descriptors include that socket.
    /// </summary>
    private static int ServingProcess(int serverPort, int clientPort, int[] processes)
    {
        string local = ":" + serverPort.ToString("X4", CultureInfo.InvariantCulture);
        string remote = ":" + clientPort.ToString("X4", CultureInfo.InvariantCulture);
        string? inode = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(columns => columns[1].EndsWith(local, StringComparison.Ordinal) && columns[2].EndsWith(remote, StringComparison.Ordinal))?[9];
        Assert.NotNull(inode);
        foreach (int process in processes)
        {
            foreach (string fd in Directory.EnumerateFiles($"/proc/{process}/fd"))
            {
                if (new FileInfo(fd).LinkTarget == $"socket:[{inode}]") return process;
            }
        }
        throw new InvalidOperationException($"no worker holds the connection from port {clientPort}");
    }

    [GeneratedRegex(@"listening on http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"Worker (\d+): accepting on ")]
    private static partial Regex AcceptingLine();
}

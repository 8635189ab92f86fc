using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Parley.Server;
using Parley.Tests.Server;
using static Parley.Tests.Server.ServerTiming;

namespace Parley.Tests.Hardening;

/// <summary>
/// Slow and non-reading clients: slowloris heads, stalled bodies, a pipeliner that never reads. Each is
/// bounded by the server's timeouts and must not keep a normal client from being served. The suite runs on
/// both transports, over plain TCP and over TLS (the slow bytes then come as TLS records after a handshake).
/// </summary>
public class SlowClientTests : TransportTests
{
    private static ValueTask Hello(HttpRequest request, HttpResponse response)
    {
        response.WriteText("Hello");
        return ValueTask.CompletedTask;
    }

    // A normal request is answered; with a condition, it must still hold when the answer arrives: the
    // hostile connections were still open, so the server did not wait for their timeouts to serve it
    // (an order of events, which a loaded machine cannot make flaky the way a time limit can).
    private static async Task AssertServedAsync(TestServer server, Func<bool>? whileStill = null, string? what = null)
    {
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(200, response.StatusCode);
        if (whileStill is not null) Assert.True(whileStill(), $"the normal request was answered only after {what} had ended");
    }

    [Fact]
    public async Task A_thousand_slowloris_connections_do_not_stop_a_normal_client_and_get_408_at_the_header_timeout()
    {
        const int Count = 1000;
        // Over TLS the thousand handshakes take seconds on a busy machine, and the first connections' timeouts
        // run meanwhile: the longer timeout keeps most of them open while the normal client is served.
        var timeout = TimeSpan.FromSeconds(OverTls ? 10 : 5);
        await using var server = await StartAsync(Hello, o => o.RequestHeadersTimeout = timeout);
        var connections = new RawConnection[Count];
        var clock = Stopwatch.StartNew();
        for (int batch = 0; batch < Count; batch += 100)
        {
            await Task.WhenAll(Enumerable.Range(batch, 100).Select(async i =>
            {
                connections[i] = await server.ConnectAsync();
                await connections[i].SendAsync("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            }));
        }
        TimeSpan allStarted = clock.Elapsed;
        try
        {
            Task<(string? Text, TimeSpan At)>[] slow = connections.Select(c => DribbleUntilAnsweredAsync(c, clock)).ToArray();
            for (int i = 0; i < 5; i++)
            {
                // Served while the attack is on: at least half the slow connections still open (the first
                // ones opened may have reached their timeout while the last were still being opened).
                await AssertServedAsync(server, () => slow.Count(t => !t.IsCompleted) >= Count / 2, "half the slowloris connections");
            }
            (string? Text, TimeSpan At)[] results = await Task.WhenAll(slow);

            Assert.All(results, r => Assert.NotNull(r.Text));
            string[] other = results.Select(r => r.Text!).Where(t => !t.StartsWith("HTTP/1.1 408 ", StringComparison.Ordinal)).ToArray();
            // All are closed (above). A close can race the dribbler's next byte: the server then answers that
            // byte with a reset, and Linux drops the unread 408 from the client's queue. The dribbler looks
            // for an answer in its socket just before each byte, which leaves only the instants between
            // that look and the send; allow 1% of those.
            Assert.True(other.Length <= Count / 100, $"{other.Length} of {Count} slow connections did not get 408; e.g. '{other.FirstOrDefault()}'");
            Assert.All(other, text => Assert.Equal("", text));
            TimeSpan first = results.Min(r => r.At), last = results.Max(r => r.At);
            // The clock started before the first byte, so no close can be seen before the timeout; the last is
            // due at the first heartbeat after the last connection's timeout.
            Assert.True(first >= timeout - CoarseClock, $"a slow connection was closed after {first.TotalSeconds:F1} s, before the {timeout.TotalSeconds} s header timeout");
            Assert.True(last <= allStarted + timeout + Heartbeat + LoadAllowance, $"the last slow connection was closed after {last.TotalSeconds:F1} s");
            Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(60)),
                $"{server.Server.ConnectionCount} connections still open");
        }
        finally
        {
            foreach (RawConnection connection in connections) if (connection is not null) await connection.DisposeAsync();
        }
    }

    // Sends one more header byte every 300 ms until the server answers; then reads to the close.
    private static async Task<(string? Text, TimeSpan At)> DribbleUntilAnsweredAsync(RawConnection connection, Stopwatch clock)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var buffer = new byte[4096];
        var received = new List<byte>();
        try
        {
            Task<int> receive = connection.ReceiveAsync(buffer, cts.Token).AsTask();
            while (true)
            {
                if (await Task.WhenAny(receive, Task.Delay(300, cts.Token)) == receive)
                {
                    int n = await receive;
                    if (n == 0) return (Encoding.Latin1.GetString(received.ToArray()), clock.Elapsed);
                    received.AddRange(buffer.AsSpan(0, n));
                    receive = connection.ReceiveAsync(buffer, cts.Token).AsTask();
                    continue;
                }
                // On a busy machine the receive's continuation can trail the answer by far more than 300 ms:
                // the socket itself says whether the server has answered (or closed) already. (Over TLS a
                // session ticket can make it readable for a moment too: a byte is then sent a turn later.)
                if (received.Count == 0 && !connection.Socket.Poll(0, SelectMode.SelectRead)) await connection.SendAsync("a");
            }
        }
        // A reset: SocketException on plain TCP, IOException through SslStream.
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return (Encoding.Latin1.GetString(received.ToArray()), clock.Elapsed);
        }
        catch (OperationCanceledException)
        {
            return (null, clock.Elapsed);
        }
    }

    [Fact]
    public async Task A_body_that_stalls_is_cut_off_after_the_data_timeout()
    {
        var timeout = TimeSpan.FromSeconds(3);
        bool handlerFinished = false;
        await using var server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(1000);
            if (request.Path == "/upload") handlerFinished = true;
            response.WriteText($"got {body.Length}");
        }, o => o.DataTimeout = timeout);
        await using RawConnection stalled = await server.ConnectAsync();
        var clock = Stopwatch.StartNew();
        await stalled.SendAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
        // The server's own count says the stalled connection was still open (the normal one is too, until
        // it is disposed): a session ticket over TLS would make the stalled socket look answered.
        await AssertServedAsync(server, () => server.Server.ConnectionCount >= 2, "the stalled upload");

        string rest = await stalled.ReadUntilCloseAsync(timeout + Heartbeat + LoadAllowance);
        Assert.True(clock.Elapsed >= timeout - CoarseClock, $"closed after {clock.Elapsed.TotalSeconds:F1} s, before the {timeout.TotalSeconds} s data timeout");
        Assert.DoesNotContain("got ", rest);
        Assert.False(handlerFinished);
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_body_sent_slowly_but_steadily_within_the_data_timeout_is_read()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(1000);
            response.WriteText($"got {body.Length}");
        }, o =>
        {
            o.DataTimeout = TimeSpan.FromSeconds(5); // ten times the gap between bytes
            o.MinRequestBodyDataRate = 0;            // the data timeout alone is under test
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n");
        for (int i = 0; i < 6; i++)
        {
            await Task.Delay(500);
            await connection.SendAsync("x");
        }
        RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(60));
        Assert.Equal("got 6", response.BodyText);
    }

    [Fact]
    public async Task A_pipelining_client_that_never_reads_cannot_make_the_server_buffer_without_bound()
    {
        // Each tiny request asks for 32 KiB: unbounded buffering would need ~1,200x the bytes sent.
        string big = new('b', 32 * 1024);
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText(big);
            return ValueTask.CompletedTask;
        }, o => o.DataTimeout = TimeSpan.FromSeconds(2));
        await using RawConnection connection = await server.ConnectAsync();
        byte[] block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2048)));
        const long Attempt = 64L * 1024 * 1024;
        long accepted = 0;
        while (accepted < Attempt)
        {
            Task send = connection.SendAsync(block);
            if (await Task.WhenAny(send, Task.Delay(2000)) != send) break; // the server stopped reading
            await send;
            accepted += block.Length;
        }
        Assert.True(accepted < 24L * 1024 * 1024,
            $"the server kept reading: {accepted / 1024 / 1024} MiB of requests accepted without the client reading any response");
        // Its send has been blocked since: the data timeout ends the connection.
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(2) + Heartbeat + LoadAllowance),
            $"the stalled connection is still open ({server.Server.ConnectionCount}) after its data timeout; {accepted / 1024} KiB accepted");
        await AssertServedAsync(server);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollSlowClientTests : SlowClientTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

/// <summary>The same tests over TLS.</summary>
public class TlsSlowClientTests : SlowClientTests
{
    protected override bool OverTls => true;
}

/// <summary>The same tests over TLS on the epoll transport.</summary>
public class TlsEpollSlowClientTests : SlowClientTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
    protected override bool OverTls => true;
}

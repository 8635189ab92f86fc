using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>
/// The client on its epoll transport (<see cref="ParleyClientOptions.Transport"/>): the same behaviour as
/// the portable transport for the paths that touch the transport — connect, reuse, stale connections,
/// retries, timeouts, cancellation, disposal, large bodies and many connections at once.
/// </summary>
public class EpollClientTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static ParleyClientOptions Epoll(RecordingObserver? observer = null) =>
        new() { Transport = TransportKind.Epoll, Observer = observer, ConnectTimeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public async Task Keep_alive_reuses_one_connection_and_reports_the_session()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText($"hello {request.Target}");
            return ValueTask.CompletedTask;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(Epoll(observer));
        for (int i = 0; i < 5; i++)
        {
            using ParleyResponse response = await client.GetAsync($"{server.BaseUri}n{i}", Test);
            Assert.Equal(200, response.StatusCode);
            Assert.Equal($"hello /n{i}", await response.ReadAsStringAsync(Test));
        }
        Assert.Equal([false, true, true, true, true], observer.ReuseFlags());
        Assert.Equal(1, client.ConnectionCount);
    }

    [Fact]
    public async Task Large_bodies_stream_and_many_requests_run_at_once()
    {
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(big);
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            if (request.Target == "/big") response.Write(big);
            else response.WriteText("small");
            return ValueTask.CompletedTask;
        });
        using var client = new ParleyClient(Epoll());
        using (ParleyResponse response = await client.GetAsync($"{server.BaseUri}big", Test))
        {
            Assert.Equal(big, await response.ReadAsByteArrayAsync(Test));
        }
        var tasks = Enumerable.Range(0, 16).Select(async _ =>
        {
            for (int i = 0; i < 50; i++)
            {
                using ParleyResponse response = await client.GetAsync($"{server.BaseUri}small", Test);
                Assert.Equal("small", await response.ReadAsStringAsync(Test));
            }
        });
        await Task.WhenAll(tasks);
        Assert.InRange(client.ConnectionCount, 1, 16);
    }

    [Fact]
    public async Task A_connection_the_server_closed_while_idle_is_detected_and_a_reused_failure_is_retried()
    {
        await using var idleClose = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            exchange.CloseAfter = true;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(Epoll(observer));
        using (ParleyResponse first = await client.GetAsync(idleClose.Url, Test)) Assert.Equal(200, first.StatusCode);
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => idleClose.Closed == 1, TimeSpan.FromSeconds(60)), "the server never closed");
        using (ParleyResponse second = await client.GetAsync(idleClose.Url, Test)) Assert.Equal("ok", await second.ReadAsStringAsync(Test));
        Assert.Equal([false, false], observer.ReuseFlags());
        Assert.DoesNotContain(SessionEventKind.Retrying, observer.Kinds());

        await using var racy = new ScriptedServer(async exchange =>
        {
            if (exchange.RequestOnConnection == 2)
            {
                exchange.CloseAfter = true;
                return;
            }
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        var retries = new RecordingObserver();
        using var retrying = new ParleyClient(Epoll(retries));
        using (ParleyResponse first = await retrying.GetAsync(racy.Url, Test)) Assert.Equal(200, first.StatusCode);
        using (ParleyResponse second = await retrying.GetAsync(racy.Url, Test)) Assert.Equal("ok", await second.ReadAsStringAsync(Test));
        Assert.Contains(SessionEventKind.Retrying, retries.Kinds());
        Assert.Equal(2, racy.Accepted);
    }

    [Fact]
    public async Task Connect_failures_timeouts_cancellation_and_disposal_end_the_exchange()
    {
        using (var client = new ParleyClient(Epoll()))
        {
            using System.Net.Sockets.Socket refusing = Interop.Loopback.RefusingPort(out int port);
            var refused = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"http://127.0.0.1:{port}/", Test));
            Assert.Equal(ParleyErrorKind.ConnectFailed, refused.Kind);
            Assert.Contains($"cannot connect to 127.0.0.1 port {port}: ", refused.Message);
            Assert.Contains("refused", refused.Message, StringComparison.OrdinalIgnoreCase);
        }

        await using var server = new ScriptedServer(exchange => exchange.HangAsync());
        var options = Epoll();
        options.ResponseHeadersTimeout = TimeSpan.FromMilliseconds(400);
        using (var client = new ParleyClient(options))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var timeout = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url, Test));
            Assert.Equal(ParleyErrorKind.Timeout, timeout.Kind);
            Assert.Contains("response head", timeout.Message);
            Assert.InRange(clock.Elapsed, options.ResponseHeadersTimeout - Server.ServerTiming.CoarseClock, options.ResponseHeadersTimeout + Server.ServerTiming.LoadAllowance);
            Assert.Equal(0, client.ConnectionCount);
        }

        using (var client = new ParleyClient(Epoll()))
        {
            // Cancelled at 200 ms; the head timeout (30 s) is far off, so only the token can end it.
            using var cancel = new CancellationTokenSource(200);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.GetAsync(server.Url, cancel.Token));
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(200) + Server.ServerTiming.LoadAllowance, $"cancelled after {clock.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(0, client.ConnectionCount);
        }

        var disposed = new ParleyClient(Epoll());
        int before = server.Requests.Count;
        ValueTask<ParleyResponse> pending = disposed.GetAsync(server.Url, Test);
        while (server.Requests.Count == before) await Task.Delay(10, Test);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        disposed.Dispose();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await pending);
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        Assert.True(watch.Elapsed < Server.ServerTiming.LoadAllowance, $"ended {watch.Elapsed.TotalSeconds:F1} s after the disposal");
        Assert.Equal(0, disposed.ConnectionCount);
    }

    [Fact]
    public async Task A_truncated_body_is_an_error_and_the_connection_is_not_pooled()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
            exchange.CloseAfter = true;
        });
        using var client = new ParleyClient(Epoll());
        using ParleyResponse response = await client.GetAsync(server.Url, Test);
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await response.ReadAsByteArrayAsync(Test));
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        Assert.Contains("truncated", error.Message);
        Assert.Equal(0, client.ConnectionCount);
    }
}

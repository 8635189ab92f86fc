using Parley.Client;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>Keep-alive and the per-origin pool (RFC 9112 §9.3): reuse, close, stale connections, retries, limits.</summary>
public class PoolTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Connection_close_from_the_server_is_honoured()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.CloseConnection = true;
            response.WriteText("bye");
            return ValueTask.CompletedTask;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        for (int i = 0; i < 3; i++)
        {
            using ParleyResponse response = await client.GetAsync(server.BaseUri.ToString(), Test);
            Assert.Equal("close", response.Headers["Connection"]);
            Assert.Equal("bye", await response.ReadAsStringAsync(Test));
        }
        Assert.Equal([false, false, false], observer.ReuseFlags());
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task A_request_with_Connection_close_does_not_pool_its_connection()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText("x");
            return ValueTask.CompletedTask;
        });
        using var client = new ParleyClient();
        var request = ParleyRequest.Get(server.BaseUri.ToString());
        request.Headers.Add("Connection", "close");
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task A_connection_the_server_closed_while_idle_is_detected_before_reuse()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            exchange.CloseAfter = true; // closes without announcing it
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using (ParleyResponse first = await client.GetAsync(server.Url, Test)) Assert.Equal(200, first.StatusCode);
        Assert.Equal(1, client.IdleConnectionCount(new Uri(server.Url)));
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Closed == 1, TimeSpan.FromSeconds(60)), "the server never closed");
        using (ParleyResponse second = await client.GetAsync(server.Url, Test)) Assert.Equal("ok", await second.ReadAsStringAsync(Test));
        Assert.Equal([false, false], observer.ReuseFlags());
        Assert.DoesNotContain(SessionEventKind.Retrying, observer.Kinds());
    }

    private static ScriptedServer ClosesOnSecondRequest() => new(async exchange =>
    {
        if (exchange.RequestOnConnection == 2)
        {
            exchange.CloseAfter = true; // the race RFC 9112 §9.3.1 describes: closed just as our request went out
            return;
        }
        await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });

    [Fact]
    public async Task An_idempotent_request_failing_on_a_reused_connection_is_retried_once_on_a_new_one()
    {
        await using var server = ClosesOnSecondRequest();
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using (ParleyResponse first = await client.GetAsync(server.Url, Test)) Assert.Equal(200, first.StatusCode);
        using (ParleyResponse second = await client.GetAsync(server.Url, Test)) Assert.Equal("ok", await second.ReadAsStringAsync(Test));
        Assert.Equal([false, true, false], observer.ReuseFlags());
        Assert.Contains(SessionEventKind.Retrying, observer.Kinds());
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_POST_failing_on_a_reused_connection_is_not_retried()
    {
        await using var server = ClosesOnSecondRequest();
        using var client = new ParleyClient();
        using (ParleyResponse first = await client.GetAsync(server.Url, Test)) Assert.Equal(200, first.StatusCode);
        var post = new ParleyRequest("POST", server.Url) { Content = ParleyContent.FromString("once only") };
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.SendAsync(post, Test));
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Keep_Alive_timeout_from_the_server_retires_idle_connections_early()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=3, max=50\r\nContent-Length: 2\r\n\r\nok"));
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using (await client.GetAsync(server.Url, Test)) { }
        // Reused: well inside the 2.7 s the client allows (3 s less its margin), even on a loaded machine.
        using (await client.GetAsync(server.Url, Test)) { }
        // Past the client's 2.7 s but before the server's 3 s: retired early. A late wake-up only moves
        // the third request further past both deadlines.
        await Task.Delay(2850);
        using (await client.GetAsync(server.Url, Test)) { }
        Assert.Equal([false, true, false], observer.ReuseFlags());
    }

    [Fact]
    public async Task Keep_Alive_max_limits_the_requests_on_one_connection()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync($"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=30, max={2 - exchange.RequestOnConnection}\r\nContent-Length: 2\r\n\r\nok"));
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        for (int i = 0; i < 3; i++)
        {
            using (await client.GetAsync(server.Url, Test)) { }
        }
        Assert.Equal([false, true, false], observer.ReuseFlags());
    }

    [Fact]
    public async Task At_most_MaxConnectionsPerOrigin_connections_are_opened()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await Task.Delay(100, exchange.Stopping);
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        using var client = new ParleyClient(new ParleyClientOptions { MaxConnectionsPerOrigin = 2 });
        var requests = Enumerable.Range(0, 8).Select(async _ =>
        {
            using ParleyResponse response = await client.GetAsync(server.Url, Test);
            return await response.ReadAsStringAsync(Test);
        }).ToList();
        string[] bodies = await Task.WhenAll(requests);
        Assert.All(bodies, body => Assert.Equal("ok", body));
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_response_disposed_before_its_body_ends_closes_the_connection()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{new string('a', 100_000)}"));
        using var client = new ParleyClient();
        using (ParleyResponse response = await client.GetAsync(server.Url, Test))
        {
            byte[] some = new byte[10];
            await response.Body.ReadExactlyAsync(some, Test);
        }
        Assert.Equal(0, client.ConnectionCount);
        using (ParleyResponse again = await client.GetAsync(server.Url, Test)) Assert.Equal(100_000, (await again.ReadAsByteArrayAsync(Test)).Length);
        Assert.Equal(2, server.Accepted);
        Assert.Equal(1, client.IdleConnectionCount(new Uri(server.Url)));
    }

    [Fact]
    public async Task Connect_failures_and_cancellation_are_reported()
    {
        using var client = new ParleyClient(new ParleyClientOptions { ConnectTimeout = TimeSpan.FromSeconds(2) });
        using System.Net.Sockets.Socket refusing = Interop.Loopback.RefusingPort(out int port);
        var refused = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"http://127.0.0.1:{port}/", Test));
        Assert.Equal(ParleyErrorKind.ConnectFailed, refused.Kind);
        Assert.Contains($"cannot connect to 127.0.0.1 port {port}: ", refused.Message);

        await using var server = new ScriptedServer(exchange => exchange.HangAsync());
        // Cancelled at 200 ms; the client's own head timeout (30 s) is far off, so only the token can end it.
        using var cancel = new CancellationTokenSource(200);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.GetAsync(server.Url, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(200) + Server.ServerTiming.LoadAllowance, $"cancelled after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Connects_over_IPv6_loopback()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText(request.Host);
            return ValueTask.CompletedTask;
        }, options => options.Host = "::1");
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync($"http://[::1]:{server.Port}/", Test);
        Assert.Equal($"[::1]:{server.Port}", await response.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task Disposing_the_client_ends_exchanges_in_flight()
    {
        await using var server = new ScriptedServer(exchange => exchange.HangAsync());
        var client = new ParleyClient();
        ValueTask<ParleyResponse> pending = client.GetAsync(server.Url, Test);
        while (server.Requests.Count == 0) await Task.Delay(10, Test);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        client.Dispose();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await pending);
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        // Ended by the disposal, not by the head timeout (30 s).
        Assert.True(clock.Elapsed < Server.ServerTiming.LoadAllowance, $"ended {clock.Elapsed.TotalSeconds:F1} s after the disposal");
        Assert.Equal(0, client.ConnectionCount);
    }
}

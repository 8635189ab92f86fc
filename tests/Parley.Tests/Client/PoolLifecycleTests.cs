using Parley.Client;
using Parley.Tests.Hardening;

namespace Parley.Tests.Client;

/// <summary>The pool over a connection's life: idle expiry by the sweep, numbering on reuse, waiting for a slot, dispose.</summary>
public class PoolLifecycleTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // A bound on hangs, not on speed: the sweep runs about once a second.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    private sealed class NumberingObserver : ISessionObserver
    {
        public List<(bool Reused, int Number)> Connected { get; } = [];

        public void OnEvent(in SessionEvent e)
        {
            if (e.Kind == SessionEventKind.Connected) lock (Connected) Connected.Add((e.Reused, e.RequestNumberOnConnection));
        }
    }

    [Fact]
    public async Task The_sweep_closes_only_the_idle_connections_past_their_deadline_and_keeps_the_rest_reusable()
    {
        // Three requests at once make three connections; the first two answers say Keep-Alive: timeout=1
        // (idle deadline 750 ms), the third none (the client's 60 s).
        int arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new ScriptedServer(async exchange =>
        {
            int n = Interlocked.Increment(ref arrived);
            if (n == 3) allArrived.TrySetResult();
            await allArrived.Task.WaitAsync(exchange.Stopping);
            string keepAlive = n <= 2 ? "Keep-Alive: timeout=1\r\n" : "";
            await exchange.SendAsync($"HTTP/1.1 200 OK\r\n{keepAlive}Content-Length: 2\r\n\r\nok");
        });
        var observer = new NumberingObserver();
        var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                using ParleyResponse response = await client.GetAsync(server.Url, Test);
                Assert.Equal("ok", await response.ReadAsStringAsync(Test));
            }));
            Assert.Equal(3, client.ConnectionCount);
            Assert.Equal(3, client.IdleConnectionCount(new Uri(server.Url)));

            Assert.True(await Hostile.WaitUntilAsync(() => client.ConnectionCount == 1, HangBound), "still waiting for the two short-lived idle connections to close");
            Assert.Equal(1, client.IdleConnectionCount(new Uri(server.Url)));
            Assert.True(await Hostile.WaitUntilAsync(() => server.Closed == 2, HangBound), "still waiting for the server to see two connections closed");

            // The one kept is the one reused, and it is numbered as its second and third request.
            for (int i = 0; i < 2; i++)
            {
                using ParleyResponse response = await client.GetAsync(server.Url, Test);
                Assert.Equal("ok", await response.ReadAsStringAsync(Test));
            }
            Assert.Equal(3, server.Accepted);
            Assert.Equal(1, client.ConnectionCount);
            Assert.Equal([(true, 2), (true, 3)], observer.Connected.Skip(3).ToList());
            Assert.All(observer.Connected.Take(3), c => Assert.Equal((false, 1), c));
        }
        finally
        {
            client.Dispose();
        }

        // Dispose closes the idle connection that was left, and the client refuses further requests.
        Assert.Equal(0, client.ConnectionCount);
        Assert.True(await Hostile.WaitUntilAsync(() => server.Closed == 3, HangBound), "still waiting for the server to see the last connection closed");
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.GetAsync(server.Url, Test));
    }

    [Fact]
    public async Task A_request_that_finds_every_connection_busy_times_out_at_its_deadline_naming_the_limit()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"));
        var options = new ParleyClientOptions { MaxConnectionsPerOrigin = 1 };
        using var client = new ParleyClient(options);
        // The first response's body is still coming: its connection (the only slot) stays busy.
        using ParleyResponse busy = await client.GetAsync(server.Url, Test);

        options.RequestTimeout = TimeSpan.FromMilliseconds(200);
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url, Test));

        Assert.Equal(ParleyErrorKind.Timeout, ex.Kind);
        Assert.Equal($"timed out waiting for a free connection to http://127.0.0.1:{server.Port} (1 busy)", ex.Message);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task The_User_Agent_option_is_sent_on_every_request()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        using var client = new ParleyClient(new ParleyClientOptions { UserAgent = "probe/1.2 (test)" });
        using (await client.GetAsync(server.Url, Test)) { }
        using (await client.GetAsync(server.Url, Test)) { }

        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, head => Assert.Contains("\r\nUser-Agent: probe/1.2 (test)\r\n", head));
    }
}

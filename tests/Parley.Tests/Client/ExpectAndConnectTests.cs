using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>Expect: 100-continue without a 100 (RFC 9110 §10.1.1), address fallback and connect timeouts.</summary>
public class ExpectAndConnectTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task A_final_status_instead_of_100_means_the_body_is_never_sent_and_the_connection_is_not_reused()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nnope"));
        var observer = new RecordingObserver();
        // A wait for 100 Continue longer than the test's own bound: the 413 must end it, not the timer.
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer, ExpectContinueTimeout = TimeSpan.FromMinutes(10) });
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromBytes(new byte[1 << 20]), ExpectContinue = true };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal(413, response.StatusCode);
        Assert.Equal("nope", await response.ReadAsStringAsync(Test));
        Assert.DoesNotContain(SessionEventKind.RequestBodySent, observer.Kinds());
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Without_an_answer_to_Expect_the_body_goes_after_the_timeout()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await Task.Delay(1500, exchange.Stopping);
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            exchange.CloseAfter = true;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer, ExpectContinueTimeout = TimeSpan.FromMilliseconds(300) });
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromBytes(new byte[1000]), ExpectContinue = true };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal("ok", await response.ReadAsStringAsync(Test));
        List<SessionEventKind> kinds = observer.Kinds();
        int bodySent = kinds.IndexOf(SessionEventKind.RequestBodySent);
        int firstByte = kinds.IndexOf(SessionEventKind.FirstResponseByte);
        Assert.True(bodySent >= 0, $"the body was never sent: {string.Join(", ", kinds)}");
        Assert.True(firstByte >= 0, $"no response byte was seen: {string.Join(", ", kinds)}");
        Assert.True(bodySent < firstByte, $"the body went after the response began: {string.Join(", ", kinds)}");
        Assert.Equal(1000, observer.Events.Single(e => e.Kind == SessionEventKind.RequestBodySent).Size);
    }

    [Fact]
    public async Task Localhost_resolves_and_the_addresses_are_tried_in_order()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText("found");
            return ValueTask.CompletedTask;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using ParleyResponse response = await client.GetAsync($"http://localhost:{server.Port}/", Test);
        Assert.Equal("found", await response.ReadAsStringAsync(Test));
        List<SessionEventKind> kinds = observer.Kinds();
        Assert.Equal(SessionEventKind.Resolving, kinds[0]);
        Assert.Equal(SessionEventKind.Resolved, kinds[1]);
        // The server listens on 127.0.0.1 only: if ::1 came first, it was refused and the next address tried.
        int attempts = kinds.Count(k => k == SessionEventKind.Connecting);
        IPAddress[] addresses = await Dns.GetHostAddressesAsync("localhost");
        int position = Array.FindIndex(addresses, a => a.Equals(IPAddress.Loopback));
        Assert.Equal(position + 1, attempts);
    }

    [Fact]
    public async Task A_connect_that_never_completes_times_out()
    {
        // A listener that never accepts, with its backlog full: further SYNs go unanswered.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try
                {
                    filler.Connect(IPAddress.Loopback, port);
                }
                catch (SocketException)
                {
                }
                fillers.Add(filler);
            }
            // The first fillers take the backlog's places as their handshakes complete; the rest wait unanswered.
            Assert.True(await Hardening.Hostile.WaitUntilAsync(() => fillers.Any(f => f.Poll(0, SelectMode.SelectWrite)), TimeSpan.FromSeconds(30)),
                "no filler connection completed");
            using var client = new ParleyClient(new ParleyClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(500) });
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"http://127.0.0.1:{port}/", Test));
            Assert.Equal(ParleyErrorKind.Timeout, error.Kind);
            Assert.Contains($"connecting to 127.0.0.1:{port}", error.Message);
            // Not before the timeout, give or take the coarse clock the timers count in (a CI run saw it fire at
            // 498.5 ms by the Stopwatch).
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500) - Server.ServerTiming.CoarseClock, TimeSpan.FromMilliseconds(500) + Server.ServerTiming.LoadAllowance);
        }
        finally
        {
            foreach (Socket filler in fillers) filler.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Net.Sockets;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Hardening;

/// <summary>
/// Faults on either side: clients that reset, half-close or vanish, handlers that throw, hang or break
/// their Content-Length. The server keeps serving others and its connection count returns to zero.
/// </summary>
public class FaultTests : TransportTests
{
    private Task<TestServer> StartAsync(Action<HttpServerOptions>? configure = null) =>
        StartAsync(Handle, options =>
        {
            options.DataTimeout = TimeSpan.FromSeconds(3);
            configure?.Invoke(options);
        });

    private readonly TaskCompletionSource _never = new();
    private readonly TaskCompletionSource _hangStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async ValueTask Handle(HttpRequest request, HttpResponse response)
    {
        switch (request.Path)
        {
            case "/upload":
                byte[] body = await request.ReadBodyAsync(1 << 20);
                response.WriteText($"got {body.Length}");
                return;
            case "/stream":
                byte[] block = new byte[64 * 1024];
                for (int i = 0; i < 320; i++) await response.WriteAsync(block); // 20 MiB
                return;
            case "/throw":
                throw new InvalidOperationException("handler bug");
            case "/throw-after-flush":
                response.WriteText(new string('x', 100));
                await response.FlushAsync();
                throw new InvalidOperationException("handler bug after the head was sent");
            case "/hang":
                _hangStarted.TrySetResult();
                await _never.Task;
                return;
            case "/overlong":
                response.ContentLength = 5;
                response.Write("0123456789"u8);
                return;
            case "/short":
                response.ContentLength = 50;
                response.Write("0123456789"u8);
                return;
            default:
                response.WriteText("Hello");
                return;
        }
    }

    private static async Task AssertStillServingAsync(TestServer server)
    {
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync(timeout: ServerTiming.HangBound);
        Assert.Equal("Hello", response.BodyText);
    }

    private static async Task AssertNoConnectionsLeftAsync(TestServer server, TimeSpan? within = null) =>
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, within ?? ServerTiming.HangBound),
            $"{server.Server.ConnectionCount} connection(s) still open");

    private static List<string> UnexpectedErrors(TestServer server)
    {
        lock (server.Errors) return server.Errors.Where(e => !e.Contains("handler failed", StringComparison.Ordinal)).ToList();
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHo")]
    [InlineData("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")]
    [InlineData("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")]
    public async Task A_client_that_resets_mid_request_leaves_nothing_behind(string partial)
    {
        await using var server = await StartAsync();
        for (int i = 0; i < 20; i++)
        {
            Socket socket = await Hostile.ConnectAsync(server.Port);
            await Hostile.SendAsync(socket, partial);
            await Task.Delay(5);
            Hostile.Reset(socket);
        }
        await AssertNoConnectionsLeftAsync(server);
        await AssertStillServingAsync(server);
        await AssertNoConnectionsLeftAsync(server);
        Assert.Empty(UnexpectedErrors(server));
    }

    [Fact]
    public async Task A_client_that_resets_mid_response_leaves_nothing_behind()
    {
        await using var server = await StartAsync();
        for (int i = 0; i < 5; i++)
        {
            Socket socket = await Hostile.ConnectAsync(server.Port);
            await Hostile.SendAsync(socket, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
            var buffer = new byte[64 * 1024];
            int read = 0;
            while (read < 100_000) read += await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(ServerTiming.HangBound);
            Hostile.Reset(socket);
        }
        await AssertNoConnectionsLeftAsync(server);
        await AssertStillServingAsync(server);
        Assert.Empty(UnexpectedErrors(server));
    }

    [Fact]
    public async Task A_client_that_half_closes_after_its_requests_still_gets_every_response()
    {
        await using var server = await StartAsync();
        using Socket socket = await Hostile.ConnectAsync(server.Port);
        await Hostile.SendAsync(socket, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        socket.Shutdown(SocketShutdown.Send);
        string? all = await Hostile.ReadToCloseAsync(socket, ServerTiming.HangBound);
        Assert.NotNull(all);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(all, "HTTP/1.1 200 "));
        Assert.EndsWith("got 3", all);
        await AssertNoConnectionsLeftAsync(server);
    }

    [Fact]
    public async Task A_client_that_vanishes_mid_body_ends_only_its_own_connection()
    {
        await using var server = await StartAsync();
        using Socket socket = await Hostile.ConnectAsync(server.Port);
        await Hostile.SendAsync(socket, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
        socket.Shutdown(SocketShutdown.Send);
        string? rest = await Hostile.ReadToCloseAsync(socket, ServerTiming.HangBound);
        Assert.NotNull(rest);
        Assert.DoesNotContain("got ", rest);
        await AssertNoConnectionsLeftAsync(server);
        await AssertStillServingAsync(server);
        Assert.Empty(UnexpectedErrors(server));
    }

    [Fact]
    public async Task A_client_that_goes_silent_mid_head_is_closed_at_the_header_timeout()
    {
        await using var server = await StartAsync(o => o.RequestHeadersTimeout = TimeSpan.FromSeconds(1));
        using Socket socket = await Hostile.ConnectAsync(server.Port);
        await Hostile.SendAsync(socket, "GET / HTTP/1.1\r\nHost: x\r\n");
        string? rest = await Hostile.ReadToCloseAsync(socket, ServerTiming.HangBound);
        Assert.NotNull(rest);
        Assert.StartsWith("HTTP/1.1 408 ", rest);
        await AssertNoConnectionsLeftAsync(server);
    }

    [Fact]
    public async Task A_handler_that_throws_gets_500_and_the_connection_keeps_serving()
    {
        await using var server = await StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse failed = await connection.ReadResponseAsync();
        Assert.Equal(500, failed.StatusCode);
        Assert.DoesNotContain("handler bug", failed.BodyText);
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello", (await connection.ReadResponseAsync()).BodyText);
        lock (server.Errors) Assert.Contains(server.Errors, e => e.Contains("handler bug", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_handler_that_throws_after_sending_part_of_its_response_ends_that_connection_only()
    {
        await using var server = await StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /throw-after-flush HTTP/1.1\r\nHost: x\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync(ServerTiming.HangBound);
        Assert.StartsWith("HTTP/1.1 200 ", all);
        Assert.DoesNotContain("0\r\n\r\n", all); // no terminating chunk: the client sees a truncated body, not a complete one
        await AssertNoConnectionsLeftAsync(server);
        await AssertStillServingAsync(server);
    }

    [Fact]
    public async Task A_handler_that_writes_past_its_Content_Length_never_sends_the_extra_bytes()
    {
        await using var server = await StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /overlong HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync(timeout: ServerTiming.HangBound);
        Assert.Equal(500, response.StatusCode);
        Assert.DoesNotContain("56789", response.BodyText);
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_handler_that_writes_less_than_its_Content_Length_gets_500_and_a_close_instead()
    {
        await using var server = await StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /short HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync(ServerTiming.HangBound);
        Assert.StartsWith("HTTP/1.1 500 ", all);
        Assert.Contains("Connection: close\r\n", all);
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(all, "HTTP/1.1 "));
        Assert.DoesNotContain("0123456789", all);
        await AssertNoConnectionsLeftAsync(server);
        await AssertStillServingAsync(server);
    }

    [Fact]
    public async Task A_short_Content_Length_does_not_lose_the_responses_pipelined_before_it()
    {
        await using var server = await StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /short HTTP/1.1\r\nHost: x\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync(ServerTiming.HangBound);
        Assert.StartsWith("HTTP/1.1 200 ", all);
        Assert.Contains("Hello", all);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(all, "HTTP/1.1 "));
        await AssertNoConnectionsLeftAsync(server);
    }

    [Fact]
    public async Task A_handler_that_hangs_is_cut_off_at_the_end_of_the_drain_and_the_stop_returns()
    {
        var server = await StartAsync();
        await using RawConnection hung = await server.ConnectAsync();
        await hung.SendAsync("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        await _hangStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await AssertStillServingAsync(server);
        // Longer than the second a stop gives forced closes, so a stop that skipped the drain shows.
        var drain = TimeSpan.FromSeconds(3);
        var clock = Stopwatch.StartNew();
        await server.Server.StopAsync(drain).WaitAsync(TimeSpan.FromSeconds(60));
        TimeSpan stopTook = clock.Elapsed;
        // The stop waited the whole drain for the handler in flight, then cut it off and returned within the
        // second it gives forced closes.
        Assert.True(stopTook >= drain - ServerTiming.CoarseClock, $"StopAsync returned after {stopTook.TotalSeconds:F2} s, without waiting out the {drain.TotalSeconds} s drain");
        Assert.True(stopTook <= drain + TimeSpan.FromSeconds(1) + ServerTiming.LoadAllowance, $"StopAsync took {stopTook.TotalSeconds:F1} s with a {drain.TotalSeconds} s drain");
        Assert.True(await hung.IsClosedByServerAsync(TimeSpan.FromSeconds(30)), "the hung request's connection was not closed");
        _never.SetResult();
        await AssertNoConnectionsLeftAsync(server);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollFaultTests : FaultTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

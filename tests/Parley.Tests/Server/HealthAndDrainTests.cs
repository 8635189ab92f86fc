using System.Net;
using System.Net.Sockets;
using Parley.Server;
using Parley.Tests.Hardening;

namespace Parley.Tests.Server;

/// <summary>
/// Liveness and readiness endpoints, and the drain of a stop with a delay: readiness off at once, new
/// connections still accepted and every response closing its connection during the delay, idle connections
/// left alone until it ends, then closed; no new connection after. Raw sockets, on both transports and TLS.
/// </summary>
public class HealthAndDrainTests : TransportTests
{
    private static readonly RequestHandler Hello = (request, response) =>
    {
        response.WriteText($"hello {request.Path}");
        return ValueTask.CompletedTask;
    };

    private Task<TestServer> StartWithHealthAsync(Action<HttpServerOptions>? configure = null) =>
        StartAsync(Hello, options =>
        {
            options.HealthChecks = new HealthCheckOptions();
            configure?.Invoke(options);
        });

    private static async Task<RawResponse> AskAsync(RawConnection connection, string method, string target, bool head = false)
    {
        await connection.SendAsync($"{method} {target} HTTP/1.1\r\nHost: x\r\n{(method == "POST" ? "Content-Length: 0\r\n" : "")}\r\n");
        return await connection.ReadResponseAsync(headRequest: head);
    }

    [Fact]
    public async Task Liveness_and_readiness_answer_GET_and_HEAD_uncached_and_other_paths_reach_the_handler()
    {
        await using TestServer server = await StartWithHealthAsync();
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse live = await AskAsync(connection, "GET", "/healthz");
        Assert.Equal((200, "ok\n", "no-store"), (live.StatusCode, live.BodyText, live.Header("Cache-Control")));
        RawResponse ready = await AskAsync(connection, "GET", "/readyz?verbose=1");
        Assert.Equal((200, "ready\n"), (ready.StatusCode, ready.BodyText));
        RawResponse head = await AskAsync(connection, "HEAD", "/readyz", head: true);
        Assert.Equal((200, ""), (head.StatusCode, head.BodyText));
        RawResponse post = await AskAsync(connection, "POST", "/healthz");
        Assert.Equal((405, "GET, HEAD"), (post.StatusCode, post.Header("Allow")));
        Assert.Equal("hello /healthz/x", (await AskAsync(connection, "GET", "/healthz/x")).BodyText);
        Assert.True(server.Server.IsReady);
    }

    [Fact]
    public async Task Readiness_follows_the_applications_check_and_the_paths_can_be_moved()
    {
        bool warmedUp = false;
        await using TestServer server = await StartAsync(Hello, options => options.HealthChecks = new HealthCheckOptions
        {
            LivenessPath = "/live",
            ReadinessPath = "/ready",
            ReadinessCheck = () => warmedUp,
        });
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse notReady = await AskAsync(connection, "GET", "/ready");
        Assert.Equal((503, "not ready\n"), (notReady.StatusCode, notReady.BodyText));
        Assert.False(server.Server.IsReady);
        warmedUp = true;
        Assert.Equal(200, (await AskAsync(connection, "GET", "/ready")).StatusCode);
        Assert.Equal(200, (await AskAsync(connection, "GET", "/live")).StatusCode);
        Assert.Equal("hello /healthz", (await AskAsync(connection, "GET", "/healthz")).BodyText);
    }

    [Fact]
    public void The_same_path_for_liveness_and_readiness_is_refused()
    {
        var options = new HttpServerOptions { HealthChecks = new HealthCheckOptions { LivenessPath = "/health", ReadinessPath = "/health" } };
        Assert.Contains("must differ", Assert.Throws<ArgumentException>(() => new HttpServer(options, Hello)).Message);
    }

    [Fact]
    public async Task During_the_drain_delay_readiness_is_off_new_connections_are_served_and_every_response_closes_its_connection()
    {
        await using TestServer server = await StartWithHealthAsync(options => options.DrainDelay = TimeSpan.FromHours(1));
        await using RawConnection busy = await server.ConnectAsync();
        await using RawConnection idle = await server.ConnectAsync();
        await using RawConnection idleToTheEnd = await server.ConnectAsync();
        foreach (RawConnection connection in new[] { busy, idle, idleToTheEnd })
        {
            RawResponse before = await AskAsync(connection, "GET", "/");
            Assert.Null(before.Header("Connection"));
        }

        Task stop = server.Server.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(server.Server.IsStopping);
        Assert.False(server.Server.IsReady);

        // A connection opened now is still accepted; readiness says draining, and the connection closes.
        await using (RawConnection late = await server.ConnectAsync())
        {
            RawResponse readiness = await AskAsync(late, "GET", "/readyz");
            Assert.Equal((503, "draining\n", "close"), (readiness.StatusCode, readiness.BodyText, readiness.Header("Connection")));
            Assert.True(await late.IsClosedByServerAsync());
        }
        // A request on a kept-alive connection is answered, with Connection: close.
        RawResponse last = await AskAsync(busy, "GET", "/last");
        Assert.Equal((200, "hello /last", "close"), (last.StatusCode, last.BodyText, last.Header("Connection")));
        Assert.True(await busy.IsClosedByServerAsync());
        // An idle connection was left open through the delay: a balancer may be sending on it right now.
        RawResponse onIdle = await AskAsync(idle, "GET", "/after-idle");
        Assert.Equal((200, "close"), (onIdle.StatusCode, onIdle.Header("Connection")));

        // A second stop ends the delay: the connection still idle is closed and nothing new is accepted.
        Task second = server.Server.StopAsync();
        Assert.Same(stop, second);
        await stop.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("", await idleToTheEnd.ReadUntilCloseAsync(TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAnyAsync<SocketException>(() => new TcpClient().ConnectAsync(IPAddress.Loopback, server.Port));
    }

    // The next request reached the server's socket after the stop began, while the handler before it still
    // ran: the client sent it on a connection the server had kept open, so it is answered (and that answer
    // closes the connection), not dropped as the connection turns idle.
    [Fact]
    public async Task A_request_that_arrived_during_the_stop_while_the_one_before_was_handled_is_answered()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/first")
            {
                // The whole response goes out, keeping the connection open, before the stop begins.
                response.ContentLength = 5;
                response.Write("first"u8);
                await response.FlushAsync();
                entered.SetResult();
                await release.Task;
                return;
            }
            response.WriteText($"hello {request.Path}");
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("first", first.BodyText);
        Assert.Null(first.Header("Connection"));
        await entered.Task.WaitAsync(ServerTiming.HangBound);

        Task stop = server.Server.StopAsync(TimeSpan.FromMinutes(1), TimeSpan.Zero);
        // From here on a connection that turns idle is closed.
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ClosesIdleConnections, ServerTiming.HangBound), "the stop did not begin closing idle connections");
        // On loopback the request is in the server's socket when the send returns.
        await connection.SendAsync("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
        release.SetResult();

        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal("hello /second", second.BodyText);
        Assert.Equal("close", second.Header("Connection"));
        await stop.WaitAsync(ServerTiming.HangBound);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollHealthAndDrainTests : HealthAndDrainTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

/// <summary>The same tests through an HTTPS listener.</summary>
public class TlsHealthAndDrainTests : HealthAndDrainTests
{
    protected override bool OverTls => true;
}

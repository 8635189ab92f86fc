using System.Diagnostics;
using Parley.Server;
using static Parley.Tests.Server.ServerTiming;

namespace Parley.Tests.Server;

/// <summary>Malformed requests get the RFC's status and a closed connection (RFC 9112 §2-§7, RFC 9110 §15).</summary>
public class ServerErrorTests : TransportTests
{
    private static ValueTask Hello(HttpRequest request, HttpResponse response)
    {
        response.WriteText("Hello");
        return ValueTask.CompletedTask;
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400)]                                   // §5.1 whitespace before colon
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400)]               // §5.2 obs-fold
    [InlineData("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400)]                               // §2.2 bare CR
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 400)]                          // RFC 9110 §5.5 NUL
    [InlineData("GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400)]                                    // invalid field name
    [InlineData("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400)]                                     // invalid method
    [InlineData("GET / HTTP/1.1\r\n\r\n", 400)]                                                // §3.2 missing Host
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)]                         // §3.2 repeated Host
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400)]             // RFC 9110 §8.6
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400)]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400)] // §6.3
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400)] // §6.3 final not chunked
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501)] // §6.1 unknown coding
    [InlineData("GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400)]                               // invalid target
    [InlineData("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)]                                     // RFC 9110 §15.6.6
    [InlineData("GET / HTTP/1.1\nHost: x\n\n", 400)]                                            // bare LF (our strict choice)
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417)]                // RFC 9110 §10.1.1
    public async Task Rejects_malformed_requests_with_the_RFC_status_and_closes(string request, int status)
    {
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync(request);
        Assert.StartsWith($"HTTP/1.1 {status} ", all);
        Assert.Contains("Connection: close\r\n", all);
    }

    [Fact]
    public async Task A_chunked_body_with_a_bare_LF_in_an_extension_is_rejected_when_read()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            await request.ReadBodyAsync(1000);
            response.WriteText("read");
        });
        string all = await server.ExchangeUntilCloseAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400 ", all);
        Assert.DoesNotContain("read", all);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(all, "HTTP/1.1 "));
    }

    [Theory]
    [InlineData("zz\r\n")]                      // RFC 9112 §7.1: chunk-size = 1*HEXDIG
    [InlineData("5\r\nhelloXX0\r\n\r\n")]     // chunk data not followed by CRLF
    [InlineData("fffffffffffffffff\r\n")]       // overflow
    [InlineData("5;=x\r\nhello\r\n0\r\n\r\n")] // extension without a name
    public async Task Malformed_chunked_framing_read_by_the_handler_gets_400_and_closes(string body)
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            await request.ReadBodyAsync(1000);
            response.WriteText("read");
        });
        string all = await server.ExchangeUntilCloseAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
        Assert.StartsWith("HTTP/1.1 400 ", all);
        Assert.Contains("Connection: close\r\n", all);
    }

    [Fact]
    public async Task An_empty_Host_gets_400_without_a_default_host() // RFC 9112 §3.3
    {
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost:\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400 ", all);
        Assert.Contains("Connection: close\r\n", all);
        Assert.Contains("empty Host", all);
    }

    [Fact]
    public async Task An_empty_Host_takes_the_configured_default_host() // RFC 9112 §3.3
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText($"host={request.Host}");
            return ValueTask.CompletedTask;
        }, o => o.DefaultHost = "example.test:8080");
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost:\r\n\r\n");
        Assert.Equal("host=example.test:8080", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Assert.Equal("host=example.test:8080", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: named.test\r\n\r\n");
        Assert.Equal("host=named.test", (await connection.ReadResponseAsync()).BodyText);
    }

    [Theory]
    [InlineData("GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /secret.txt%00.png HTTP/1.1\r\nHost: x\r\n\r\n")]
    public async Task A_percent_encoded_NUL_in_the_path_gets_400(string request) // our choice, RFC 3986 §7.3
    {
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync(request);
        Assert.StartsWith("HTTP/1.1 400 ", all);
        Assert.Contains("Connection: close\r\n", all);
    }

    [Theory]
    [InlineData("Content-Length: 5, 5\r\n")]
    [InlineData("Content-Length: 5\r\nContent-Length: 5\r\n")]
    public async Task A_Content_Length_list_of_identical_values_gets_400(string fields) // RFC 9110 §8.6: MAY reject
    {
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync($"POST / HTTP/1.1\r\nHost: x\r\n{fields}\r\nhello");
        Assert.StartsWith("HTTP/1.1 400 ", all);
        Assert.Contains("Connection: close\r\n", all);
    }

    [Fact]
    public async Task A_too_long_method_gets_501_not_431() // RFC 9112 §3
    {
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync($"{new string('M', 2_000_000)} / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 501 Not Implemented\r\n", all);
        Assert.Contains("Connection: close\r\n", all);
    }

    [Fact]
    public async Task A_too_long_target_gets_414()
    {
        await using var server = await StartAsync(Hello, o => o.HeadLimits = o.HeadLimits with { MaxTargetLength = 100 });
        string all = await server.ExchangeUntilCloseAsync($"GET /{new string('a', 200)} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 414 URI Too Long\r\n", all);
    }

    [Fact]
    public async Task A_too_large_header_section_gets_431()
    {
        await using var server = await StartAsync(Hello, o => o.HeadLimits = o.HeadLimits with { MaxHeadBytes = 1024 });
        string all = await server.ExchangeUntilCloseAsync($"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 2000)}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", all);
    }

    [Fact]
    public async Task Too_many_fields_get_431()
    {
        await using var server = await StartAsync(Hello, o => o.HeadLimits = o.HeadLimits with { MaxFieldCount = 5 });
        string fields = string.Concat(Enumerable.Range(0, 10).Select(i => $"X-{i}: v\r\n"));
        string all = await server.ExchangeUntilCloseAsync($"GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", all);
    }

    [Fact]
    public async Task A_slow_client_gets_408_when_the_header_timeout_expires()
    {
        var timeout = TimeSpan.FromSeconds(1);
        await using var server = await StartAsync(Hello, o => o.RequestHeadersTimeout = timeout);
        await using var connection = await server.ConnectAsync();
        var watch = Stopwatch.StartNew();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n");
        string all = await connection.ReadUntilCloseAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", all);
        // Not before the timeout (counted from the head's first bytes), and at the first heartbeat after it.
        Assert.InRange(watch.Elapsed, timeout - CoarseClock, timeout + Heartbeat + LoadAllowance);
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_at_the_header_timeout_not_the_keep_alive_one()
    {
        // Before its first request a connection waits as long as a head may take, not as long as a
        // kept-alive connection may idle.
        var timeout = TimeSpan.FromSeconds(1);
        await using var server = await StartAsync(Hello, o =>
        {
            o.RequestHeadersTimeout = timeout;
            o.KeepAliveTimeout = TimeSpan.FromMinutes(10);
        });
        var watch = Stopwatch.StartNew();
        await using var connection = await server.ConnectAsync();
        string rest = await connection.ReadUntilCloseAsync(timeout + Heartbeat + LoadAllowance);
        Assert.Equal("", rest);
        Assert.True(watch.Elapsed >= timeout - CoarseClock, $"closed after {watch.Elapsed.TotalSeconds:F2} s, before the {timeout.TotalSeconds} s timeout");
    }

    [Theory]
    [InlineData("NOT AN HTTP REQUEST\r\n\r\n", "HTTP/1.1 400 ")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX-Cut", "")]
    public async Task A_head_that_is_rejected_or_cut_short_never_reaches_the_handler(string sent, string answer)
    {
        int calls = 0;
        await using var server = await StartAsync((request, response) =>
        {
            Interlocked.Increment(ref calls);
            response.WriteText("handled");
            return ValueTask.CompletedTask;
        });
        await using (var connection = await server.ConnectAsync())
        {
            await connection.SendAsync(sent);
            await connection.ShutdownSendAsync();
            Assert.StartsWith(answer, await connection.ReadUntilCloseAsync(HangBound));
        }
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, HangBound));
        Assert.Equal(0, Volatile.Read(ref calls));
        Assert.Equal(0, server.Server.TotalRequests());
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_pipelined_head_still_arriving_gets_the_whole_header_timeout_from_when_it_is_waited_for()
    {
        // The head timeout runs from when a head is first waited for. A pipelined head that came in with the
        // request before it starts its own clock, however long ago the clock of the head before it started.
        var timeout = TimeSpan.FromSeconds(4);
        await using var server = await StartAsync(async (request, response) =>
        {
            // A handler slower than the timeout: the first head's clock, carried over, would have run out.
            if (request.Path == "/slow") await Task.Delay(timeout + Heartbeat);
            response.WriteText(request.Path);
        }, o => o.RequestHeadersTimeout = timeout);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /slow HTTP/1.1\r\nHo");
        // The server waits for the rest of the first head: that head's clock has started.
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() =>
        {
            foreach (HttpConnection? open in server.Server.OpenConnections)
            {
                if (open?.StateName == "reading-head") return true;
            }
            return false;
        }, HangBound));
        await connection.SendAsync("st: x\r\n\r\nGET /next HTTP/1.1\r\nHo");
        Assert.Equal("/slow", (await connection.ReadResponseAsync()).BodyText);
        // A client slow with the rest of the next head, but well within the timeout counted from the wait for
        // it: longer than a heartbeat, which would close a connection whose clock had already run out.
        await Task.Delay(Heartbeat * 1.5);
        await connection.SendAsync("st: x\r\n\r\n");
        RawResponse next = await connection.ReadResponseAsync();
        Assert.Equal((200, "/next"), (next.StatusCode, next.BodyText));
    }

    [Fact]
    public async Task An_idle_keep_alive_connection_is_closed_after_its_timeout()
    {
        // Long enough that a server keeping the connection several times longer lands outside the bound.
        var timeout = TimeSpan.FromSeconds(5);
        await using var server = await StartAsync(Hello, o => o.KeepAliveTimeout = timeout);
        await using var connection = await server.ConnectAsync();
        // The clock starts before the request: the idle wait the server times begins after it, so the close
        // can never be seen before the timeout unless the server closed early.
        var watch = Stopwatch.StartNew();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.StartsWith("timeout=5,", response.Header("Keep-Alive"));
        string rest = await connection.ReadUntilCloseAsync(TimeSpan.FromSeconds(60));
        TimeSpan closedAfter = watch.Elapsed;
        Assert.Equal("", rest);
        // The promise: closed once the timeout has passed, at the first heartbeat after it (one a second),
        // with a few seconds' allowance for a loaded machine's late timer and late reads.
        Assert.True(closedAfter >= timeout - CoarseClock, $"closed after {closedAfter.TotalSeconds:F2} s, before the {timeout.TotalSeconds} s timeout");
        Assert.True(closedAfter <= timeout + Heartbeat + LoadAllowance,
            $"closed after {closedAfter.TotalSeconds:F2} s: later than the {timeout.TotalSeconds} s timeout plus a heartbeat");
    }

    [Fact]
    public async Task A_body_trickled_below_the_minimum_data_rate_is_cut_off()
    {
        var bodyErrors = new List<string>();
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await request.ReadBodyAsync(1 << 20);
                response.WriteText("read");
            }
            catch (IOException ex)
            {
                lock (bodyErrors) bodyErrors.Add(ex.Message);
                throw;
            }
        }, o =>
        {
            o.DataTimeout = TimeSpan.FromSeconds(30); // each byte arrives well within this
            o.MinRequestBodyDataRate = 100;
            o.MinDataRateGracePeriod = TimeSpan.FromSeconds(1);
        });
        await using var connection = await server.ConnectAsync();
        var watch = Stopwatch.StartNew();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
        bool closed = false;
        try
        {
            // 10 bytes a second: far below 100 B/s once the grace second has passed.
            while (watch.Elapsed < TimeSpan.FromSeconds(15))
            {
                await connection.SendAsync("0123456789");
                await Task.Delay(1000);
            }
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException || (ex is IOException && server.IsTls))
        {
            // Over TLS, SslStream reports the broken connection as an IOException.
            closed = true;
        }
        closed = closed || await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(1));
        Assert.True(closed, "the trickling client was not disconnected");
        // The rate is checked once the 1 s grace has passed; the cut comes at the next heartbeat, and the
        // client, sending once a second, sees it at its next send at the latest.
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1) + Heartbeat + TimeSpan.FromSeconds(1) + LoadAllowance);
    }

    [Fact]
    public async Task A_body_sent_at_a_steady_rate_is_read_in_full()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(1 << 20);
            response.WriteText(body.Length.ToString());
        }, o =>
        {
            o.MinRequestBodyDataRate = 100;
            o.MinDataRateGracePeriod = TimeSpan.FromSeconds(1);
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n");
        for (int i = 0; i < 8; i++) // 250 bytes every 250 ms: 1,000 B/s
        {
            await connection.SendAsync(new string('a', 250));
            await Task.Delay(250);
        }
        Assert.Equal("2000", (await connection.ReadResponseAsync()).BodyText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_sent_ahead_of_the_minimum_rate_may_pause_for_the_time_it_has_earned(bool chunked)
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(1 << 20);
            response.WriteText(body.Length.ToString());
        }, o =>
        {
            o.DataTimeout = TimeSpan.FromMinutes(1);
            o.MinRequestBodyDataRate = 100;
            o.MinDataRateGracePeriod = TimeSpan.FromSeconds(1);
        });
        await using var connection = await server.ConnectAsync();
        // 2,000 bytes at once: at 100 B/s the body keeps the rate until 1 s + 20 s after its first wait.
        string first = new('a', 2000);
        await connection.SendAsync(chunked
            ? $"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n{first}\r\n"
            : $"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2001\r\n\r\n{first}");
        // The client pauses (the pause is the behaviour under test): past the grace second and two heartbeats,
        // where a server that gave no credit for the bytes already sent would cut the connection.
        await Task.Delay(Heartbeat * 3);
        await connection.SendAsync(chunked ? "1\r\nb\r\n0\r\n\r\n" : "b");
        Assert.Equal("2001", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Connections_beyond_the_limit_get_503_while_existing_ones_keep_working()
    {
        await using var server = await StartAsync(Hello, o => o.MaxConcurrentConnections = 1);
        await using var first = await server.ConnectAsync();
        await first.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).StatusCode);
        if (server.IsTls)
        {
            // A TLS listener closes before the handshake (a plain 503 would be garbage to a TLS client).
            await Assert.ThrowsAnyAsync<Exception>(server.ConnectAsync);
        }
        else
        {
            await using var second = await server.ConnectAsync();
            string refused = await second.ReadUntilCloseAsync();
            Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", refused);
        }
        await first.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await first.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task A_graceful_stop_finishes_the_request_in_flight_and_closes_idle_connections()
    {
        int port;
        var handlerStarted = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/slow")
            {
                handlerStarted.SetResult();
                await release.Task;
            }
            response.WriteText("done " + request.Path);
        });
        port = server.Port;
        await using var idle = await server.ConnectAsync();
        await idle.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        await idle.ReadResponseAsync();

        await using var busy = await server.ConnectAsync();
        await busy.SendAsync("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        await handlerStarted.Task;
        Task stopping = server.Server.StopAsync(TimeSpan.FromSeconds(10));

        Assert.True(await idle.IsClosedByServerAsync());
        Assert.False(stopping.IsCompleted);
        release.SetResult();
        RawResponse response = await busy.ReadResponseAsync();
        Assert.Equal("done /slow", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
        // The stop ends once the server has let go of both connections, just after their sockets close.
        await stopping.WaitAsync(HangBound);
        Assert.False(await Interop.Loopback.CanConnectAsync(port));
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollServerErrorTests : ServerErrorTests
{
    protected override TransportKind Transport => TransportKind.Epoll;

    [Fact]
    public async Task A_head_that_arrived_while_the_loop_was_busy_gets_408_when_the_idle_wait_expires()
    {
        // One loop thread, and a handler on it that holds it: bytes that reach an idle connection then stay
        // unread, as they do when a busy machine runs the connection's code late. When its idle wait
        // expires, the client has begun a request and is owed a 408, not a silent close.
        var keepAlive = TimeSpan.FromSeconds(3);
        using var loopHeld = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var holder = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Target == "/hold")
            {
                loopHeld.Set();
                release.Wait(TimeSpan.FromSeconds(60));
            }
            else
            {
                // Sent from the loop thread: the holding request is read right after this exchange ends.
                holder.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"u8);
            }
            response.WriteText("ok");
            return ValueTask.CompletedTask;
        }, o =>
        {
            o.EpollThreadCount = 1;
            o.KeepAliveTimeout = keepAlive;
            o.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
        });
        await holder.ConnectAsync(System.Net.IPAddress.Loopback, server.Port);
        await using var connection = await server.ConnectAsync();
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 2, LoadAllowance), "the server did not accept both connections");
        var idle = Stopwatch.StartNew();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        try
        {
            Assert.True(loopHeld.Wait(LoadAllowance), "the holding request never ran");
            // Otherwise the idle wait may have ended before the head was sent, and a silent close is right.
            Assert.True(idle.Elapsed < keepAlive, $"the loop was held only {idle.Elapsed.TotalSeconds:F1} s after the exchange");
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n");
            string all = await connection.ReadUntilCloseAsync(keepAlive + Heartbeat + LoadAllowance);
            Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", all);
        }
        finally
        {
            release.Set();
        }
    }
}

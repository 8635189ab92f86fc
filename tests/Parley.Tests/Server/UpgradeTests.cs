using System.Text;
using Parley.Server;
using Parley.Tests.Hardening;

namespace Parley.Tests.Server;

/// <summary>
/// RFC 9110 §7.8: a handler answers 101 Switching Protocols and gets the connection as a duplex stream, with
/// the bytes already received after the request head first; the engine then stays out of the way until the
/// stream is disposed. Run on both transports and over TLS.
/// </summary>
public class UpgradeTests : TransportTests
{
    private const string UpgradeRequest = "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

    // Echoes every byte until the client ends its side, then disposes the stream.
    private static async ValueTask EchoAsync(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("X-Echo", "yes");
        await using Stream stream = await response.SwitchProtocolsAsync("echo");
        byte[] buffer = new byte[256];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) await stream.WriteAsync(buffer.AsMemory(0, n));
    }

    [Fact]
    public async Task Switching_protocols_sends_101_and_hands_over_the_connection_with_early_bytes_first()
    {
        await using var server = await StartAsync(EchoAsync);
        await using RawConnection connection = await server.ConnectAsync();
        // The first bytes of the new protocol travel with the request head, in the same write.
        await connection.SendAsync(UpgradeRequest + "early");
        RawResponse head = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 101 Switching Protocols", head.StatusLine);
        Assert.Equal("upgrade", head.Header("Connection"));
        Assert.Equal("echo", head.Header("Upgrade"));
        Assert.Equal("yes", head.Header("X-Echo"));
        Assert.Null(head.Header("Content-Length"));
        Assert.Null(head.Header("Keep-Alive"));
        Assert.Equal("early", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(5)));

        await connection.SendAsync("and more");
        Assert.Equal("and more", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(8)));

        // The client ends its side: the handler's read returns 0, it disposes the stream, the connection closes.
        await connection.ShutdownSendAsync();
        Assert.Equal("", await connection.ReadUntilCloseAsync());
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_pipelined_response_before_the_upgrade_is_sent_first()
    {
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/echo") return EchoAsync(request, response);
            response.WriteText("before");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + UpgradeRequest + "ping");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("before", first.BodyText);
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(101, second.StatusCode);
        Assert.Equal("ping", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(4)));
    }

    [Theory]
    // RFC 9110 §7.8: never to a protocol the client did not offer; an HTTP/1.0 request's Upgrade is ignored;
    // Upgrade without the "upgrade" connection option is not a request to switch.
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n\r\n")]
    public async Task Switching_to_a_protocol_the_request_does_not_offer_is_refused(string request)
    {
        string? refusal = null;
        bool offered = true;
        await using var server = await StartAsync(async (req, response) =>
        {
            offered = req.IsUpgradeRequest && req.Headers["Upgrade"] == "echo";
            try
            {
                await response.SwitchProtocolsAsync("echo");
            }
            catch (InvalidOperationException ex)
            {
                refusal = ex.Message;
            }
            response.WriteText("still HTTP");
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(request);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("still HTTP", response.BodyText);
        Assert.False(offered);
        Assert.Contains("does not offer an upgrade to 'echo'", refusal);
    }

    [Fact]
    public async Task A_1xx_cannot_be_set_as_the_final_status()
    {
        string? refusal = null;
        await using var server = await StartAsync((request, response) =>
        {
            try
            {
                response.StatusCode = 101;
            }
            catch (ArgumentOutOfRangeException ex)
            {
                refusal = ex.Message;
            }
            response.WriteText("not switched");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Contains("SwitchProtocolsAsync", refusal);
    }

    [Fact]
    public async Task The_request_body_must_be_read_before_switching()
    {
        string? refusal = null;
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await response.SwitchProtocolsAsync("echo");
            }
            catch (InvalidOperationException ex)
            {
                refusal = ex.Message;
            }
            response.WriteText("no");
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 100\r\n\r\nabc");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("no", response.BodyText);
        Assert.Contains("request body must be read", refusal);
    }

    [Fact]
    public async Task The_stream_may_outlive_the_handler_and_the_connection_closes_when_it_is_disposed()
    {
        var handed = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) => handed.SetResult(await response.SwitchProtocolsAsync("echo")));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        Stream stream = await handed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The handler has returned; the stream still works both ways.
        await connection.SendAsync("x");
        byte[] one = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(one));
        await stream.WriteAsync("later"u8.ToArray());
        Assert.Equal("later", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(5)));
        Assert.Equal(1, server.Server.ConnectionCount);
        await stream.DisposeAsync();
        Assert.Equal("", await connection.ReadUntilCloseAsync());
    }

    [Fact]
    public async Task An_upgraded_connection_counts_against_the_connection_limit()
    {
        var handed = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/echo") handed.SetResult(await response.SwitchProtocolsAsync("echo"));
            else response.WriteText("served");
        }, options => options.MaxConcurrentConnections = 1);
        await using RawConnection upgraded = await server.ConnectAsync();
        await upgraded.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await upgraded.ReadResponseAsync()).StatusCode);
        Stream stream = await handed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Over the limit: refused (503 in plain HTTP; a TLS listener closes without a word).
        if (!OverTls)
        {
            string refused = await server.ExchangeUntilCloseAsync("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 503", refused);
        }
        else
        {
            await Assert.ThrowsAnyAsync<Exception>(server.ConnectAsync);
        }

        await stream.DisposeAsync();
        Assert.Equal("", await upgraded.ReadUntilCloseAsync());
        // The server closes the socket before it lets go of the connection's slot: a connection opened as the
        // client sees the close may still be refused. Once the slot is free, the next one is served.
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"the server still counts {server.Server.ConnectionCount} connection(s)");
        await using RawConnection next = await server.ConnectAsync();
        await next.SendAsync("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse served = await next.ReadResponseAsync();
        Assert.Equal(200, served.StatusCode);
        Assert.Equal("served", served.BodyText);
    }

    [Fact]
    public async Task A_graceful_stop_closes_an_upgraded_connection()
    {
        var readEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StartAsync(async (request, response) =>
        {
            await using Stream stream = await response.SwitchProtocolsAsync("echo");
            started.SetResult();
            try
            {
                while (await stream.ReadAsync(new byte[16]) > 0)
                {
                }
            }
            catch (IOException)
            {
            }
            readEnded.SetResult();
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // A drain period far longer than the test's wait: the stop must not wait for it.
        await server.Server.StopAsync(TimeSpan.FromMinutes(10)).WaitAsync(TimeSpan.FromSeconds(60));
        await readEnded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await connection.IsClosedByServerAsync());
        Assert.Equal(0, server.Server.ConnectionCount);
    }
}

public class EpollUpgradeTests : UpgradeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

public class TlsUpgradeTests : UpgradeTests
{
    protected override bool OverTls => true;
}

public class EpollTlsUpgradeTests : UpgradeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;

    protected override bool OverTls => true;
}

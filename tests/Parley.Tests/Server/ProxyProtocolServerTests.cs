using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Parley.Server;
using Parley.Tests.Http1;

namespace Parley.Tests.Server;

/// <summary>
/// A listener with <see cref="ListenerOptions.ProxyProtocol"/> over raw sockets: the client address of
/// the PROXY header reaches the handler while the TCP peer stays visible; a missing, malformed or late
/// header closes the connection with nothing sent. On both transports, plain and (before the handshake) TLS.
/// </summary>
public class ProxyProtocolServerTests : TransportTests
{
    private static readonly byte[] V1 = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"u8.ToArray();

    // Answers with what the request says about where it came from.
    private static readonly RequestHandler Describe = (request, response) =>
    {
        ReadOnlyMemory<byte>? authority = request.ProxyProtocol?.FindTlv(0x02);
        response.WriteText($"remote={request.RemoteEndPoint} peer={request.PeerEndPoint} version={request.ProxyProtocol?.Version} " +
            $"command={request.ProxyProtocol?.Command} authority={(authority is { } a ? Encoding.ASCII.GetString(a.Span) : "")}");
        return ValueTask.CompletedTask;
    };

    private Task<TestServer> StartProxiedAsync(Action<HttpServerOptions>? configure = null) =>
        StartAsync(Describe, options =>
        {
            if (options.Listeners.Count == 0) options.Listeners.Add(ListenerOptions.Http("127.0.0.1", 0));
            options.Listeners[0].ProxyProtocol = true;
            configure?.Invoke(options);
        });

    private async Task<RawConnection> ConnectWithHeaderAsync(TestServer server, byte[] header)
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, server.Port);
        if (OverTls) return await RawConnection.OpenTlsAsync(endPoint, preface: header);
        RawConnection connection = await RawConnection.OpenAsync(endPoint);
        await connection.SendAsync(header);
        return connection;
    }

    private static async Task<string> GetAsync(RawConnection connection)
    {
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        return response.BodyText;
    }

    private static string PeerOf(RawConnection connection) => connection.Socket.LocalEndPoint!.ToString()!;

    [Fact]
    public async Task Version_1_client_address_reaches_the_handler_on_every_request_of_the_connection()
    {
        await using TestServer server = await StartProxiedAsync();
        await using RawConnection connection = await ConnectWithHeaderAsync(server, V1);
        string expected = $"remote=192.0.2.10:56324 peer={PeerOf(connection)} version=1 command=Proxy authority=";
        Assert.Equal(expected, await GetAsync(connection));
        Assert.Equal(expected, await GetAsync(connection));
    }

    [Fact]
    public async Task Version_2_client_address_and_TLVs_reach_the_handler()
    {
        byte[] tlv = [0x02, 0x00, 0x0B, .. "example.com"u8];
        byte[] header = ProxyProtocolParserTests.V2(0x21, 0x11, ProxyProtocolParserTests.Inet4Block("203.0.113.7", 40000, "192.0.2.1", 443, tlv));
        await using TestServer server = await StartProxiedAsync();
        await using RawConnection connection = await ConnectWithHeaderAsync(server, header);
        Assert.Equal($"remote=203.0.113.7:40000 peer={PeerOf(connection)} version=2 command=Proxy authority=example.com", await GetAsync(connection));
    }

    [Fact]
    public async Task Version_2_LOCAL_keeps_the_real_peer()
    {
        await using TestServer server = await StartProxiedAsync();
        await using RawConnection connection = await ConnectWithHeaderAsync(server, ProxyProtocolParserTests.V2(0x20, 0x00, []));
        string peer = PeerOf(connection);
        Assert.Equal($"remote={peer} peer={peer} version=2 command=Local authority=", await GetAsync(connection));
    }

    [Fact]
    public async Task A_header_and_request_arriving_together_or_one_byte_at_a_time_are_both_read()
    {
        await using TestServer server = await StartProxiedAsync();
        if (!OverTls)
        {
            // Header and request in one segment: the request bytes after the header are not lost.
            await using RawConnection together = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
            await together.SendAsync([.. V1, .. "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8]);
            Assert.StartsWith("remote=192.0.2.10:56324 ", (await together.ReadResponseAsync()).BodyText);
        }
        await using RawConnection trickled = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        await trickled.SendByteByByteAsync(Encoding.Latin1.GetString(V1));
        if (!OverTls)
        {
            Assert.StartsWith("remote=192.0.2.10:56324 ", await GetAsync(trickled));
            return;
        }
        // Over TLS the handshake follows the trickled header on the same socket.
        using var tls = new SslStream(new NetworkStream(trickled.Socket, ownsSocket: false), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(tls, Encoding.Latin1);
        string reply = await reader.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200 ", reply);
        Assert.Contains("remote=192.0.2.10:56324 ", reply);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 99999 443\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 1 2\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("\r\n\r\n\0\r\nQUIT\n\u0013\u0011\0\u000c")]
    public async Task A_missing_or_malformed_header_closes_the_connection_without_a_response(string sent)
    {
        await using TestServer server = await StartProxiedAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        await connection.SendAsync(Encoding.Latin1.GetBytes(sent));
        Assert.Equal("", await connection.ReadUntilCloseAsync());
        Assert.Contains(server.Errors, e => e.StartsWith("PROXY protocol header from 127.0.0.1:") && e.Contains("rejected"));
        // Counted (before the close) as an invalid PROXY header, and as nothing else.
        Assert.Equal(1, server.FailureCount("proxy-header-invalid"));
        Assert.Equal(0, server.FailureCount("connection-failed"));
    }

    [Fact]
    public async Task A_version_2_header_longer_than_the_longest_version_1_line_is_read_whole()
    {
        // 300 bytes of TLVs (a type the receiver ignores, PP2_TYPE_MIN_CUSTOM) before the authority: the header
        // outgrows the 107 bytes a version 1 line may take.
        byte[] custom = [0xE0, 0x01, 0x2C, .. Enumerable.Repeat((byte)'c', 300)];
        byte[] header = ProxyProtocolParserTests.V2(0x21, 0x11, ProxyProtocolParserTests.Inet4Block("203.0.113.7", 40000, "192.0.2.1", 443,
            [.. custom, 0x02, 0x00, 0x0B, .. "example.com"u8]));
        Assert.True(header.Length > 300);
        await using TestServer server = await StartProxiedAsync();
        await using RawConnection connection = await ConnectWithHeaderAsync(server, header);
        Assert.Equal($"remote=203.0.113.7:40000 peer={PeerOf(connection)} version=2 command=Proxy authority=example.com", await GetAsync(connection));
        Assert.Empty(server.Errors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_leaves_inside_its_header_is_closed_with_nothing_sent_logged_or_counted(bool reset)
    {
        await using TestServer server = await StartProxiedAsync();
        await using (RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port)))
        {
            await connection.SendAsync("PROXY TCP4 192.0.2.10");
            if (reset)
            {
                // A reset, not a FIN (SO_LINGER 0).
                connection.Socket.LingerState = new LingerOption(true, 0);
                connection.Socket.Close();
            }
            else
            {
                await connection.ShutdownSendAsync();
                Assert.Equal("", await connection.ReadUntilCloseAsync(ServerTiming.HangBound));
            }
        }
        // Nothing was owed to a client that never finished its header: no error line, no failure of any kind
        // (not a TLS handshake either, on a TLS listener: none began).
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound));
        Assert.Empty(server.Errors);
        foreach (string kind in new[] { "proxy-header-invalid", "client-disconnected", "tls-handshake-failed", "connection-failed" })
        {
            Assert.True(server.FailureCount(kind) == 0, $"{kind}: {server.FailureCount(kind)}");
        }
    }

    [Fact]
    public async Task A_header_that_does_not_arrive_in_time_closes_the_connection_without_a_response()
    {
        TimeSpan timeout = TimeSpan.FromSeconds(1);
        await using TestServer server = await StartProxiedAsync(options => options.RequestHeadersTimeout = timeout);
        // Started before the connect, so the server's deadline (from its accept) cannot fall before it.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        await connection.SendAsync("PROXY TCP4 192.0.2.10");
        // The head timeout covers the PROXY header: closed between its deadline and one heartbeat after it.
        Assert.Equal("", await connection.ReadUntilCloseAsync(timeout + ServerTiming.Heartbeat + ServerTiming.LoadAllowance));
        Assert.True(clock.Elapsed >= timeout - ServerTiming.CoarseClock, $"closed after {clock.Elapsed.TotalSeconds:F2} s, before the {timeout.TotalSeconds} s timeout");
        // Counted (before the close) as a PROXY header timeout, and as nothing else.
        Assert.Equal(1, server.FailureCount("proxy-header-timeout"));
        Assert.Equal(0, server.FailureCount("request-body-timeout"));
        Assert.Equal(0, server.FailureCount("connection-failed"));
    }

    [Fact]
    public async Task A_listener_without_the_option_treats_a_PROXY_line_as_a_bad_request()
    {
        await using TestServer server = await StartAsync(Describe);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Encoding.Latin1.GetString(V1) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400 ", await connection.ReadUntilCloseAsync());
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollProxyProtocolServerTests : ProxyProtocolServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

/// <summary>The same tests through an HTTPS listener: the header comes before the TLS handshake.</summary>
public class TlsProxyProtocolServerTests : ProxyProtocolServerTests
{
    protected override bool OverTls => true;
}

/// <summary>The same tests through an HTTPS listener on the epoll transport.</summary>
public class EpollTlsProxyProtocolServerTests : ProxyProtocolServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;

    protected override bool OverTls => true;
}

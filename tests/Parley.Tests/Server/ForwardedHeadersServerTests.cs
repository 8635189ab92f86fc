using System.Net;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// Forwarding fields over raw sockets: believed only from a trusted proxy, walked from the right through
/// trusted hops, reset between the requests of a connection; the TCP peer stays visible. On both
/// transports, plain and TLS.
/// </summary>
public class ForwardedHeadersServerTests : TransportTests
{
    private static readonly RequestHandler Describe = (request, response) =>
    {
        response.WriteText($"remote={request.RemoteEndPoint} peer={request.PeerEndPoint} scheme={request.Scheme} host={request.Host} https={request.IsHttps}");
        return ValueTask.CompletedTask;
    };

    private Task<TestServer> StartTrustingAsync(string[] trusted, ForwardedHeaders? fields = null, bool proxyProtocol = false) =>
        StartAsync(Describe, options =>
        {
            foreach (string network in trusted) options.TrustedProxies.Add(IPNetwork.Parse(network));
            if (fields is { } chosen) options.ForwardedHeaders = chosen;
            if (proxyProtocol)
            {
                if (options.Listeners.Count == 0) options.Listeners.Add(ListenerOptions.Http("127.0.0.1", 0));
                options.Listeners[0].ProxyProtocol = true;
            }
        });

    private static async Task<string> GetAsync(RawConnection connection, string fields)
    {
        await connection.SendAsync($"GET / HTTP/1.1\r\nHost: origin.test\r\n{fields}\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        return response.BodyText;
    }

    private static string PeerOf(RawConnection connection) => connection.Socket.LocalEndPoint!.ToString()!;

    private string OwnScheme => OverTls ? "https" : "http";

    [Fact]
    public async Task From_a_trusted_proxy_X_Forwarded_For_and_Proto_give_the_client_and_scheme()
    {
        await using TestServer server = await StartTrustingAsync(["127.0.0.1/32"]);
        await using RawConnection connection = await server.ConnectAsync();
        string peer = PeerOf(connection);
        Assert.Equal($"remote=203.0.113.7:0 peer={peer} scheme=https host=origin.test https={OverTls}",
            await GetAsync(connection, "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: HTTPS\r\n"));
        // The next request on the connection, without the fields, is the peer's own again.
        Assert.Equal($"remote={peer} peer={peer} scheme={OwnScheme} host=origin.test https={OverTls}", await GetAsync(connection, ""));
    }

    [Fact]
    public async Task From_an_untrusted_peer_every_forwarding_field_is_ignored()
    {
        await using TestServer server = await StartTrustingAsync(["10.0.0.0/8"], ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost);
        await using RawConnection connection = await server.ConnectAsync();
        string peer = PeerOf(connection);
        Assert.Equal($"remote={peer} peer={peer} scheme={OwnScheme} host=origin.test https={OverTls}",
            await GetAsync(connection, "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\nForwarded: for=198.51.100.1\r\n"));
    }

    [Fact]
    public async Task With_nothing_trusted_the_fields_are_ignored()
    {
        await using TestServer server = await StartAsync(Describe);
        await using RawConnection connection = await server.ConnectAsync();
        string peer = PeerOf(connection);
        Assert.Equal($"remote={peer} peer={peer} scheme={OwnScheme} host=origin.test https={OverTls}",
            await GetAsync(connection, "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n"));
    }

    [Fact]
    public async Task The_chain_is_walked_from_the_right_and_stops_at_the_first_untrusted_hop()
    {
        await using TestServer server = await StartTrustingAsync(["127.0.0.0/8", "10.0.0.0/8"]);
        await using RawConnection connection = await server.ConnectAsync();
        // 198.51.100.66 is what the client claimed; 203.0.113.5 reached the trusted 10.1.2.3, which reached us.
        Assert.StartsWith("remote=203.0.113.5:0 ",
            await GetAsync(connection, "X-Forwarded-For: 198.51.100.66\r\nX-Forwarded-For: 203.0.113.5, 10.1.2.3\r\n"));
        // A malformed entry stops the walk where it stands: the trusted hop before it is the client.
        Assert.StartsWith("remote=10.1.2.3:0 ", await GetAsync(connection, "X-Forwarded-For: 203.0.113.5, 010.1.2.3x, 10.1.2.3\r\n"));
    }

    [Fact]
    public async Task X_Forwarded_Host_is_used_only_when_chosen()
    {
        await using TestServer chosen = await StartTrustingAsync(["127.0.0.1/32"], ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedHost);
        await using RawConnection withHost = await chosen.ConnectAsync();
        Assert.Contains(" host=www.example.com:8443 ", await GetAsync(withHost, "X-Forwarded-Host: www.example.com:8443\r\nX-Forwarded-Proto: https\r\n"));

        await using TestServer unchosen = await StartTrustingAsync(["127.0.0.1/32"]);
        await using RawConnection withoutHost = await unchosen.ConnectAsync();
        Assert.Contains(" host=origin.test ", await GetAsync(withoutHost, "X-Forwarded-Host: www.example.com\r\n"));
    }

    [Fact]
    public async Task RFC_7239_Forwarded_gives_client_scheme_and_host_and_replaces_X_Forwarded()
    {
        await using TestServer server = await StartTrustingAsync(["127.0.0.1/32"], ForwardedHeaders.Forwarded);
        await using RawConnection connection = await server.ConnectAsync();
        string peer = PeerOf(connection);
        Assert.Equal($"remote=[2001:db8:cafe::17]:4711 peer={peer} scheme=https host=example.com https={OverTls}",
            await GetAsync(connection, "X-Forwarded-For: 203.0.113.7\r\nForwarded: for=\"[2001:db8:cafe::17]:4711\";proto=https;host=example.com\r\n"));
        Assert.Equal($"remote={peer} peer={peer} scheme={OwnScheme} host=origin.test https={OverTls}", await GetAsync(connection, "X-Forwarded-For: 203.0.113.7\r\n"));
        // for=unknown (RFC 7239 §6.2): the trusted proxy's scheme is used, the address stays the proxy's.
        Assert.Equal($"remote={peer} peer={peer} scheme=https host=origin.test https={OverTls}", await GetAsync(connection, "Forwarded: for=unknown;proto=https\r\n"));
    }

    [Fact]
    public async Task Behind_a_PROXY_protocol_balancer_the_chain_starts_from_the_address_its_header_named()
    {
        await using TestServer server = await StartTrustingAsync(["192.0.2.0/24"], proxyProtocol: true);
        byte[] header = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 80\r\n"u8.ToArray();
        var endPoint = new IPEndPoint(IPAddress.Loopback, server.Port);
        RawConnection connection;
        if (OverTls) connection = await RawConnection.OpenTlsAsync(endPoint, preface: header);
        else
        {
            connection = await RawConnection.OpenAsync(endPoint);
            await connection.SendAsync(header);
        }
        await using RawConnection _ = connection;
        Assert.StartsWith("remote=203.0.113.9:0 ", await GetAsync(connection, "X-Forwarded-For: 203.0.113.9\r\n"));
    }

    [Fact]
    public void Forwarded_cannot_be_combined_with_the_X_Forwarded_fields()
    {
        var options = new HttpServerOptions { ForwardedHeaders = ForwardedHeaders.Forwarded | ForwardedHeaders.XForwardedFor };
        options.TrustedProxies.Add(IPNetwork.Parse("127.0.0.1/32"));
        ArgumentException error = Assert.Throws<ArgumentException>(() => new HttpServer(options, Describe));
        Assert.Contains("cannot be combined", error.Message);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollForwardedHeadersServerTests : ForwardedHeadersServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

/// <summary>The same tests through an HTTPS listener.</summary>
public class TlsForwardedHeadersServerTests : ForwardedHeadersServerTests
{
    protected override bool OverTls => true;
}

/// <summary>The same tests through an HTTPS listener on the epoll transport.</summary>
public class EpollTlsForwardedHeadersServerTests : ForwardedHeadersServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;

    protected override bool OverTls => true;
}

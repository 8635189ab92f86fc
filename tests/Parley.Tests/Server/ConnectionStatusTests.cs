using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Parley.Server;
using Parley.Tests.Hardening;

namespace Parley.Tests.Server;

/// <summary>
/// One connection's entry on the status page, for the states and addresses the page tests do not reach:
/// a connection that has sent nothing yet (plain, TLS, PROXY protocol), one in the middle of its head, the
/// client a PROXY header named, a forwarded client with its port, an IPv4 client of a dual-mode listener,
/// and the connection's age.
/// </summary>
public class ConnectionStatusTests
{
    private const string StatusJson = "GET /server-status?format=json HTTP/1.1\r\nHost: x\r\n\r\n";

    private static readonly RequestHandler Hello = (request, response) =>
    {
        response.WriteText($"hello {request.Path}");
        return ValueTask.CompletedTask;
    };

    private static Task<TestServer> StartWithStatusAsync(Action<HttpServerOptions>? configure = null, bool tls = false) =>
        TestServer.StartAsync(Hello, options =>
        {
            options.StatusPage = new StatusPageOptions();
            configure?.Invoke(options);
        }, tls);

    private static async Task<JsonElement> StatusAsync(RawConnection asking)
    {
        await asking.SendAsync(StatusJson);
        RawResponse response = await asking.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        return JsonDocument.Parse(response.Body).RootElement;
    }

    private static string PeerOf(RawConnection client) => ((IPEndPoint)client.Socket.LocalEndPoint!).ToString();

    /// <summary>The page's entry for <paramref name="client"/>, asked for (bounded) until <paramref name="condition"/> holds.</summary>
    private static async Task<JsonElement> EntryWhenAsync(RawConnection asking, RawConnection client, Func<JsonElement, bool> condition)
    {
        string peer = PeerOf(client);
        long deadline = Environment.TickCount64 + (long)ServerTiming.HangBound.TotalMilliseconds;
        while (true)
        {
            JsonElement? entry = null;
            foreach (JsonElement connection in (await StatusAsync(asking)).GetProperty("connections").EnumerateArray())
            {
                if (connection.GetProperty("peer").GetString() == peer) entry = connection;
            }
            if ((entry is { } found && condition(found)) || Environment.TickCount64 > deadline) return entry ?? throw new Xunit.Sdk.XunitException($"no entry for {peer}");
            // Paced: the condition, not the pause, is what is waited for.
            await Task.Delay(20);
        }
    }

    private static Func<JsonElement, bool> InState(string state) => entry => entry.GetProperty("state").GetString() == state;

    [Fact]
    public async Task A_connection_that_has_sent_nothing_awaits_its_first_request_and_one_with_part_of_a_head_is_reading_it()
    {
        await using TestServer server = await StartWithStatusAsync();
        await using RawConnection silent = await server.ConnectAsync();
        await using RawConnection partial = await server.ConnectAsync();
        await partial.SendAsync("GET /slow HTTP/1.1\r\nHo");
        await using RawConnection asking = await server.ConnectAsync();

        JsonElement waiting = await EntryWhenAsync(asking, silent, InState("awaiting-first-request"));
        Assert.Equal("awaiting-first-request", waiting.GetProperty("state").GetString());
        Assert.Equal(0, waiting.GetProperty("requests").GetInt32());
        JsonElement reading = await EntryWhenAsync(asking, partial, InState("reading-head"));
        Assert.Equal("reading-head", reading.GetProperty("state").GetString());
        Assert.Equal(Encoding.Latin1.GetByteCount("GET /slow HTTP/1.1\r\nHo"), reading.GetProperty("bytesReceived").GetInt64());

        // Its first request answered, the silent one's neighbour is idle between requests, no longer awaiting.
        await partial.SendAsync("st: x\r\n\r\n");
        Assert.Equal("hello /slow", (await partial.ReadResponseAsync()).BodyText);
        JsonElement idle = await EntryWhenAsync(asking, partial, InState("idle-keepalive"));
        Assert.Equal("idle-keepalive", idle.GetProperty("state").GetString());
        // The head's second piece, received while the head was being read, is counted with the first.
        Assert.Equal(Encoding.Latin1.GetByteCount("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"), idle.GetProperty("bytesReceived").GetInt64());
    }

    [Fact]
    public async Task A_TLS_connection_that_has_not_finished_its_handshake_is_in_tls_handshake()
    {
        await using TestServer server = await StartWithStatusAsync(tls: true);
        await using RawConnection handshaking = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        await using RawConnection asking = await server.ConnectAsync();
        JsonElement entry = await EntryWhenAsync(asking, handshaking, InState("tls-handshake"));
        Assert.Equal("tls-handshake", entry.GetProperty("state").GetString());
        Assert.True(entry.GetProperty("tls").GetBoolean());
        Assert.False(entry.TryGetProperty("tlsProtocol", out _));
        Assert.StartsWith("TLSv1.", (await EntryWhenAsync(asking, asking, _ => true)).GetProperty("tlsProtocol").GetString());
    }

    [Fact]
    public async Task On_a_PROXY_protocol_listener_the_connection_waits_in_reading_proxy_header_and_then_shows_the_client_it_named()
    {
        await using TestServer server = await StartWithStatusAsync(options =>
        {
            options.Listeners.Add(ListenerOptions.Http("127.0.0.1", 0));
            options.Listeners[0].ProxyProtocol = true;
        });
        var endPoint = new IPEndPoint(IPAddress.Loopback, server.Port);
        await using RawConnection proxied = await RawConnection.OpenAsync(endPoint);
        await using RawConnection asking = await RawConnection.OpenAsync(endPoint);
        // The page is served to loopback clients only: the asking connection's PROXY header names one.
        await asking.SendAsync("PROXY TCP4 127.0.0.1 127.0.0.1 40000 80\r\n");

        JsonElement waiting = await EntryWhenAsync(asking, proxied, InState("reading-proxy-header"));
        Assert.Equal("reading-proxy-header", waiting.GetProperty("state").GetString());
        Assert.Equal(PeerOf(proxied), waiting.GetProperty("client").GetString());

        const string sent = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        await proxied.SendAsync(sent);
        Assert.Equal(200, (await proxied.ReadResponseAsync()).StatusCode);
        JsonElement entry = await EntryWhenAsync(asking, proxied, InState("idle-keepalive"));
        // The PROXY header's bytes are the connection's too.
        Assert.Equal(Encoding.Latin1.GetByteCount(sent), entry.GetProperty("bytesReceived").GetInt64());
        Assert.Equal("192.0.2.10:56324", entry.GetProperty("client").GetString());
        Assert.Equal(PeerOf(proxied), entry.GetProperty("peer").GetString());
        Assert.Equal($"127.0.0.1:{server.Port}", entry.GetProperty("local").GetString());
    }

    [Fact]
    public async Task A_forwarded_client_with_a_port_is_shown_with_it()
    {
        await using TestServer server = await StartWithStatusAsync(options =>
        {
            options.TrustedProxies.Add(IPNetwork.Parse("127.0.0.1/32"));
            options.ForwardedHeaders = ForwardedHeaders.Forwarded;
        });
        await using RawConnection proxied = await server.ConnectAsync();
        await proxied.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=\"203.0.113.7:4711\"\r\n\r\n");
        Assert.Equal(200, (await proxied.ReadResponseAsync()).StatusCode);
        await using RawConnection asking = await server.ConnectAsync();
        JsonElement entry = await EntryWhenAsync(asking, proxied, InState("idle-keepalive"));
        Assert.Equal("203.0.113.7:4711", entry.GetProperty("forwardedFor").GetString());
    }

    [Fact]
    public async Task An_IPv4_client_of_a_dual_mode_listener_is_shown_with_its_IPv4_addresses()
    {
        await using TestServer server = await StartWithStatusAsync(options => options.Host = "*");
        await using RawConnection client = await server.ConnectAsync(IPAddress.Loopback);
        JsonElement entry = await EntryWhenAsync(client, client, _ => true);
        // The socket sees ::ffff:127.0.0.1; the page shows the address the client used.
        Assert.Equal(PeerOf(client), entry.GetProperty("peer").GetString());
        Assert.Equal(PeerOf(client), entry.GetProperty("client").GetString());
        Assert.Equal($"127.0.0.1:{server.Port}", entry.GetProperty("local").GetString());

        // An IPv6 client's addresses are shown as they are.
        await using RawConnection six = await server.ConnectAsync(IPAddress.IPv6Loopback);
        JsonElement sixEntry = await EntryWhenAsync(six, six, _ => true);
        Assert.StartsWith("[::1]:", sixEntry.GetProperty("peer").GetString());
        Assert.Equal(PeerOf(six), sixEntry.GetProperty("peer").GetString());
        Assert.Equal($"[::1]:{server.Port}", sixEntry.GetProperty("local").GetString());
    }

    [Fact]
    public async Task The_age_is_the_seconds_since_the_accept_and_never_negative()
    {
        await using TestServer server = await StartWithStatusAsync();
        long before = Environment.TickCount64;
        await using RawConnection client = await server.ConnectAsync();
        HttpConnection? connection = null;
        Assert.True(await Hostile.WaitUntilAsync(() => (connection = OnlyConnection(server.Server)) is not null, ServerTiming.HangBound));
        long after = Environment.TickCount64;

        // Written as if the page were asked for 5 s later: the age is 5 s and the time the accept took.
        JsonElement later = Write(connection!, after + 5_000);
        Assert.InRange(later.GetProperty("ageSeconds").GetDouble(), 5.0, 5.0 + (after - before) / 1000.0);
        Assert.Equal("sockets", later.GetProperty("transport").GetString());
        Assert.Equal(connection!.Id, later.GetProperty("id").GetInt64());
        // A clock read before the accept (another thread's, a moment old) is no negative age.
        Assert.Equal(0, Write(connection!, before - 10_000).GetProperty("ageSeconds").GetDouble());
    }

    private static HttpConnection? OnlyConnection(HttpServer server)
    {
        HttpConnection? found = null;
        foreach (HttpConnection? connection in server.OpenConnections) found ??= connection;
        return found;
    }

    private static JsonElement Write(HttpConnection connection, long nowTicks)
    {
        var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) connection.WriteStatus(writer, nowTicks, "sockets");
        return JsonDocument.Parse(stream.ToArray()).RootElement;
    }
    [Fact]
    public async Task A_connection_the_server_closed_while_its_handler_still_runs_is_closing()
    {
        // More than the socket buffers of both sides hold on loopback, so the send waits on the client.
        byte[] big = new byte[32 * 1024 * 1024];
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(async (request, response) =>
        {
            if (request.Path != "/big")
            {
                response.WriteText("ok");
                return;
            }
            try
            {
                await response.WriteAsync(big);
            }
            catch (Exception)
            {
                // The client read nothing for DataTimeout: the server closed the connection under the
                // handler, which goes on until the test lets it end.
                failed.TrySetResult();
                await release.Task;
            }
        }, options =>
        {
            options.DataTimeout = TimeSpan.FromSeconds(1);
            options.StatusPage = new StatusPageOptions();
        });
        await using RawConnection stalled = await server.ConnectAsync();
        await stalled.SendAsync("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        await failed.Task.WaitAsync(ServerTiming.HangBound);
        await using RawConnection asking = await server.ConnectAsync();
        JsonElement entry = await EntryWhenAsync(asking, stalled, _ => true);
        Assert.Equal("closing", entry.GetProperty("state").GetString());
        release.SetResult();
    }
}

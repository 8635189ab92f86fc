using System.Buffers.Binary;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Server;

/// <summary>
/// WebSockets (RFC 6455) over the engine's upgrade: .NET's ClientWebSocket as a real peer, and hostile peers
/// written here (a bad handshake, a message over the limit, an unmasked client frame, a peer that vanishes
/// mid-frame): each gets a clear answer or close code, nothing leaks, and the server keeps serving.
/// </summary>
public class WebSocketServerTests : TransportTests
{
    private const string Handshake = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    /// <summary>What the echo handler saw: the exception that ended its session, if any.</summary>
    private readonly TaskCompletionSource<Exception?> _sessionEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task<TestServer> StartEchoAsync(WebSocketAcceptOptions? options = null) => StartAsync(async (request, response) =>
    {
        if (!request.IsWebSocketRequest && request.Path == "/plain")
        {
            response.WriteText("still serving");
            return;
        }
        using WebSocket? socket = await response.AcceptWebSocketAsync(options);
        if (socket is null) return;
        try
        {
            byte[] buffer = new byte[4096];
            while (true)
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), default);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", default);
                    break;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, default);
            }
            _sessionEnded.TrySetResult(null);
        }
        catch (Exception ex)
        {
            _sessionEnded.TrySetResult(ex);
        }
    });

    private ClientWebSocket NewClient()
    {
        var client = new ClientWebSocket();
        if (OverTls)
        {
            client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(TestCertificates.CaCollection()[0]);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate!));
            };
        }
        return client;
    }

    private Uri WebSocketUri(TestServer server, string path = "/ws") => new($"{(OverTls ? "wss" : "ws")}://localhost:{server.Port}{path}");

    private static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            all.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return Encoding.UTF8.GetString(all.ToArray());
        }
    }

    [Fact]
    public async Task ClientWebSocket_exchanges_messages_and_closes_normally_with_the_chosen_subprotocol()
    {
        var options = new WebSocketAcceptOptions { SubProtocols = { "chat.v2", "chat.v1" } };
        await using var server = await StartEchoAsync(options);
        using ClientWebSocket client = NewClient();
        client.Options.AddSubProtocol("unknown");
        client.Options.AddSubProtocol("chat.v1");
        client.Options.AddSubProtocol("chat.v2");
        await client.ConnectAsync(WebSocketUri(server), CancellationToken.None);
        // RFC 6455 §4.2.2: the first of the client's offers that the server speaks.
        Assert.Equal("chat.v1", client.SubProtocol);

        await client.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, default);
        Assert.Equal("hello", await ReceiveTextAsync(client));
        string large = string.Concat(Enumerable.Repeat("0123456789", 5000));
        await client.SendAsync(Encoding.UTF8.GetBytes(large), WebSocketMessageType.Text, true, default);
        Assert.Equal(large, await ReceiveTextAsync(client));

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", default);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Null(await _sessionEnded.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await WaitForNoConnectionsAsync(server);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task Permessage_deflate_is_accepted_when_the_client_offers_it()
    {
        await using var server = await StartEchoAsync();
        using ClientWebSocket client = NewClient();
        client.Options.CollectHttpResponseDetails = true;
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientMaxWindowBits = 12, ServerContextTakeover = false };
        await client.ConnectAsync(WebSocketUri(server), CancellationToken.None);
        string extension = string.Join(",", client.HttpResponseHeaders!["Sec-WebSocket-Extensions"]);
        Assert.Contains("permessage-deflate", extension);
        Assert.Contains("server_no_context_takeover", extension);
        Assert.Contains("client_max_window_bits=12", extension);

        string text = string.Concat(Enumerable.Repeat("compressible ", 10000));
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, default);
        Assert.Equal(text, await ReceiveTextAsync(client));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default);
    }

    [Fact]
    public async Task Without_an_offer_no_extension_is_answered()
    {
        await using var server = await StartEchoAsync();
        using ClientWebSocket client = NewClient();
        client.Options.CollectHttpResponseDetails = true;
        await client.ConnectAsync(WebSocketUri(server), CancellationToken.None);
        Assert.False(client.HttpResponseHeaders!.ContainsKey("Sec-WebSocket-Extensions"));
        Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, client.HttpStatusCode);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default);
    }

    [Fact]
    public async Task The_server_sends_keep_alive_pings()
    {
        await using var server = await StartEchoAsync(new WebSocketAcceptOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(200) });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Handshake + "\r\n");
        RawResponse head = await connection.ReadResponseAsync();
        Assert.Equal(101, head.StatusCode);
        // RFC 6455 §4.2.2 (5.4): the accept value of the RFC's own example key.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head.Header("Sec-WebSocket-Accept"));
        // Sent unprompted: a ping (opcode 0x9, FIN) or an unsolicited pong (0xA), which the base library's
        // keep-alive uses; either is a keep-alive frame from the server, unmasked (§5.1).
        byte[] frame = await connection.ReadExactlyAsync(2);
        Assert.Contains(frame[0], new byte[] { 0x89, 0x8A });
        Assert.Equal(0, frame[1] & 0x80);
    }

    [Theory]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "Sec-WebSocket-Key", null)]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n", 400, "Sec-WebSocket-Key", null)]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 13")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 13")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 426, "Upgrade: websocket", "Upgrade: websocket")]
    [InlineData("POST /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n", 400, "GET", null)]
    public async Task A_bad_handshake_gets_400_or_426_and_the_connection_keeps_serving(string request, int status, string named, string? field)
    {
        await using var server = await StartEchoAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(request);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(named, response.BodyText);
        if (field is not null) Assert.Contains(field + "\r\n", response.RawHead);
        // Still HTTP on the same connection.
        await connection.SendAsync("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("still serving", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_message_over_the_limit_is_closed_with_1009()
    {
        await using var server = await StartEchoAsync(new WebSocketAcceptOptions { MaxMessageSize = 1000 });
        using ClientWebSocket client = NewClient();
        await client.ConnectAsync(WebSocketUri(server), CancellationToken.None);
        await client.SendAsync(new byte[999], WebSocketMessageType.Binary, true, default);
        Assert.Equal(999, (await client.ReceiveAsync(new byte[2000], default)).Count);
        await client.SendAsync(new byte[5000], WebSocketMessageType.Binary, true, default);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        WebSocketReceiveResult result = await client.ReceiveAsync(new byte[100], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
        Exception? ended = await _sessionEnded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.IsType<WebSocketException>(ended);
        Assert.Contains("1009", ended!.Message);
        await AssertStillServingAsync(server);
    }

    [Fact]
    public async Task An_unmasked_client_frame_is_closed_with_1002()
    {
        await using var server = await StartEchoAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Handshake + "\r\n");
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        // RFC 6455 §5.1: "a server MUST close the connection upon receiving a frame that is not masked".
        // (Longer than the 6 bytes a masked header takes, so the server has a whole header to judge.)
        await connection.SendAsync([0x81, 0x06, .. "hello!"u8]);
        byte[] close = await connection.ReadExactlyAsync(4);
        Assert.Equal(0x88, close[0]);
        Assert.Equal(1002, BinaryPrimitives.ReadUInt16BigEndian(close.AsSpan(2)));
        Assert.True(await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(30)));
        Assert.IsType<WebSocketException>(await _sessionEnded.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await AssertStillServingAsync(server);
    }

    [Fact]
    public async Task A_peer_that_vanishes_mid_frame_ends_the_session_without_a_leak()
    {
        await using var server = await StartEchoAsync();
        RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Handshake + "\r\n");
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        // A masked binary frame announcing 100 bytes, of which 10 arrive before the peer is gone.
        byte[] partial = new byte[2 + 4 + 10];
        partial[0] = 0x82;
        partial[1] = 0x80 | 100;
        await connection.SendAsync(partial);
        await connection.DisposeAsync();
        Exception? ended = await _sessionEnded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.IsType<WebSocketException>(ended);
        await AssertStillServingAsync(server);
    }

    [Fact]
    public async Task A_graceful_stop_sends_1001_and_completes_once_the_peer_answers()
    {
        TestServer server = await StartEchoAsync();
        using ClientWebSocket client = NewClient();
        await client.ConnectAsync(WebSocketUri(server), CancellationToken.None);
        Task stop = server.Server.StopAsync(TimeSpan.FromMinutes(10));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        WebSocketReceiveResult result = await client.ReceiveAsync(new byte[100], timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        Assert.Equal("server stopping", result.CloseStatusDescription);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default);
        // The drain period is far longer: the stop ends because the WebSocket closed.
        await stop.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    private static async Task WaitForNoConnectionsAsync(TestServer server)
    {
        // The connection leaves the count once its loop has released it, just after the close is sent.
        for (int i = 0; i < 300 && server.Server.ConnectionCount > 0; i++) await Task.Delay(100);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    private static async Task AssertStillServingAsync(TestServer server)
    {
        await WaitForNoConnectionsAsync(server);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("still serving", (await connection.ReadResponseAsync()).BodyText);
    }
}

public class EpollWebSocketServerTests : WebSocketServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

public class TlsWebSocketServerTests : WebSocketServerTests
{
    protected override bool OverTls => true;
}

public class EpollTlsWebSocketServerTests : WebSocketServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;

    protected override bool OverTls => true;
}

using System.Net.WebSockets;
using System.Text;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>
/// The client's side of RFC 9110 §7.8: a 101 to a request that asked to upgrade ends the HTTP exchange and
/// the response's body is the connection both ways; through <see cref="ParleyHandler"/>, .NET's
/// ClientWebSocket runs over Parley's client. On both client transports.
/// </summary>
public class UpgradeClientTests
{
    protected virtual TransportKind ClientTransport => TransportKind.Sockets;

    private ParleyClientOptions ClientOptions() => new() { Transport = ClientTransport };

    private static ValueTask EchoUpgradeAsync(HttpRequest request, HttpResponse response) => EchoAsync(response);

    private static async ValueTask EchoAsync(HttpResponse response)
    {
        await using Stream stream = await response.SwitchProtocolsAsync("echo");
        // The first bytes of the new protocol leave in the same write as the 101 head would allow; here
        // right after it, so the client may receive them with the head.
        await stream.WriteAsync("hello"u8.ToArray());
        byte[] buffer = new byte[256];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) await stream.WriteAsync(buffer.AsMemory(0, n));
    }

    [Fact]
    public async Task A_101_hands_over_the_connection_as_a_duplex_body_and_disposing_closes_it()
    {
        await using var server = await TestServer.StartAsync(EchoUpgradeAsync);
        using var client = new ParleyClient(ClientOptions());
        var request = new ParleyRequest("GET", new Uri(server.BaseUri, "/echo"));
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "echo");
        ParleyResponse response = await client.SendAsync(request);
        Assert.Equal(101, response.StatusCode);
        Assert.Equal("echo", response.Headers["Upgrade"]);
        Stream connection = response.Body;
        Assert.True(connection.CanWrite);
        byte[] buffer = new byte[5];
        await connection.ReadExactlyAsync(buffer);
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer));
        await connection.WriteAsync("again"u8.ToArray());
        await connection.ReadExactlyAsync(buffer);
        Assert.Equal("again", Encoding.ASCII.GetString(buffer));
        Assert.Equal(1, server.Server.ConnectionCount);

        response.Dispose();
        // The server's read ends, its handler returns and disposes: the connection is gone on both sides.
        for (int i = 0; i < 300 && server.Server.ConnectionCount > 0; i++) await Task.Delay(100);
        Assert.Equal(0, server.Server.ConnectionCount);
        // The client is not left short of a slot: a plain request still goes through.
        using ParleyResponse after = await client.SendAsync(new ParleyRequest("GET", new Uri(server.BaseUri, "/other")));
        Assert.Equal(500, after.StatusCode);
    }

    [Fact]
    public async Task A_101_to_a_request_that_did_not_ask_to_upgrade_is_a_malformed_response()
    {
        await using var scripted = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n"));
        using var client = new ParleyClient(ClientOptions());
        var error = await Assert.ThrowsAsync<ParleyHttpException>(() => client.SendAsync(new ParleyRequest("GET", scripted.Url)).AsTask());
        Assert.Contains("no upgrade was requested", error.Message);
    }

    [Fact]
    public async Task ClientWebSocket_runs_over_ParleyHandler_against_Parley_server()
    {
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            using WebSocket? socket = await response.AcceptWebSocketAsync(new WebSocketAcceptOptions { SubProtocols = { "echo.v1" } });
            if (socket is null) return;
            byte[] buffer = new byte[65536];
            while (true)
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), default);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", default);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, default);
            }
        });
        using var invoker = new HttpMessageInvoker(new ParleyHandler(ClientOptions()));
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("echo.v1");
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/ws"), invoker, CancellationToken.None);
        Assert.Equal("echo.v1", client.SubProtocol);
        for (int i = 0; i < 20; i++)
        {
            string text = $"message {i} " + new string('x', i * 100);
            await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, default);
            byte[] buffer = new byte[8192];
            var received = await client.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            Assert.True(received.EndOfMessage);
            Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", default);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal("bye", client.CloseStatusDescription);
        Assert.Empty(server.Errors);
    }
}

public class EpollUpgradeClientTests : UpgradeClientTests
{
    protected override TransportKind ClientTransport => TransportKind.Epoll;
}

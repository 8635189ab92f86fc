using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Parley.Client;

namespace Parley.AspNetCore.Tests;

/// <summary>
/// WebSockets through ASP.NET Core's WebSockets middleware (<c>app.UseWebSockets()</c>, which rides on
/// <c>IHttpUpgradeFeature</c>): the same app and the same tests on Kestrel and on Parley, with .NET's
/// ClientWebSocket over its own handler and over Parley's client (<see cref="ParleyHandler"/>), so Parley's
/// client is also tested against Kestrel's WebSockets.
/// </summary>
public sealed class WebSocketCompatibilityTests(ServersFixture servers) : IClassFixture<ServersFixture>
{
    public static TheoryData<ServerKind, bool> KindsAndClients()
    {
        var data = new TheoryData<ServerKind, bool>();
        foreach (ServerKind kind in Enum.GetValues<ServerKind>())
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndClients))]
    public async Task Echoes_messages_with_subprotocol_and_compression_and_closes_normally(ServerKind kind, bool parleyClient)
    {
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("echo.v1");
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        client.Options.CollectHttpResponseDetails = true;
        var uri = new Uri($"ws://127.0.0.1:{servers[kind].Port}/ws");
        using var invoker = parleyClient ? new HttpMessageInvoker(new ParleyHandler()) : null;
        if (invoker is null) await client.ConnectAsync(uri, CancellationToken.None);
        else await client.ConnectAsync(uri, invoker, CancellationToken.None);

        Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, client.HttpStatusCode);
        Assert.Equal("echo.v1", client.SubProtocol);
        Assert.Contains("permessage-deflate", string.Join(",", client.HttpResponseHeaders!["Sec-WebSocket-Extensions"]));
        foreach (string text in new[] { "hello", new string('z', 100_000), "ünïcödé" })
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, default);
            Assert.Equal(text, await ReceiveTextAsync(client));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", default);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal("bye", client.CloseStatusDescription);
    }

    [Theory]
    [InlineData(ServerKind.ParleyEpoll)]
    [InlineData(ServerKind.ParleySockets)]
    public async Task The_handshake_is_answered_as_Kestrel_answers_it(ServerKind parley)
    {
        const string valid = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        string kestrel = await HeadAsync(ServerKind.Kestrel, valid);
        string ours = await HeadAsync(parley, valid);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", kestrel);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", ours);
        foreach (string field in new[] { "upgrade: websocket", "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "connection: upgrade" })
        {
            Assert.Contains(field.ToLowerInvariant(), kestrel.ToLowerInvariant());
            Assert.Contains(field.ToLowerInvariant(), ours.ToLowerInvariant());
        }

        // Another version: the middleware does not take it as a WebSocket request, and the app answers.
        const string badVersion = "Upgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        RawResponse kestrelBad = await RawHttp.SendAsync(servers[ServerKind.Kestrel].Port, "GET", "/ws", badVersion);
        RawResponse oursBad = await RawHttp.SendAsync(servers[parley].Port, "GET", "/ws", badVersion);
        Assert.Equal(400, kestrelBad.Status);
        Assert.Equal(kestrelBad.Status, oursBad.Status);
        Assert.Equal(kestrelBad.Body, oursBad.Body);
    }

    private async Task<string> HeadAsync(ServerKind kind, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, servers[kind].Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        byte[] buffer = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(buffer, timeout.Token) == 0) break;
            head.Append((char)buffer[0]);
        }
        return head.ToString();
    }

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
}

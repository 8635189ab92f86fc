using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Parley.Cli.Demo;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Demo;

/// <summary>
/// The live page: every request the demo answers is pushed over the /live/feed WebSocket with its method,
/// target, connection, number on that connection, status and time; a visitor sees keep-alive and
/// pipelining happen. Tested with ClientWebSocket and with headless Chromium.
/// </summary>
public class DemoLiveTests
{
    private static async Task<JsonElement> NextEntryAsync(WebSocket feed)
    {
        byte[] buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ValueWebSocketReceiveResult result = await feed.ReceiveAsync(buffer.AsMemory(), timeout.Token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.True(result.EndOfMessage);
        return JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone();
    }

    [Fact]
    public async Task The_feed_shows_pipelined_requests_on_one_connection_with_rising_numbers()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        using var feed = new ClientWebSocket();
        await feed.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}{LiveFeed.FeedPath}"), CancellationToken.None);

        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /contact HTTP/1.1\r\nHost: x\r\n\r\nGET /no-such-page?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            Assert.Equal(404, (await connection.ReadResponseAsync()).StatusCode);
        }
        JsonElement first = await NextEntryAsync(feed);
        JsonElement second = await NextEntryAsync(feed);
        Assert.Equal("GET", first.GetProperty("method").GetString());
        Assert.Equal("/contact", first.GetProperty("target").GetString());
        Assert.Equal(200, first.GetProperty("status").GetInt32());
        Assert.Equal(1, first.GetProperty("request").GetInt32());
        Assert.Equal("/no-such-page?x=1", second.GetProperty("target").GetString());
        Assert.Equal(404, second.GetProperty("status").GetInt32());
        Assert.Equal(2, second.GetProperty("request").GetInt32());
        Assert.Equal(first.GetProperty("connection").GetInt64(), second.GetProperty("connection").GetInt64());
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d\d\d$", first.GetProperty("time").GetString());
        Assert.True(first.GetProperty("ms").GetDouble() >= 0);

        // Another connection has another number, and its first request is number 1.
        await using (RawConnection other = await server.ConnectAsync())
        {
            await other.SendAsync("POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
            Assert.Equal(415, (await other.ReadResponseAsync()).StatusCode);
        }
        JsonElement third = await NextEntryAsync(feed);
        Assert.Equal("POST", third.GetProperty("method").GetString());
        Assert.Equal(415, third.GetProperty("status").GetInt32());
        Assert.Equal(1, third.GetProperty("request").GetInt32());
        Assert.NotEqual(first.GetProperty("connection").GetInt64(), third.GetProperty("connection").GetInt64());

        await feed.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, feed.CloseStatus);
    }

    [Fact]
    public async Task The_feed_is_a_WebSocket_only_and_the_live_page_loads_its_script()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /live/feed HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse refused = await connection.ReadResponseAsync();
        Assert.Equal(426, refused.StatusCode);
        Assert.Equal("websocket", refused.Header("Upgrade"));
        await connection.SendAsync("GET /live HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse page = await connection.ReadResponseAsync();
        Assert.Contains("<script src=\"/live.js\"></script>", page.BodyText);
        await connection.SendAsync("GET /live.js HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse script = await connection.ReadResponseAsync();
        Assert.StartsWith("text/javascript", script.Header("Content-Type"));
        Assert.Contains("/live/feed", script.BodyText);
    }

    [Fact]
    public async Task Chromium_watches_requests_appear_on_the_live_page()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        using JsonDocument doc = await BrowserDriver.RunAsync("live", server.BaseUri.ToString().TrimEnd('/'));
        JsonElement root = doc.RootElement;
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal("open", root.GetProperty("state").GetString());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        JsonElement contact = rows.Single(row => row.GetProperty("target").GetString() == "/contact");
        JsonElement missing = rows.Single(row => row.GetProperty("target").GetString() == "/no-such-page");
        Assert.Equal("GET", contact.GetProperty("method").GetString());
        Assert.Equal(200, contact.GetProperty("status").GetInt32());
        Assert.Equal(404, missing.GetProperty("status").GetInt32());
        Assert.True(contact.GetProperty("connection").GetInt64() > 0);
        Assert.True(contact.GetProperty("request").GetInt32() >= 1);
        Assert.EndsWith(" ms", contact.GetProperty("duration").GetString());
        // Newest first: the 404 was requested after the contact page.
        Assert.True(rows.IndexOf(missing) < rows.IndexOf(contact));
    }
}

using System.Text;
using System.Text.Json;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Interop;

/// <summary>
/// The status page in headless Chromium: it redraws itself from the JSON without a reload (a connection opened
/// after the page was drawn appears in its table, with the bytes it really carried), and its inline script and
/// style run under its Content-Security-Policy with no violation and nothing on the console.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class StatusPageBrowserTests
{
    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task The_page_shows_a_connection_opened_after_it_loaded_without_a_reload_or_a_policy_violation(TransportKind transport)
    {
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText($"hello {request.Path}");
            return ValueTask.CompletedTask;
        }, options =>
        {
            options.Transport = transport;
            options.StatusPage = new StatusPageOptions();
        });
        using JsonDocument doc = await BrowserDriver.RunAsync("status", $"{server.BaseUri}server-status");
        JsonElement result = doc.RootElement;

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Equal("text/html; charset=utf-8", result.GetProperty("contentType").GetString());
        Assert.StartsWith("default-src 'none'; script-src 'sha256-", result.GetProperty("policy").GetString());
        string peer = result.GetProperty("peer").GetString()!;
        Assert.DoesNotContain(peer, result.GetProperty("peersBefore").EnumerateArray().Select(p => p.GetString()));
        JsonElement row = result.GetProperty("row");
        Assert.Equal(peer, row.GetProperty("client").GetString());
        Assert.Equal("idle-keepalive", row.GetProperty("state").GetString());
        Assert.Equal("plain", row.GetProperty("tls").GetString());
        Assert.Equal("1", row.GetProperty("requests").GetString());
        Assert.Equal($"127.0.0.1:{server.Port}", row.GetProperty("local").GetString());
        int requestBytes = Encoding.Latin1.GetByteCount($"GET /from-node HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\n\r\n");
        Assert.Equal(requestBytes, result.GetProperty("requestBytes").GetInt32());
        Assert.Equal(requestBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), row.GetProperty("bytesIn").GetString());
        Assert.Equal(result.GetProperty("responseBytes").GetInt32().ToString("N0", System.Globalization.CultureInfo.InvariantCulture), row.GetProperty("bytesOut").GetString());
        Assert.True(result.GetProperty("updates").GetInt32() >= 2, "the table was redrawn after the first draw");
        Assert.Equal(1, result.GetProperty("navigations").GetInt32());
        Assert.Empty(result.GetProperty("cspViolations").EnumerateArray());
        Assert.Empty(result.GetProperty("consoleProblems").EnumerateArray());
    }
}

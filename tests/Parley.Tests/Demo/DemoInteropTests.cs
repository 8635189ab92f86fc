using System.Text.Json;
using Parley.Cli.Demo;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Demo;

/// <summary>Real clients against the demo site: curl, Python's http.client and headless Chromium.</summary>
[Collection("Browser")]
public class DemoInteropTests
{
    [Fact]
    public async Task Curl_verbose_shows_the_whole_session()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        ToolResult result = await ExternalTool.RunAsync("curl", ["-sv", "-H", "Accept-Language: fr", $"{server.BaseUri}"], TimeSpan.FromSeconds(20));
        result.EnsureSuccess();
        Assert.Contains("> GET / HTTP/1.1", result.StdErr);
        Assert.Contains($"> Host: 127.0.0.1:{server.Port}", result.StdErr);
        Assert.Contains("< HTTP/1.1 200 OK", result.StdErr);
        Assert.Contains("< Content-Language: fr", result.StdErr);
        Assert.Contains("<h1>Une page web simple</h1>", result.StdOut);
    }

    [Fact]
    public async Task Curl_reuses_one_connection_for_several_URLs()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        ToolResult result = await ExternalTool.RunAsync("curl", ["-sv", $"{server.BaseUri}", $"{server.BaseUri}contact", $"{server.BaseUri}moved"], TimeSpan.FromSeconds(20));
        result.EnsureSuccess();
        Assert.Contains("Re-using existing connection", result.StdErr);
        Assert.Contains("Request #3 on this TCP connection", result.StdOut);
    }

    [Fact]
    public async Task Curl_posts_the_contact_form()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        ToolResult result = await ExternalTool.RunAsync("curl",
            ["-s", "--data-urlencode", "name=Joe User", "--data-urlencode", "request=Send me one of your catalogue", $"{server.BaseUri}contact_form.php"], TimeSpan.FromSeconds(20));
        result.EnsureSuccess();
        Assert.Contains("<dd id=\"field-request\">Send me one of your catalogue</dd>", result.StdOut);
    }

    [Fact]
    public async Task Python_http_client_sends_several_requests_on_one_connection()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        string script = $$"""
            import http.client, json
            c = http.client.HTTPConnection("127.0.0.1", {{server.Port}}, timeout=10)
            out = []
            for path, headers in [("/", {}), ("/", {"Accept-Language": "fr"}), ("/moved", {}), ("/missing", {})]:
                c.request("GET", path, headers=headers)
                r = c.getresponse()
                body = r.read().decode()
                out.append({"status": r.status, "lang": r.getheader("Content-Language"), "location": r.getheader("Location"),
                            "counter": [n for n in range(1, 10) if f"#{n} on this TCP connection" in body or f"n° {n} sur" in body]})
            c.request("POST", "/contact_form.php", body="name=Joe%20User&request=Hi", headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            out.append({"status": r.status, "ok": "Joe User" in r.read().decode()})
            print(json.dumps(out))
            """;
        ToolResult result = await ExternalTool.RunAsync("python3", ["-c", script], TimeSpan.FromSeconds(30));
        result.EnsureSuccess();
        using JsonDocument doc = JsonDocument.Parse(result.StdOut);
        JsonElement[] items = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(200, items[0].GetProperty("status").GetInt32());
        Assert.Equal("en", items[0].GetProperty("lang").GetString());
        Assert.Equal(1, items[0].GetProperty("counter")[0].GetInt32());
        Assert.Equal("fr", items[1].GetProperty("lang").GetString());
        Assert.Equal(2, items[1].GetProperty("counter")[0].GetInt32());
        Assert.Equal(301, items[2].GetProperty("status").GetInt32());
        Assert.Equal("/", items[2].GetProperty("location").GetString());
        Assert.Equal(404, items[3].GetProperty("status").GetInt32());
        Assert.Equal(4, items[3].GetProperty("counter")[0].GetInt32());
        Assert.True(items[4].GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Chromium_loads_the_home_page_in_French()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        using JsonDocument doc = await BrowserDriver.RunAsync("french", server.BaseUri.ToString().TrimEnd('/'));
        JsonElement root = doc.RootElement;
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal("fr", root.GetProperty("contentLanguage").GetString());
        Assert.Equal("fr", root.GetProperty("htmlLang").GetString());
        Assert.Equal("Une page web simple", root.GetProperty("h1").GetString());
    }

    [Fact]
    public async Task Chromium_submits_the_contact_form()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        using JsonDocument doc = await BrowserDriver.RunAsync("contact", server.BaseUri.ToString().TrimEnd('/'));
        JsonElement root = doc.RootElement;
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal("POST", root.GetProperty("method").GetString());
        Assert.Equal("application/x-www-form-urlencoded", root.GetProperty("requestContentType").GetString());
        Assert.Equal("name=Joe+User&request=Send+me+one+of+your+catalogue", root.GetProperty("postData").GetString());
        string text = root.GetProperty("bodyText").GetString()!;
        Assert.Contains("Joe User", text);
        Assert.Contains("Send me one of your catalogue", text);
    }
}

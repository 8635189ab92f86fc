using System.Net;
using System.Text.RegularExpressions;
using Parley.Cli.Demo;
using Parley.Tests.Server;

namespace Parley.Tests.Demo;

/// <summary>
/// The demo pages show both halves of their exchange: what each page shows as its response head must be the
/// head read off the socket, byte for byte. Also the 301 made visible, the form address's 405 page, the favicon.
/// </summary>
public partial class DemoExchangeTests
{
    private const string Form = "name=Joe%20User&request=Send%20me%20one%20of%20your%20catalogue";

    [GeneratedRegex("<pre id=\"(?<id>[a-z-]+)\">(?<text>[^<]*)</pre>")]
    private static partial Regex PreBlock();

    /// <summary>The decoded text of the <c>pre</c> with this id, or null.</summary>
    internal static string? Shown(string html, string id) =>
        PreBlock().Matches(html).Where(m => m.Groups["id"].Value == id).Select(m => WebUtility.HtmlDecode(m.Groups["text"].Value)).SingleOrDefault();

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nAccept-Language: fr\r\n\r\n")]
    [InlineData("GET /contact HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /no-such-page HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /contact_form.php HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 63\r\n\r\n" + Form)]
    [InlineData("GET / HTTP/1.0\r\n\r\n")]
    [InlineData("GET /contact HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
    public async Task Each_page_shows_the_response_head_the_wire_carried(string request)
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        // Twice on one connection where it stays open: the second head differs (Keep-Alive's max, Date maybe).
        int rounds = request.Contains("close") || request.Contains("HTTP/1.0") ? 1 : 2;
        for (int i = 0; i < rounds; i++)
        {
            await connection.SendAsync(request);
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(response.RawHead, Shown(response.BodyText, "raw-response"));
            Assert.Equal(request[..request.IndexOf("\r\n\r\n", StringComparison.Ordinal)] + "\r\n\r\n", Shown(response.BodyText, "raw-request"));
        }
    }

    [Fact]
    public async Task A_refused_form_shows_the_closing_head_it_was_sent_with()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(415, response.StatusCode);
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal(response.RawHead, Shown(response.BodyText, "raw-response"));
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task The_home_page_shows_the_301_that_led_to_it_once()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse moved = await connection.ReadResponseAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse home = await connection.ReadResponseAsync();
        Assert.Contains("<section class=\"wire\" id=\"redirect\">", home.BodyText);
        Assert.Contains("on this same connection, just before this request", home.BodyText);
        Assert.Equal(moved.RawHead, Shown(home.BodyText, "redirect-response"));
        Assert.Equal("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n", Shown(home.BodyText, "redirect-request"));

        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse again = await connection.ReadResponseAsync();
        Assert.DoesNotContain("id=\"redirect\"", again.BodyText);
    }

    [Fact]
    public async Task The_301_sends_what_the_walkthrough_shows_and_no_more()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 301 Moved Permanently", response.StatusLine);
        Assert.Equal("/", response.Header("Location"));
        Assert.Null(response.Header("Set-Cookie"));
        Assert.Contains("<h1>301 Moved Permanently</h1>", response.BodyText);
        Assert.Contains("a <code>Location: /</code> field; browsers follow it.", response.BodyText);
    }

    [Fact]
    public async Task A_redirect_seen_from_another_connection_is_shown_as_such()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using (var first = await server.ConnectAsync())
        {
            await first.SendAsync("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
            await first.ReadResponseAsync();
        }
        await using var second = await server.ConnectAsync();
        await second.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse home = await second.ReadResponseAsync();
        Assert.Contains("on another TCP connection", home.BodyText);
    }

    [Fact]
    public void A_redirect_is_forgotten_after_its_lifetime_and_the_oldest_first_when_full()
    {
        var clock = new ManualClock();
        var trail = new RedirectTrail(clock);
        var client = new IPEndPoint(IPAddress.Loopback, 40000);
        trail.Record(client, client, "GET /moved", "HTTP/1.1 301", 1);
        clock.Advance(RedirectTrail.Lifetime + TimeSpan.FromSeconds(1));
        Assert.Null(trail.Take(client));

        for (int i = 0; i <= RedirectTrail.Capacity; i++)
        {
            trail.Record(new IPEndPoint(new IPAddress(0x0A000000 + i), 1), null, $"request {i}", "HTTP/1.1 301", 1);
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Null(trail.Take(new IPEndPoint(new IPAddress(0x0A000000), 1)));
        Assert.Equal("request 1", trail.Take(new IPEndPoint(new IPAddress(0x0A000000 + 1), 1))?.RequestHead);
        Assert.Equal($"request {RedirectTrail.Capacity}", trail.Take(new IPEndPoint(new IPAddress(0x0A000000 + RedirectTrail.Capacity), 1))?.RequestHead);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    public async Task Other_methods_on_the_form_address_get_a_styled_405_with_Allow_and_a_link_to_the_form(string method)
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"{method} /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 405 Method Not Allowed", response.StatusLine);
        Assert.Equal("POST, OPTIONS", response.Header("Allow"));
        Assert.Equal("text/html; charset=utf-8", response.Header("Content-Type"));
        Assert.Contains("<link rel=\"stylesheet\" href=\"/style.css\">", response.BodyText);
        Assert.Contains("<a class=\"button\" href=\"/contact\">Go to the contact form</a>", response.BodyText);
        Assert.Contains($"<code>{method}</code>", response.BodyText);
    }

    [Fact]
    public async Task OPTIONS_on_the_form_address_lists_POST()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("OPTIONS /contact_form.php HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(204, response.StatusCode);
        Assert.Equal("POST, OPTIONS", response.Header("Allow"));
    }

    [Theory]
    [InlineData("/favicon.svg")]
    [InlineData("/favicon.ico")]
    public async Task The_favicon_is_an_svg_that_caches_revalidate(string path)
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Header("Content-Type"));
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", response.BodyText);
        await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: {response.Header("ETag")}\r\n\r\n");
        Assert.Equal(304, (await connection.ReadResponseAsync()).StatusCode);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

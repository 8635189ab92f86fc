using System.Text.Json;
using Parley.Cli.Demo;
using Parley.Content.StaticFiles;
using Parley.Tests.Content.StaticFiles;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Demo;

/// <summary>
/// Headless Chromium looks at every demo page and at <c>serve DIR --list</c> listings, at a desktop width and
/// a 390 px phone width: a screenshot of each (in <see cref="ScreenshotDirectory"/>), and the layout faults
/// that can be measured must be absent: nothing wider than the viewport, no box outside it, no text spilling
/// out of its box, no block boxes overlapping, every link answering as designed.
/// </summary>
[Collection("Browser")]
public class DemoLayoutTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>Where the screenshots go: $PARLEY_SCREENSHOT_DIR, else <c>screenshots/</c> beside the test assembly.</summary>
    public static string ScreenshotDirectory =>
        Environment.GetEnvironmentVariable("PARLEY_SCREENSHOT_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "screenshots");

    // A request line far wider than a phone, to show that the request box wraps it.
    private static readonly string LongPath = "/no-such-page/" + string.Join("/", Enumerable.Repeat("a-rather-long-path-segment", 8)) + "?query=" + new string('q', 120);

    [Fact]
    public async Task Demo_pages_lay_out_without_faults_on_a_desktop_and_a_phone()
    {
        await using var server = await TestServer.StartAsync(DemoSite.Create());
        // "submit:/contact" fills and sends the contact form: the thank-you page its POST lands on is measured too.
        string[] paths = ["/", "/contact", "/moved", "/no-such-page", "/live", "/contact_form.php", "submit:/contact", LongPath];
        using JsonDocument doc = await BrowserDriver.RunAsync("layout", Limit,
            [server.BaseUri.ToString().TrimEnd('/'), Path.Combine(ScreenshotDirectory, "demo"), .. paths]);

        JsonElement[] pages = doc.RootElement.GetProperty("pages").EnumerateArray().ToArray();
        Assert.Equal(paths.Length * 2, pages.Length);
        foreach (JsonElement page in pages) AssertNoLayoutFaults(page);
        foreach (JsonElement page in pages) AssertShownHeadIsTheOneReceived(page);

        JsonElement moved = pages.First(p => p.GetProperty("path").GetString() == "/moved");
        Assert.Equal("/", moved.GetProperty("finalPath").GetString());
        Assert.Equal(["redirect", "exchange"], moved.GetProperty("sections").EnumerateArray().Select(s => s.GetString()));
        foreach (JsonElement bookmarked in pages.Where(p => p.GetProperty("path").GetString() == "/contact_form.php"))
        {
            // A GET of the form's target (a reload or bookmark of the thank-you page) is a styled 405 page linking back to the form.
            Assert.Equal(405, bookmarked.GetProperty("status").GetInt32());
            Assert.Contains(server.BaseUri + "contact", bookmarked.GetProperty("links").EnumerateArray().Select(l => l.GetString()));
        }
        JsonElement[] thanked = pages.Where(p => p.GetProperty("path").GetString() == "submit:/contact").ToArray();
        Assert.Equal(["desktop", "phone"], thanked.Select(p => p.GetProperty("viewport").GetString()));
        foreach (JsonElement thanks in thanked)
        {
            Assert.Equal("POST", thanks.GetProperty("method").GetString());
            Assert.Equal(200, thanks.GetProperty("status").GetInt32());
            Assert.Equal("/contact_form.php", thanks.GetProperty("finalPath").GetString());
            Assert.Equal("Thank you", thanks.GetProperty("h1").GetString());
        }

        AssertLinksAnswerAsDesigned(doc.RootElement.GetProperty("links"), server.BaseUri,
            designed404: path => path.StartsWith("/no-such-page", StringComparison.Ordinal));
        // Every page names its icon (a browser tab shows it), and the icon answers (checked with the links above).
        foreach (JsonElement page in pages)
        {
            Assert.True(page.GetProperty("icon").GetString() == server.BaseUri + "favicon.svg", $"{page.GetProperty("path").GetString()}: icon {page.GetProperty("icon")}");
        }
        Assert.Contains(doc.RootElement.GetProperty("links").EnumerateObject(), link => new Uri(link.Name).AbsolutePath == "/favicon.svg");
    }

    [Fact]
    public async Task Directory_listings_lay_out_without_faults_on_a_desktop_and_a_phone()
    {
        using var site = new StaticSite();
        site.Write("index-less/notes.txt", "notes");
        site.Write("README.md", "read me");
        site.Write("photo.jpg", StaticSite.RandomBytes(150_000));
        site.Write("archive.tar.gz", StaticSite.RandomBytes(3 * 1024 * 1024 + 12345));
        site.Write("a-file-name-long-enough-to-need-wrapping-on-a-phone-screen-and-then-some-more-characters.txt", "x");
        site.Write("sub dir/inner.txt", "inner");
        await using var server = await TestServer.StartAsync(new StaticFileHandler(new StaticFileOptions { Root = site.Root, EnableDirectoryListing = true }).Handler);
        string[] paths = ["/", "/sub%20dir/"];
        using JsonDocument doc = await BrowserDriver.RunAsync("layout", Limit,
            [server.BaseUri.ToString().TrimEnd('/'), Path.Combine(ScreenshotDirectory, "listing"), .. paths]);

        JsonElement[] pages = doc.RootElement.GetProperty("pages").EnumerateArray().ToArray();
        Assert.Equal(paths.Length * 2, pages.Length);
        foreach (JsonElement page in pages)
        {
            Assert.Equal(200, page.GetProperty("status").GetInt32());
            AssertNoLayoutFaults(page);
        }
        AssertLinksAnswerAsDesigned(doc.RootElement.GetProperty("links"), server.BaseUri, designed404: _ => false);
        // The six entries of /, the one of /sub dir/, and its ../ (which is /).
        Assert.Equal(8, doc.RootElement.GetProperty("links").EnumerateObject().Count());
    }

    private static void AssertNoLayoutFaults(JsonElement page)
    {
        string where = $"{page.GetProperty("path").GetString()} ({page.GetProperty("viewport").GetString()})";
        int scrollWidth = page.GetProperty("scrollWidth").GetInt32(), innerWidth = page.GetProperty("innerWidth").GetInt32();
        Assert.True(scrollWidth <= innerWidth, $"{where}: the page is {scrollWidth} px wide in a {innerWidth} px viewport");
        Assert.True(page.GetProperty("outside").GetArrayLength() == 0, $"{where}: boxes outside the viewport: {page.GetProperty("outside")}");
        Assert.True(page.GetProperty("overflowing").GetArrayLength() == 0, $"{where}: content wider than its box: {page.GetProperty("overflowing")}");
        Assert.True(page.GetProperty("overlaps").GetArrayLength() == 0, $"{where}: overlapping boxes: {page.GetProperty("overlaps")}");
        Assert.True(File.Exists(page.GetProperty("screenshot").GetString()), $"{where}: no screenshot");
    }

    // What the page shows as its response head holds the status and every field the browser received.
    private static void AssertShownHeadIsTheOneReceived(JsonElement page)
    {
        string where = $"{page.GetProperty("path").GetString()} ({page.GetProperty("viewport").GetString()})";
        string shown = page.GetProperty("shownResponseHead").GetString() ?? throw new Xunit.Sdk.XunitException($"{where}: no response head shown");
        // The HTML parser turns the CRLFs of the page's text into LFs (HTML's input stream preprocessing).
        string[] lines = shown.Split('\n');
        Assert.StartsWith($"HTTP/1.1 {page.GetProperty("status").GetInt32()} ", lines[0]);
        var shownFields = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0].ToLowerInvariant(), p => p[1]);
        var received = page.GetProperty("headers").EnumerateObject().ToDictionary(h => h.Name, h => h.Value.GetString());
        Assert.Equal(received.Keys.Order(), shownFields.Keys.Order());
        foreach ((string name, string? value) in received) Assert.True(shownFields[name] == value, $"{where}: {name} shown as '{shownFields[name]}', received '{value}'");
    }

    private static void AssertLinksAnswerAsDesigned(JsonElement links, Uri baseUri, Func<string, bool> designed404)
    {
        Assert.NotEmpty(links.EnumerateObject());
        foreach (JsonProperty link in links.EnumerateObject())
        {
            var url = new Uri(link.Name);
            Assert.Equal(baseUri.Port, url.Port);
            int status = link.Value.GetInt32();
            bool expected = designed404(url.AbsolutePath) ? status == 404 : status is >= 200 and < 400;
            Assert.True(expected, $"{link.Name} answered {status}");
        }
    }
}

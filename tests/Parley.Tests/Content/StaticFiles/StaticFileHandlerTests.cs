using System.IO.Compression;
using System.Text;
using Parley.Content;
using Parley.Http1;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>The static file handler over raw TCP: RFC 9110 methods, types, directories, validators, errors.</summary>
public sealed class StaticFileHandlerTests : IDisposable
{
    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    [Fact]
    public async Task Serves_a_file_with_type_charset_length_and_validators()
    {
        _site.Write("hello.txt", "Hello, files!\n");
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/hello.txt");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("Hello, files!\n", response.BodyText);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("14", response.Header("Content-Length"));
        Assert.Equal("bytes", response.Header("Accept-Ranges"));
        // RFC 9110 §8.8.3: a strong entity tag (no W/ prefix), quoted.
        string etag = response.Header("ETag")!;
        Assert.Matches("^\"[0-9a-f]+-[0-9a-f]+\"$", etag);
        // RFC 9110 §8.8.2: Last-Modified as an IMF-fixdate equal to the file's time.
        Assert.True(HttpDate.TryParse(response.Header("Last-Modified"), out DateTimeOffset lastModified));
        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(_site.Root, "hello.txt"));
        Assert.Equal(written.AddTicks(-(written.Ticks % TimeSpan.TicksPerSecond)), lastModified.UtcDateTime);
    }

    [Theory]
    [InlineData("page.html", "text/html; charset=utf-8")]
    [InlineData("app.js", "text/javascript; charset=utf-8")]
    [InlineData("style.css", "text/css; charset=utf-8")]
    [InlineData("image.png", "image/png")]
    [InlineData("data.unknownext", "application/octet-stream")]
    public async Task Content_type_comes_from_the_extension(string name, string expected)
    {
        _site.Write(name, "x");
        await using var server = await _site.StartAsync();
        Assert.Equal(expected, (await server.GetAsync("/" + name)).Header("Content-Type"));
    }

    [Fact]
    public async Task HEAD_gets_the_GET_head_without_the_body()
    {
        _site.Write("a.html", StaticSite.Text(5000));
        await using var server = await _site.StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse head = await connection.RequestAsync("/a.html", method: "HEAD");
        RawResponse get = await connection.RequestAsync("/a.html");
        // RFC 9110 §9.3.2: same fields; the next response on the connection proves no body was sent.
        Assert.Equal(200, head.StatusCode);
        Assert.Equal("5000", head.Header("Content-Length"));
        Assert.Equal(get.Header("ETag"), head.Header("ETag"));
        Assert.Equal(5000, get.Body.Length);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Other_methods_get_405_with_Allow(string method)
    {
        _site.Write("a.txt", "a");
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/a.txt", "Content-Length: 0\r\n", method);
        Assert.Equal(405, response.StatusCode); // RFC 9110 §15.5.6
        Assert.Equal("GET, HEAD, OPTIONS", response.Header("Allow"));
    }

    [Fact]
    public async Task OPTIONS_answers_204_with_Allow()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/anything", method: "OPTIONS");
        Assert.Equal(204, response.StatusCode); // RFC 9110 §9.3.7
        Assert.Equal("GET, HEAD, OPTIONS", response.Header("Allow"));
    }

    [Fact]
    public async Task A_missing_file_gets_a_404_html_page_that_does_not_echo_the_path()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/no-such-%3Cscript%3E.txt");
        Assert.Equal(404, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Header("Content-Type"));
        Assert.Contains("404 Not Found", response.BodyText);
        Assert.DoesNotContain("script", response.BodyText);
    }

    [Fact]
    public async Task A_directory_serves_its_index_html()
    {
        _site.Write("index.html", "<p>home</p>");
        _site.Write("docs/index.html", "<p>docs</p>");
        await using var server = await _site.StartAsync();
        Assert.Equal("<p>home</p>", (await server.GetAsync("/")).BodyText);
        Assert.Equal("<p>docs</p>", (await server.GetAsync("/docs/")).BodyText);
    }

    [Fact]
    public async Task A_directory_without_its_slash_is_redirected_301_keeping_the_query()
    {
        _site.Write("docs/index.html", "<p>docs</p>");
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/docs?lang=fr&x=%20");
        Assert.Equal(301, response.StatusCode); // RFC 9110 §15.4.2
        Assert.Equal("/docs/?lang=fr&x=%20", response.Header("Location"));
        Assert.Equal("/docs/", (await server.GetAsync("/docs")).Header("Location"));
    }

    [Fact]
    public async Task A_file_asked_as_a_directory_is_404()
    {
        _site.Write("a.txt", "a");
        await using var server = await _site.StartAsync();
        Assert.Equal(404, (await server.GetAsync("/a.txt/")).StatusCode);
        Assert.Equal(404, (await server.GetAsync("/a.txt/b")).StatusCode);
    }

    [Fact]
    public async Task A_directory_without_index_is_403_when_listing_is_off()
    {
        _site.Write("empty/readme.md", "r");
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/empty/");
        Assert.Equal(403, response.StatusCode);
        Assert.DoesNotContain("readme", response.BodyText);
    }

    [Fact]
    public async Task Directory_listing_escapes_names_encodes_links_and_hides_dotfiles()
    {
        _site.Write("files/<b>x & \"q\" 'a'.txt", "12345");
        _site.Write("files/café.txt", "c");
        _site.Write("files/sub/x.txt", "x");
        _site.Write("files/.hidden", "h");
        await using var server = await _site.StartAsync(o => new() { Root = o.Root, EnableDirectoryListing = true });
        RawResponse response = await server.GetAsync("/files/");
        Assert.Equal(200, response.StatusCode);
        string html = response.BodyText;
        Assert.Contains("&lt;b&gt;x &amp; &quot;q&quot; &#39;a&#39;.txt</a>", html);
        Assert.Contains("href=\"./%3Cb%3Ex%20%26%20%22q%22%20%27a%27.txt\"", html);
        Assert.Contains("href=\"./caf%C3%A9.txt\"", html);
        Assert.Contains("href=\"./sub/\"", html);
        Assert.Contains("title=\"5 bytes\">5 B</td>", html); // the size, exact in the tooltip
        Assert.Contains("href=\"../\"", html);
        Assert.DoesNotContain(".hidden", html);
        Assert.DoesNotContain("<b>", html);
        Assert.True(html.IndexOf("sub/", StringComparison.Ordinal) < html.IndexOf("caf", StringComparison.Ordinal), "directories first");
    }

    [Fact]
    public async Task Dotfiles_are_404_by_default_and_served_when_enabled()
    {
        _site.Write(".env", "PASSWORD=x");
        _site.Write(".well-known/security.txt", "Contact: x");
        await using (var server = await _site.StartAsync())
        {
            Assert.Equal(404, (await server.GetAsync("/.env")).StatusCode);
            Assert.Equal(200, (await server.GetAsync("/.well-known/security.txt")).StatusCode); // RFC 8615
        }
        await using (var server = await _site.StartAsync(o => new() { Root = o.Root, ServeDotFiles = true }))
        {
            Assert.Equal("PASSWORD=x", (await server.GetAsync("/.env")).BodyText);
        }
    }

    [Fact]
    public async Task Symlinks_inside_the_root_are_served_and_those_leaving_it_are_404_unless_allowed()
    {
        _site.Write("real/a.txt", "inside");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "alias.txt"), "real/a.txt");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "realdir"), Path.Combine(_site.Root, "real"));
        File.CreateSymbolicLink(Path.Combine(_site.Root, "leak.txt"), _site.SecretPath);
        File.CreateSymbolicLink(Path.Combine(_site.Root, "up"), "..");
        await using (var server = await _site.StartAsync())
        {
            Assert.Equal("inside", (await server.GetAsync("/alias.txt")).BodyText);
            Assert.Equal("inside", (await server.GetAsync("/realdir/a.txt")).BodyText);
            foreach (string target in new[] { "/leak.txt", "/up/secret.txt", "/up/site/leak.txt" })
            {
                RawResponse refused = await server.GetAsync(target);
                Assert.Equal(404, refused.StatusCode);
                Assert.DoesNotContain(StaticSite.Secret, refused.BodyText);
            }
        }
        await using (var server = await _site.StartAsync(o => new() { Root = o.Root, FollowSymlinksOutsideRoot = true }))
        {
            Assert.Contains(StaticSite.Secret, (await server.GetAsync("/leak.txt")).BodyText);
        }
    }

    [Fact]
    public async Task Cache_control_is_sent_when_configured()
    {
        _site.Write("a.txt", "a");
        await using var server = await _site.StartAsync(o => new() { Root = o.Root, CacheControl = "public, max-age=60" });
        Assert.Equal("public, max-age=60", (await server.GetAsync("/a.txt")).Header("Cache-Control"));
    }

    [Fact]
    public async Task Mounted_under_a_prefix_it_serves_below_it_and_redirects_the_bare_prefix()
    {
        _site.Write("app.js", "js");
        _site.Write("index.html", "home");
        var handler = new Parley.Content.StaticFiles.StaticFileHandler(new() { Root = _site.Root, PathPrefix = "/static" });
        var router = new Parley.Server.Router().MapGet("/static/*", handler.Handler).MapGet("/static", handler.Handler);
        await using var server = await TestServer.StartAsync(router.Handler);
        Assert.Equal("js", (await server.GetAsync("/static/app.js")).BodyText);
        Assert.Equal("home", (await server.GetAsync("/static/")).BodyText);
        Assert.Equal("/static/", (await server.GetAsync("/static")).Header("Location"));
    }

    [Fact]
    public async Task A_large_file_goes_out_intact_and_the_connection_stays_usable()
    {
        byte[] big = StaticSite.RandomBytes(5 * 1024 * 1024 + 17);
        _site.Write("big.bin", big);
        _site.Write("small.txt", "after");
        await using var server = await _site.StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        // Pipelined: the small response must follow the large one, in order, on the same connection.
        await connection.SendAsync("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(20));
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(big.Length.ToString(), first.Header("Content-Length"));
        Assert.True(big.AsSpan().SequenceEqual(first.Body), "large body differs");
        Assert.Equal("after", second.BodyText);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task Responses_batched_before_a_large_file_go_out_first_and_in_order()
    {
        // The buffered responses and the file's head travel with the file's first bytes (held back with
        // MSG_MORE / TCP_CORK); the bytes on the wire must still be exactly the three responses in order.
        byte[] big = StaticSite.RandomBytes(3 * 1024 * 1024 + 5, seed: 3);
        _site.Write("big.bin", big);
        _site.Write("small.txt", "small");
        await using var server = await _site.StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(
            "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("small", (await connection.ReadResponseAsync()).BodyText);
        RawResponse file = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(20));
        Assert.True(big.AsSpan().SequenceEqual(file.Body), "large body differs");
        Assert.Equal("small", (await connection.ReadResponseAsync()).BodyText);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_large_file_to_an_HTTP10_client_has_a_content_length()
    {
        byte[] big = StaticSite.RandomBytes(300 * 1024, seed: 2);
        _site.Write("big.bin", big);
        await using var server = await _site.StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /big.bin HTTP/1.0\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal(big.Length.ToString(), response.Header("Content-Length"));
        Assert.True(big.AsSpan().SequenceEqual(response.Body));
    }

    [Fact]
    public async Task An_empty_file_is_200_with_content_length_zero()
    {
        _site.Write("empty.txt", "");
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/empty.txt", "Range: bytes=0-10\r\n");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("0", response.Header("Content-Length"));
    }

    internal static byte[] Gunzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress)) gzip.CopyTo(output);
        return output.ToArray();
    }

    internal static byte[] Unbrotli(byte[] data)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(new MemoryStream(data), CompressionMode.Decompress)) brotli.CopyTo(output);
        return output.ToArray();
    }

    internal static string Utf8(byte[] data) => Encoding.UTF8.GetString(data);
}

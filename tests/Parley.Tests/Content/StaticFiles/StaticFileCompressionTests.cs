using System.IO.Compression;
using System.Text;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>Content codings for static files (RFC 9110 §8.4, §12.5.3): precompressed siblings and on-the-fly compression.</summary>
public sealed class StaticFileCompressionTests : IDisposable
{
    private readonly StaticSite _site = new();
    private readonly string _text = StaticSite.Text(20_000);

    public StaticFileCompressionTests() => _site.Write("app.js", _text);

    public void Dispose() => _site.Dispose();

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return output.ToArray();
    }

    [Fact]
    public async Task Compresses_on_the_fly_with_gzip_and_says_so()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/app.js", "Accept-Encoding: gzip\r\n");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("gzip", response.Header("Content-Encoding"));
        Assert.Equal("Accept-Encoding", response.Header("Vary")); // RFC 9110 §12.5.5
        Assert.StartsWith("W/\"", response.Header("ETag"));
        Assert.EndsWith(".gzip\"", response.Header("ETag"));
        Assert.True(response.Body.Length < _text.Length / 3);
        Assert.Equal(_text, StaticFileHandlerTests.Utf8(StaticFileHandlerTests.Gunzip(response.Body)));
    }

    [Fact]
    public async Task Prefers_brotli_when_both_are_equally_acceptable()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/app.js", "Accept-Encoding: gzip, deflate, br\r\n");
        Assert.Equal("br", response.Header("Content-Encoding"));
        Assert.Equal(_text, StaticFileHandlerTests.Utf8(StaticFileHandlerTests.Unbrotli(response.Body)));
        // q-values win over our preference (RFC 9110 §12.5.3).
        Assert.Equal("gzip", (await server.GetAsync("/app.js", "Accept-Encoding: br;q=0.5, gzip\r\n")).Header("Content-Encoding"));
    }

    [Fact]
    public async Task A_compressed_body_larger_than_the_buffer_goes_out_chunked()
    {
        string big = Convert.ToBase64String(StaticSite.RandomBytes(400_000)); // base64 of random bytes compresses poorly
        _site.Write("big.txt", big);
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/big.txt", "Accept-Encoding: gzip\r\n");
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Null(response.Header("Content-Length"));
        Assert.Equal(big, StaticFileHandlerTests.Utf8(StaticFileHandlerTests.Gunzip(response.Body)));
    }

    [Fact]
    public async Task HEAD_announces_the_compressed_length_a_GET_would_send()
    {
        await using var server = await _site.StartAsync();
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse head = await connection.RequestAsync("/app.js", "Accept-Encoding: gzip\r\n", "HEAD");
        RawResponse get = await connection.RequestAsync("/app.js", "Accept-Encoding: gzip\r\n");
        Assert.Equal(get.Body.Length.ToString(), head.Header("Content-Length"));
        Assert.Equal("gzip", head.Header("Content-Encoding"));
    }

    [Fact]
    public async Task Without_Accept_Encoding_the_file_is_sent_as_is_but_still_varies()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/app.js");
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal("Accept-Encoding", response.Header("Vary"));
        Assert.Equal(_text, response.BodyText);
        Assert.Null((await server.GetAsync("/app.js", "Accept-Encoding: identity\r\n")).Header("Content-Encoding"));
        Assert.Null((await server.GetAsync("/app.js", "Accept-Encoding: gzip;q=0, br;q=0\r\n")).Header("Content-Encoding"));
    }

    [Fact]
    public async Task Small_files_and_already_compressed_types_are_never_compressed()
    {
        _site.Write("tiny.css", "a{}");
        _site.Write("photo.png", StaticSite.RandomBytes(20_000));
        await using var server = await _site.StartAsync();
        RawResponse tiny = await server.GetAsync("/tiny.css", "Accept-Encoding: gzip\r\n");
        Assert.Null(tiny.Header("Content-Encoding"));
        RawResponse photo = await server.GetAsync("/photo.png", "Accept-Encoding: gzip, br\r\n");
        Assert.Null(photo.Header("Content-Encoding"));
        Assert.Null(photo.Header("Vary")); // nothing to negotiate
        Assert.Equal(20_000, photo.Body.Length);
    }

    [Fact]
    public async Task Ranges_are_never_compressed()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/app.js", "Accept-Encoding: gzip, br\r\nRange: bytes=0-9\r\n");
        Assert.Equal(206, response.StatusCode);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal(_text[..10], response.BodyText);
        Assert.Equal("Accept-Encoding", response.Header("Vary"));
    }

    [Fact]
    public async Task Compression_can_be_turned_off()
    {
        await using var server = await _site.StartAsync(o => new() { Root = o.Root, EnableCompression = false });
        Assert.Null((await server.GetAsync("/app.js", "Accept-Encoding: gzip\r\n")).Header("Content-Encoding"));
    }

    [Fact]
    public async Task A_fresh_precompressed_sibling_is_served_with_its_own_strong_tag()
    {
        byte[] gz = Gzip(_text);
        string sibling = _site.Write("app.js.gz", gz);
        File.SetLastWriteTimeUtc(sibling, File.GetLastWriteTimeUtc(Path.Combine(_site.Root, "app.js")).AddSeconds(1));
        await using var server = await _site.StartAsync(o => new() { Root = o.Root, EnableCompression = false });
        RawResponse response = await server.GetAsync("/app.js", "Accept-Encoding: gzip\r\n");
        Assert.Equal("gzip", response.Header("Content-Encoding"));
        Assert.Equal("text/javascript; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal(gz, response.Body); // the very bytes of the sibling
        Assert.Equal(gz.Length.ToString(), response.Header("Content-Length"));
        Assert.Matches("^\"[0-9a-f]+-[0-9a-f]+\\.gzip\"$", response.Header("ETag"));
        Assert.Equal("Accept-Encoding", response.Header("Vary"));
        // Its validators answer its conditionals; the identity tag does not match it.
        string etag = response.Header("ETag")!;
        Assert.Equal(304, (await server.GetAsync("/app.js", $"Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n")).StatusCode);
        Assert.Equal(200, (await server.GetAsync("/app.js", $"If-None-Match: {etag}\r\n")).StatusCode);
    }

    [Fact]
    public async Task A_stale_precompressed_sibling_is_ignored()
    {
        string sibling = _site.Write("app.js.gz", Gzip("old content"));
        File.SetLastWriteTimeUtc(sibling, File.GetLastWriteTimeUtc(Path.Combine(_site.Root, "app.js")).AddHours(-1));
        await using var server = await _site.StartAsync(o => new() { Root = o.Root, EnableCompression = false });
        RawResponse response = await server.GetAsync("/app.js", "Accept-Encoding: gzip\r\n");
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal(_text, response.BodyText);
    }
}

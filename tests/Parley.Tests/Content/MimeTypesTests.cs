using Parley.Content;

namespace Parley.Tests.Content;

public class MimeTypesTests
{
    [Theory]
    [InlineData("index.html", "text/html; charset=utf-8")]
    [InlineData("INDEX.HTM", "text/html; charset=utf-8")]
    [InlineData("site.css", "text/css; charset=utf-8")]
    [InlineData("app.js", "text/javascript; charset=utf-8")] // RFC 9239
    [InlineData("mod.mjs", "text/javascript; charset=utf-8")]
    [InlineData("data.json", "application/json; charset=utf-8")]
    [InlineData("app.js.map", "application/json; charset=utf-8")]
    [InlineData("notes.txt", "text/plain; charset=utf-8")]
    [InlineData("README.md", "text/markdown; charset=utf-8")]
    [InlineData("feed.xml", "application/xml; charset=utf-8")]
    [InlineData("logo.svg", "image/svg+xml; charset=utf-8")]
    [InlineData("a.png", "image/png")]
    [InlineData("a.jpg", "image/jpeg")]
    [InlineData("a.jpeg", "image/jpeg")]
    [InlineData("a.gif", "image/gif")]
    [InlineData("a.webp", "image/webp")]
    [InlineData("a.avif", "image/avif")]
    [InlineData("favicon.ico", "image/x-icon")]
    [InlineData("f.woff", "font/woff")]
    [InlineData("f.woff2", "font/woff2")]
    [InlineData("f.ttf", "font/ttf")]
    [InlineData("f.otf", "font/otf")]
    [InlineData("m.wasm", "application/wasm")]
    [InlineData("doc.pdf", "application/pdf")]
    [InlineData("a.zip", "application/zip")]
    [InlineData("a.tar.gz", "application/gzip")]
    [InlineData("a.br", "application/x-brotli")]
    [InlineData("v.mp4", "video/mp4")]
    [InlineData("v.webm", "video/webm")]
    [InlineData("s.mp3", "audio/mpeg")]
    [InlineData("s.ogg", "audio/ogg")]
    [InlineData("s.wav", "audio/wav")]
    [InlineData("t.csv", "text/csv; charset=utf-8")]
    [InlineData("/var/www/site/index.html", "text/html; charset=utf-8")]
    [InlineData("C:\\site\\index.html", "text/html; charset=utf-8")]
    public void Maps_common_extensions(string path, string expected)
    {
        Assert.Equal(expected, MimeTypes.GetContentType(path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Makefile")]
    [InlineData("archive.unknownext")]
    [InlineData("trailing.")]
    [InlineData("dir.html/file")] // the dot is in a directory name
    public void Falls_back_to_octet_stream(string path)
    {
        Assert.Equal(MimeTypes.Default, MimeTypes.GetContentType(path));
    }

    [Fact]
    public void Dot_file_is_mapped_by_the_text_after_its_dot()
    {
        Assert.Equal("text/html; charset=utf-8", MimeTypes.GetContentType("/site/.html"));
    }

    [Fact]
    public void TryGetContentType_reports_unknown_extensions()
    {
        Assert.False(MimeTypes.TryGetContentType("x.nope", out string? type));
        Assert.Null(type);
        Assert.True(MimeTypes.TryGetContentType("x.png", out type));
        Assert.Equal("image/png", type);
    }

    [Theory]
    [InlineData("text/html; charset=utf-8", true)]
    [InlineData("text/plain", true)]
    [InlineData("TEXT/CSS", true)]
    [InlineData("application/json", true)]
    [InlineData("application/javascript", true)]
    [InlineData("text/javascript; charset=utf-8", true)]
    [InlineData("image/svg+xml; charset=utf-8", true)]
    [InlineData("application/xml", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("application/wasm", true)]
    [InlineData(" application/json ;charset=utf-8", true)]
    [InlineData("image/png", false)]
    [InlineData("image/jpeg", false)]
    [InlineData("image/webp", false)]
    [InlineData("video/mp4", false)]
    [InlineData("audio/mpeg", false)]
    [InlineData("application/zip", false)]
    [InlineData("application/gzip", false)]
    [InlineData("font/woff2", false)]
    [InlineData("application/octet-stream", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Knows_which_types_compress(string? contentType, bool expected)
    {
        Assert.Equal(expected, MimeTypes.IsCompressible(contentType));
    }

    [Fact]
    public void Every_mapped_textual_type_is_compressible()
    {
        foreach (string ext in new[] { "html", "css", "js", "json", "svg", "xml", "txt", "md", "csv", "wasm", "map" })
        {
            Assert.True(MimeTypes.IsCompressible(MimeTypes.GetContentType("f." + ext)), ext);
        }
    }
}

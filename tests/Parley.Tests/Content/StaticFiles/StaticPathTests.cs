using System.Text;
using Parley.Content.StaticFiles;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>Mapping a raw request path to file-name segments (RFC 3986 §2.1, §3.3), one segment at a time.</summary>
public class StaticPathTests
{
    private static (PathVerdict Verdict, List<string> Segments, bool TrailingSlash) Map(string raw, string prefix = "", bool dotFiles = false)
    {
        var segments = new List<string>();
        PathVerdict verdict = StaticPath.Map(Encoding.Latin1.GetBytes(raw), prefix, dotFiles, segments, out bool trailing);
        return (verdict, segments, trailing);
    }

    [Theory]
    [InlineData("/", "", true)]
    [InlineData("/a.txt", "a.txt", false)]
    [InlineData("/dir/", "dir", true)]
    [InlineData("/dir/sub/file.css", "dir|sub|file.css", false)]
    [InlineData("/with%20space.txt", "with space.txt", false)]
    [InlineData("/caf%C3%A9.html", "café.html", false)]
    [InlineData("/50%25.txt", "50%.txt", false)]
    [InlineData("/%252e%252e", "%2e%2e", false)]
    [InlineData("/.well-known/security.txt", ".well-known|security.txt", false)]
    public void Decodes_each_segment_on_its_own(string raw, string expected, bool trailing)
    {
        var (verdict, segments, trailingSlash) = Map(raw);
        Assert.Equal(PathVerdict.Ok, verdict);
        Assert.Equal(expected, string.Join('|', segments));
        Assert.Equal(trailing, trailingSlash);
    }

    [Theory]
    [InlineData("/..")]
    [InlineData("/a/../b")]
    [InlineData("/%2e%2e/x")]
    [InlineData("/%2E%2E/x")]
    [InlineData("/.%2e/x")]
    [InlineData("/%2e./x")]
    [InlineData("/./x")]
    [InlineData("/a%2f..%2fb")]
    [InlineData("/a%2Fb")]
    [InlineData("/a%5cb")]
    [InlineData("/a\\b")]
    [InlineData("/a%00.txt")]
    [InlineData("/a%0d%0a")]
    [InlineData("/%c0%ae%c0%ae/x")]
    [InlineData("/%ff")]
    [InlineData("/a%2")]
    [InlineData("/a%zz")]
    [InlineData("//etc/passwd")]
    [InlineData("/a//b")]
    [InlineData("/C:/Windows")]
    [InlineData("/file.txt::$DATA")]
    [InlineData("relative")]
    [InlineData("*")]
    public void Refuses_malformed_or_hostile_paths_with_400(string raw)
    {
        Assert.Equal(PathVerdict.BadRequest, Map(raw).Verdict);
    }

    [Theory]
    [InlineData("/.git/config")]
    [InlineData("/.env")]
    [InlineData("/dir/.htpasswd")]
    [InlineData("/%2egit/config")]
    [InlineData("/a/.well-known/x")]
    public void Hides_dotfiles_as_404_by_default(string raw)
    {
        Assert.Equal(PathVerdict.NotFound, Map(raw).Verdict);
    }

    [Fact]
    public void Serves_dotfiles_when_asked_but_never_dot_segments()
    {
        Assert.Equal(PathVerdict.Ok, Map("/.env", dotFiles: true).Verdict);
        Assert.Equal(PathVerdict.BadRequest, Map("/..", dotFiles: true).Verdict);
        Assert.Equal(PathVerdict.BadRequest, Map("/.%2E", dotFiles: true).Verdict);
    }

    [Fact]
    public void A_segment_longer_than_a_file_name_is_404()
    {
        Assert.Equal(PathVerdict.NotFound, Map("/" + new string('a', 256)).Verdict);
        Assert.Equal(PathVerdict.Ok, Map("/" + new string('a', 255)).Verdict);
    }

    [Theory]
    [InlineData("/static/app.js", true, "app.js")]
    [InlineData("/static", true, "")]
    [InlineData("/static/", true, "")]
    [InlineData("/staticfoo/app.js", false, "")]
    [InlineData("/other/app.js", false, "")]
    public void Strips_the_mount_prefix(string raw, bool found, string segments)
    {
        var (verdict, list, _) = Map(raw, "/static");
        Assert.Equal(found ? PathVerdict.Ok : PathVerdict.NotFound, verdict);
        if (found) Assert.Equal(segments, string.Join('|', list));
    }

    [Fact]
    public void RealPath_resolves_links_like_the_kernel()
    {
        string dir = Directory.CreateTempSubdirectory("parley-realpath-").FullName;
        try
        {
            string real = StaticPath.RealPath(dir)!;
            Directory.CreateDirectory(Path.Combine(dir, "a", "b"));
            File.CreateSymbolicLink(Path.Combine(dir, "up"), "a/b/../..");
            File.CreateSymbolicLink(Path.Combine(dir, "a", "b", "abs"), "/tmp");
            Assert.Equal(real, StaticPath.RealPath(Path.Combine(dir, "up")));
            Assert.Equal(StaticPath.RealPath("/tmp"), StaticPath.RealPath(Path.Combine(dir, "a", "b", "abs")));
            File.CreateSymbolicLink(Path.Combine(dir, "loop"), "loop");
            Assert.Null(StaticPath.RealPath(Path.Combine(dir, "loop")));
            Assert.True(StaticPath.IsWithin(real + "/a", real));
            Assert.False(StaticPath.IsWithin(real + "x/a", real));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

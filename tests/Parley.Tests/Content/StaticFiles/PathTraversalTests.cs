using System.Text;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>
/// Hostile request-targets sent raw over TCP. A secret lies next to the root (and, hidden, inside it);
/// whatever the target, its content never appears and the answer is 400 or 404 — never 200, never 500.
/// </summary>
public sealed class PathTraversalTests : IAsyncLifetime
{
    private readonly StaticSite _site = new();
    private TestServer? _server;

    public static TheoryData<string> Attacks => new()
    {
        "/../secret.txt",
        "/../../secret.txt",
        "/../../../../../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/..%5Csecret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "/%2e%2e%5c%2e%2e%5csecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/%c0%ae%c0%ae%c0%afsecret.txt",
        "/%e0%80%ae%e0%80%ae/secret.txt",
        "/%c0%2e%c0%2e/secret.txt",
        "/..%c0%afsecret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/..%252fsecret.txt",
        "/%25%32%65%25%32%65/secret.txt",
        "/./../secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/..;/secret.txt",
        "/%00/../secret.txt",
        "/sub/ok.txt%00.html",
        "/..%00/secret.txt",
        "//secret.txt",
        "///etc/passwd",
        "//evil.example/%2e%2e/secret.txt",
        "http://evil.example/../secret.txt",
        "http://test/%2e%2e/secret.txt",
        "http://test/..%2fsecret.txt",
        "/C:/secret.txt",
        "/c:%5csecret.txt",
        "/%5c%5cserver%5cshare%5csecret.txt",
        "/\\\\server\\share\\secret.txt",
        "/%uff0e%uff0e/secret.txt",
        "/..%u2215secret.txt",
        "/%ef%bc%8e%ef%bc%8e/secret.txt",
        "/.../secret.txt",
        "/.env",
        "/%2eenv",
        "/sub/../.env",
        "/sub/%2e%2e/.env",
        "/leak.txt",
        "/up/secret.txt",
        "/up/%2e%2e/secret.txt",
        "/up/site/leak.txt",
        "/sub/linkdir/secret.txt",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/%ff%fe/../secret.txt",
        "/..%01/secret.txt",
    };

    public Task InitializeAsync() => StartAsync();

    private async Task StartAsync()
    {
        _site.Write("sub/ok.txt", "fine");
        _site.Write(".env", StaticSite.Secret); // a hidden file inside the root is a secret too
        File.CreateSymbolicLink(Path.Combine(_site.Root, "leak.txt"), _site.SecretPath);
        File.CreateSymbolicLink(Path.Combine(_site.Root, "up"), "..");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "sub", "linkdir"), _site.Base);
        _server = await _site.StartAsync(o => new() { Root = o.Root, EnableDirectoryListing = true });
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _site.Dispose();
    }

    [Fact]
    public async Task The_control_request_is_served()
    {
        // Proves the server behind the suite does serve files, so refusals below mean something.
        string all = await _server!.ExchangeUntilCloseAsync("GET /sub/ok.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", all);
        Assert.EndsWith("fine", all);
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Nothing_outside_the_root_or_hidden_leaks(string target)
    {
        string all = await _server!.ExchangeUntilCloseAsync($"GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        Assert.DoesNotContain(StaticSite.Secret, all);
        Assert.DoesNotContain("root:x:", all);
        Assert.Matches("^HTTP/1\\.1 (400|404) ", all);
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task The_listing_never_shows_links_that_leave_the_root_nor_hidden_files()
    {
        string all = await _server!.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", all);
        Assert.Contains("sub/", all);
        Assert.DoesNotContain("leak.txt", all);
        Assert.DoesNotContain("\"./up/\"", all);
        Assert.DoesNotContain(".env", all);
        Assert.DoesNotContain(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(StaticSite.Secret)), all);
    }
}

using System.Text;
using Parley.Content.StaticFiles;
using Parley.Server;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>Real clients against the static file handler: curl (ranges, compression) and wget (resuming).</summary>
public sealed class StaticFilesInteropTests : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private readonly StaticSite _site = new();
    private readonly string _downloads;
    private readonly List<AccessLogEntry> _log = [];

    public StaticFilesInteropTests() => _downloads = Directory.CreateDirectory(Path.Combine(_site.Base, "downloads")).FullName;

    public void Dispose() => _site.Dispose();

    private Task<TestServer> StartAsync() => TestServer.StartAsync(
        new StaticFileHandler(new StaticFileOptions { Root = _site.Root }).Handler,
        options => options.AccessLog = entry => { lock (_log) _log.Add(entry); });

    [Fact]
    public async Task Curl_fetches_a_single_range()
    {
        byte[] data = StaticSite.RandomBytes(100_000, seed: 5);
        _site.Write("data.bin", data);
        await using var server = await StartAsync();
        string output = Path.Combine(_downloads, "part");
        var result = (await ExternalTool.RunAsync("curl", ["-sS", "--range", "1000-1999", "-o", output, "-w", "%{http_code}", $"{server.BaseUri}data.bin"], ToolTimeout)).EnsureSuccess();
        Assert.Equal("206", result.StdOut);
        Assert.Equal(data.AsSpan(1000, 1000).ToArray(), await File.ReadAllBytesAsync(output));
    }

    [Fact]
    public async Task Curl_fetches_several_ranges_as_multipart_byteranges()
    {
        byte[] data = Encoding.ASCII.GetBytes(StaticSite.Text(10_000));
        _site.Write("data.txt", data);
        await using var server = await StartAsync();
        string output = Path.Combine(_downloads, "parts");
        var result = (await ExternalTool.RunAsync("curl", ["-sS", "--range", "0-9,5000-5019", "-D", "-", "-o", output, $"{server.BaseUri}data.txt"], ToolTimeout)).EnsureSuccess();
        Assert.StartsWith("HTTP/1.1 206 ", result.StdOut);
        Assert.Contains("Content-Type: multipart/byteranges; boundary=", result.StdOut);
        string body = Encoding.ASCII.GetString(await File.ReadAllBytesAsync(output));
        Assert.Contains("Content-Range: bytes 0-9/10000\r\n\r\n" + Encoding.ASCII.GetString(data, 0, 10) + "\r\n", body);
        Assert.Contains("Content-Range: bytes 5000-5019/10000\r\n\r\n" + Encoding.ASCII.GetString(data, 5000, 20) + "\r\n", body);
    }

    [Fact]
    public async Task Curl_compressed_decodes_what_the_server_compressed()
    {
        string text = StaticSite.Text(50_000);
        _site.Write("page.html", text);
        await using var server = await StartAsync();
        string output = Path.Combine(_downloads, "page.html");
        var result = (await ExternalTool.RunAsync("curl", ["-sS", "--compressed", "-D", "-", "-o", output, $"{server.BaseUri}page.html"], ToolTimeout)).EnsureSuccess();
        Assert.Matches("(?im)^Content-Encoding: (br|gzip)\r$", result.StdOut);
        Assert.Contains("Vary: Accept-Encoding", result.StdOut);
        Assert.Equal(text, await File.ReadAllTextAsync(output));
        lock (_log) Assert.True(_log[^1].BodyBytes < text.Length / 3, $"sent {_log[^1].BodyBytes} bytes");
    }

    [Fact]
    public async Task Wget_resumes_a_partly_downloaded_file()
    {
        byte[] data = StaticSite.RandomBytes(3 * 1024 * 1024 + 123, seed: 6);
        _site.Write("archive.bin", data);
        string partial = Path.Combine(_downloads, "archive.bin");
        await File.WriteAllBytesAsync(partial, data.AsSpan(0, 700_001).ToArray());
        await using var server = await StartAsync();
        (await ExternalTool.RunAsync("wget", ["-c", "-q", "-t", "1", "-T", "20", "-P", _downloads, $"{server.BaseUri}archive.bin"], ToolTimeout)).EnsureSuccess();
        byte[] resumed = await File.ReadAllBytesAsync(partial);
        Assert.True(data.AsSpan().SequenceEqual(resumed), "resumed file differs from the original");
        // A body this large leaves while the handler runs; the entry is logged once the handler has returned,
        // which may be after wget has the whole file and has exited.
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => { lock (_log) return _log.Count > 0; }, ServerTiming.HangBound),
            "the response was never logged");
        lock (_log)
        {
            AccessLogEntry entry = Assert.Single(_log);
            Assert.Equal(206, entry.StatusCode); // it asked for the rest only
            Assert.Equal(data.Length - 700_001, entry.BodyBytes);
        }
    }
}

/// <summary><c>parley serve DIR</c> as a process: a real browser and curl against it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ServeDirectoryCommandTests : IDisposable
{
    // A valid 1x1 PNG.
    private static readonly byte[] Pixel = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    internal static string CliPath()
    {
        // tests/Parley.Tests/bin/<Configuration>/net10.0/ → src/Parley.Cli/bin/<Configuration>/net10.0/Parley.Cli.dll
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string configuration = output.Parent!.Name;
        for (DirectoryInfo? dir = output; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "Parley.Cli", "bin", configuration, output.Name, "Parley.Cli.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"Parley.Cli.dll not found above {AppContext.BaseDirectory}; build the solution first");
    }

    private async Task<(RunningTool Tool, int Port)> ServeAsync(params string[] extra)
    {
        RunningTool tool = ExternalTool.Start("dotnet", [CliPath(), "serve", _site.Root, "--port", "0", .. extra]);
        int port = await tool.WaitForListeningPortAsync(TimeSpan.FromSeconds(60));
        return (tool, port);
    }

    [Fact]
    public async Task Chromium_loads_a_page_with_its_css_and_image_from_parley_serve_DIR()
    {
        _site.Write("index.html", """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Static Parley</title><link rel="stylesheet" href="css/site.css"></head>
            <body><h1>Hello</h1><img src="img/pixel.png" alt="a pixel" width="20" height="20"></body>
            </html>
            """);
        _site.Write("css/site.css", "h1 { color: #204a87; }\n" + StaticSite.Text(4000));
        _site.Write("img/pixel.png", Pixel);
        var (tool, port) = await ServeAsync();
        await using var _ = tool;

        using var doc = await BrowserDriver.RunAsync("page", $"http://127.0.0.1:{port}/");
        var json = doc.RootElement;
        Assert.Equal(200, json.GetProperty("status").GetInt32());
        Assert.Equal("Static Parley", json.GetProperty("title").GetString());
        Assert.Equal("nosniff", json.GetProperty("headers").GetProperty("x-content-type-options").GetString());
        var requests = json.GetProperty("requests").EnumerateArray()
            .Select(r => (Url: r.GetProperty("url").GetString()!, Status: r.GetProperty("status").GetInt32()))
            .ToList();
        Assert.Contains(($"http://127.0.0.1:{port}/css/site.css", 200), requests);
        Assert.Contains(($"http://127.0.0.1:{port}/img/pixel.png", 200), requests);
    }

    [Fact]
    public async Task Serve_DIR_prints_root_and_url_logs_requests_and_applies_its_options()
    {
        _site.Write("docs/readme.txt", "read me");
        _site.Write(".hidden", "h");
        var (tool, port) = await ServeAsync("--list", "--cache-control", "public, max-age=60", "--dotfiles");
        await using var _ = tool;
        string url = $"http://127.0.0.1:{port}/";
        var result = (await ExternalTool.RunAsync("curl", ["-sS", "-D", "-", $"{url}docs/readme.txt"], TimeSpan.FromSeconds(30))).EnsureSuccess();
        Assert.Contains("Cache-Control: public, max-age=60\r\n", result.StdOut);
        Assert.Contains("X-Frame-Options: DENY\r\n", result.StdOut);
        Assert.DoesNotContain("Strict-Transport-Security", result.StdOut);
        Assert.EndsWith("read me", result.StdOut);
        var listing = (await ExternalTool.RunAsync("curl", ["-sS", $"{url}docs/"], TimeSpan.FromSeconds(30))).EnsureSuccess();
        Assert.Contains("href=\"./readme.txt\"", listing.StdOut);
        Assert.Equal("h", (await ExternalTool.RunAsync("curl", ["-sS", $"{url}.hidden"], TimeSpan.FromSeconds(30))).EnsureSuccess().StdOut);

        string realRoot = StaticPath.RealPath(_site.Root)!;
        // The access-log line is written after the response, so it may reach the test after curl is done.
        await tool.WaitForOutputAsync("GET /docs/readme.txt 200", TimeSpan.FromSeconds(30));
        Assert.Contains($"Parley serving {realRoot} on {url}", tool.StdOut);
    }

    [Fact]
    public async Task Serve_DIR_refuses_a_missing_directory()
    {
        var result = await ExternalTool.RunAsync("dotnet", [CliPath(), "serve", Path.Combine(_site.Base, "nope"), "--port", "0"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a directory", result.StdErr);
    }
}

using System.Net.Sockets;
using System.Text;
using Parley.Server;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary><c>parley get/post/request</c> run as a process (the built Parley.Cli.dll) against a Parley server.</summary>
public class CliTests
{
    private static string CliPath()
    {
        // tests/Parley.Tests/bin/{Configuration}/net10.0/ -> src/Parley.Cli/bin/{Configuration}/net10.0/Parley.Cli.dll
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string framework = bin.Name, configuration = bin.Parent!.Name;
        DirectoryInfo root = bin.Parent!.Parent!.Parent!.Parent!.Parent!;
        string path = Path.Combine(root.FullName, "src", "Parley.Cli", "bin", configuration, framework, "Parley.Cli.dll");
        Assert.True(File.Exists(path), $"the CLI is not built at {path}");
        return path;
    }

    internal static Task<ToolResult> RunAsync(params string[] args) =>
        ExternalTool.RunAsync("dotnet", [CliPath(), .. args], TimeSpan.FromSeconds(30));

    private static async ValueTask Site(HttpRequest request, HttpResponse response)
    {
        switch (request.Path)
        {
            case "/moved":
                response.Redirect("/hello", 301);
                return;
            case "/missing":
                response.StatusCode = 404;
                response.WriteText("no such page");
                return;
            case "/form":
                byte[] body = await request.ReadBodyAsync(4 << 20);
                response.WriteText($"{request.Method} {request.Headers["Content-Type"]} {Encoding.ASCII.GetString(body)} X-Test={request.Headers["X-Test"]}");
                return;
            default:
                response.WriteText($"Hello from request #{request.RequestNumberOnConnection}");
                return;
        }
    }

    [Fact]
    public async Task Verbose_prints_connection_request_response_then_body_then_timing()
    {
        await using var server = await TestServer.StartAsync(Site);
        ToolResult result = await RunAsync("get", "-v", $"{server.BaseUri}hello");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Hello from request #1", result.StdOut);
        string[] lines = result.StdErr.Split('\n');
        int Line(string start) => Array.FindIndex(lines, l => l.StartsWith(start, StringComparison.Ordinal));
        int connected = Line($"* Connected to 127.0.0.1 (127.0.0.1 port {server.Port}) from 127.0.0.1:");
        int requestLine = Line("> GET /hello HTTP/1.1");
        int host = Line($"> Host: 127.0.0.1:{server.Port}");
        int statusLine = Line("< HTTP/1.1 200 OK");
        int length = Line("< Content-Length: 21");
        int bodySize = Line("* Response body: 21 bytes");
        int timing = Line("* Timing: DNS ");
        // An address literal is not looked up: no Resolving step, and no DNS time.
        Assert.DoesNotContain("* Resolving", result.StdErr);
        Assert.StartsWith("* Timing: DNS 0 ms, ", lines[timing]);
        Assert.True(connected >= 0 && connected < requestLine && requestLine < host && host < statusLine && statusLine < length && length < bodySize && bodySize < timing, result.StdErr);
        Assert.Contains("(new connection)", lines[connected]);
        Assert.Matches(@"connect [\d.]+ ms, request sent [\d.]+ ms, first byte [\d.]+ ms, transfer [\d.]+ ms, total [\d.]+ ms", lines[timing]);
    }

    [Fact]
    public async Task Include_prints_the_head_as_received_before_the_body()
    {
        await using var server = await TestServer.StartAsync(Site);
        ToolResult result = await RunAsync("get", "-i", $"{server.BaseUri}hello");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", result.StdOut);
        Assert.Contains("\r\nContent-Length: 21\r\n", result.StdOut);
        Assert.EndsWith("\r\n\r\nHello from request #1", result.StdOut);
    }

    [Fact]
    public async Task Location_follows_redirects_and_traces_every_hop()
    {
        await using var server = await TestServer.StartAsync(Site);
        ToolResult plain = await RunAsync("get", $"{server.BaseUri}moved");
        Assert.Contains("Moved to", plain.StdOut);
        ToolResult result = await RunAsync("get", "-L", "-v", $"{server.BaseUri}moved");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Hello from request #2", result.StdOut);
        Assert.Contains("< HTTP/1.1 301 Moved Permanently", result.StdErr);
        Assert.Contains($"* Following redirect (301) to {server.BaseUri}hello", result.StdErr);
        Assert.Contains("> GET /hello HTTP/1.1", result.StdErr);
        Assert.Contains("* Re-using connection", result.StdErr);
        Assert.Equal(2, result.StdErr.Split('\n').Count(l => l.StartsWith("* Timing:", StringComparison.Ordinal)));

        ToolResult heads = await RunAsync("get", "-L", "-i", $"{server.BaseUri}moved");
        Assert.StartsWith("HTTP/1.1 301 Moved Permanently\r\n", heads.StdOut);
        Assert.Contains("\r\n\r\nHTTP/1.1 200 OK\r\n", heads.StdOut);
        Assert.EndsWith("\r\n\r\nHello from request #2", heads.StdOut);
    }

    [Fact]
    public async Task Repeat_sends_over_one_keep_alive_connection_with_per_request_timing()
    {
        await using var server = await TestServer.StartAsync(Site);
        ToolResult result = await RunAsync("get", "--repeat", "3", $"{server.BaseUri}hello");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Hello from request #1Hello from request #2Hello from request #3", result.StdOut);
        string[] summaries = result.StdErr.Split('\n').Where(l => l.StartsWith("* Request ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, summaries.Length);
        Assert.Contains("new connection", summaries[0]);
        Assert.Contains("reused connection", summaries[1]);
        Assert.Contains("request #3 on it", summaries[2]);
        Assert.Matches(@"200 OK, 21 bytes, [\d.]+ ms", summaries[2]);
    }

    [Fact]
    public async Task Post_form_fields_data_files_headers_and_methods()
    {
        await using var server = await TestServer.StartAsync(Site);
        ToolResult form = await RunAsync("post", $"{server.BaseUri}form", "-F", "name=Joe User", "-F", "request=a&b", "-H", "X-Test: yes");
        Assert.Equal("POST application/x-www-form-urlencoded name=Joe+User&request=a%26b X-Test=yes", form.StdOut);

        ToolResult data = await RunAsync("post", $"{server.BaseUri}form", "-d", "name=Joe%20User&request=hi");
        Assert.Equal("POST application/x-www-form-urlencoded name=Joe%20User&request=hi X-Test=", data.StdOut);

        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "from=file");
        try
        {
            ToolResult fromFile = await RunAsync("request", "-X", "PUT", $"{server.BaseUri}form", "-d", $"@{file}");
            Assert.Equal("PUT application/x-www-form-urlencoded from=file X-Test=", fromFile.StdOut);

            // A body over 1 MiB waits for 100 Continue, as with curl.
            await File.WriteAllTextAsync(file, "big=" + new string('x', 1 << 20));
            ToolResult large = await RunAsync("post", "-v", $"{server.BaseUri}form", "-d", $"@{file}");
            Assert.Equal(0, large.ExitCode);
            Assert.Contains("> Expect: 100-continue", large.StdErr);
            Assert.True(large.StdErr.IndexOf("< HTTP/1.1 100 Continue", StringComparison.Ordinal)
                < large.StdErr.IndexOf("* Request body sent: 1048580 bytes", StringComparison.Ordinal), large.StdErr);
            Assert.StartsWith("POST application/x-www-form-urlencoded big=xxx", large.StdOut);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Output_writes_the_body_to_a_file_without_a_progress_bar_when_stderr_is_not_a_terminal()
    {
        await using var server = await TestServer.StartAsync(Site);
        string file = Path.Combine(Path.GetTempPath(), $"parley-{Guid.NewGuid():N}.txt");
        try
        {
            ToolResult result = await RunAsync("get", "-o", file, $"{server.BaseUri}hello");
            Assert.Equal(0, result.ExitCode);
            Assert.Equal("", result.StdOut);
            Assert.Equal("", result.StdErr);
            Assert.Equal("Hello from request #1", await File.ReadAllTextAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Exit_codes_distinguish_usage_connection_timeout_malformed_and_fail()
    {
        await using var server = await TestServer.StartAsync(Site);
        ToolResult missing = await RunAsync("get", "--fail", $"{server.BaseUri}missing");
        Assert.Equal(6, missing.ExitCode);
        Assert.Equal("", missing.StdOut);
        Assert.Equal($"parley: {server.BaseUri}missing answered 404 Not Found", missing.StdErr.Trim());
        Assert.Equal(0, (await RunAsync("get", $"{server.BaseUri}missing")).ExitCode);

        Assert.Equal(2, (await RunAsync("get")).ExitCode);
        Assert.Equal(2, (await RunAsync("get", "--bogus", $"{server.BaseUri}")).ExitCode);
        ToolResult ftp = await RunAsync("get", "ftp://127.0.0.1/");
        Assert.Equal(2, ftp.ExitCode);
        Assert.StartsWith("parley: unsupported scheme 'ftp'", ftp.StdErr);

        using Socket refusing = Loopback.RefusingPort(out int closedPort);
        ToolResult refused = await RunAsync("get", $"http://127.0.0.1:{closedPort}/");
        Assert.Equal(3, refused.ExitCode);
        // The address is named once, not again inside the reason.
        Assert.Equal($"parley: cannot connect to 127.0.0.1 port {closedPort}: Connection refused", refused.StdErr.Trim());
        Assert.Single(refused.StdErr.Trim().Split('\n'));

        await using var silent = new ScriptedServer(exchange => exchange.HangAsync());
        ToolResult timeout = await RunAsync("get", "--timeout", "0.5", silent.Url);
        Assert.Equal(4, timeout.ExitCode);
        Assert.StartsWith("parley: timed out after", timeout.StdErr);

        await using var hostile = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 2OO OK\r\n\r\n"));
        ToolResult malformed = await RunAsync("get", hostile.Url);
        Assert.Equal(5, malformed.ExitCode);
        Assert.Equal($"parley: malformed status code from 127.0.0.1:{hostile.Port}: 'HTTP/1.1 2OO OK'", malformed.StdErr.Trim());
    }
}

using System.Diagnostics;
using System.Net;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Cli;

/// <summary>`parley serve` as a real process: listening, access log, graceful stop on SIGTERM.</summary>
public class ServeCommandTests
{
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    [Fact]
    public async Task Serve_prints_where_it_listens_logs_each_request_and_exits_0_on_SIGTERM()
    {
        await using RunningTool server = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--port", "0"]);
        int port = await server.WaitForListeningPortAsync(TimeSpan.FromSeconds(60));

        await using (var connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await connection.SendAsync("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(301, response.StatusCode);
        }

        Process.Start("kill", ["-TERM", server.ProcessId.ToString()]).WaitForExit();
        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, exitCode);
        Assert.Contains($"listening on http://127.0.0.1:{port}/", server.StdOut);
        Assert.Matches(@"GET /moved 301 \d+B [\d.]+ms \(request 1 on its connection\)", server.StdOut);
        Assert.Contains("Stopped.", server.StdOut);
    }

    [Fact]
    public async Task Serve_with_proxy_protocol_reads_the_header_and_closes_a_connection_without_one()
    {
        int port = Loopback.FreePort();
        await using RunningTool server = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--port", port.ToString(), "--proxy-protocol", "--health"]);
        await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        await using (var proxied = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await proxied.SendAsync("PROXY TCP4 192.0.2.10 198.51.100.1 56324 80\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await proxied.ReadResponseAsync()).StatusCode);
        }
        await using (var plain = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await plain.SendAsync("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal("", await plain.ReadUntilCloseAsync());
        }
        Process.Start("kill", ["-TERM", server.ProcessId.ToString()]).WaitForExit();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Serve_with_status_answers_the_status_page_for_the_demo_and_for_a_directory()
    {
        await using (RunningTool demo = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--port", "0", "--quiet", "--status-path", "/_status"]))
        {
            int port = await demo.WaitForListeningPortAsync(TimeSpan.FromSeconds(60));
            await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
            await connection.SendAsync("GET /_status?format=json HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse status = await connection.ReadResponseAsync();
            Assert.Equal((200, "application/json"), (status.StatusCode, status.Header("Content-Type")));
            using var json = System.Text.Json.JsonDocument.Parse(status.Body);
            string peer = connection.Socket.LocalEndPoint!.ToString()!;
            Assert.Contains(json.RootElement.GetProperty("connections").EnumerateArray(), c => c.GetProperty("peer").GetString() == peer && c.GetProperty("state").GetString() == "in-handler");
            await connection.SendAsync("GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(404, (await connection.ReadResponseAsync()).StatusCode);
        }
        string site = Directory.CreateTempSubdirectory("parley-status-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(site, "index.html"), "<p>site</p>");
            await using RunningTool files = ExternalTool.Start("dotnet", [CliAssembly, "serve", site, "--port", "0", "--quiet", "--status"]);
            int port = await files.WaitForListeningPortAsync(TimeSpan.FromSeconds(60));
            await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
            await connection.SendAsync("GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse page = await connection.ReadResponseAsync();
            Assert.Equal((200, "text/html; charset=utf-8"), (page.StatusCode, page.Header("Content-Type")));
            Assert.Contains("script-src 'sha256-", page.Header("Content-Security-Policy"));
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal("<p>site</p>", (await connection.ReadResponseAsync()).BodyText);
        }
        finally
        {
            Directory.Delete(site, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_listens_on_IPv6_loopback()
    {
        await using RunningTool server = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--host", "::1", "--port", "0", "--quiet"]);
        int port = await server.WaitForListeningPortAsync(TimeSpan.FromSeconds(60));
        await using (RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.IPv6Loopback, port)))
        {
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            Assert.Contains("Host: [::1]", response.BodyText);
        }
    }

    [Fact]
    public async Task Serve_reports_a_port_in_use_clearly()
    {
        using var blocker = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        ToolResult result = await ExternalTool.RunAsync("dotnet", [CliAssembly, "serve", "--port", port.ToString()], TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"parley: cannot listen on 127.0.0.1:{port}", result.StdErr);
    }

    [Fact]
    public async Task Serve_on_a_port_another_Parley_server_listens_on_fails_with_one_line_and_exit_2()
    {
        // Two Parley servers once shared a port (SO_REUSEPORT set by accident) and split its connections.
        await using TestServer running = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText("first");
            return ValueTask.CompletedTask;
        });
        ToolResult result = await ExternalTool.RunAsync("dotnet", [CliAssembly, "serve", "--port", running.Port.ToString()], TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"parley: cannot listen on 127.0.0.1:{running.Port}: address already in use", result.StdErr.Trim());
        Assert.DoesNotContain("serving", result.StdOut);
    }
}

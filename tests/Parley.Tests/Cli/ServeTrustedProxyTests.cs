using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Cli;

/// <summary>
/// `parley serve --trusted-proxy` as a real process (issue 20): the client address a trusted proxy forwards
/// is the one the server acts on and logs; the same fields from a peer outside the trusted ranges are ignored.
/// </summary>
public class ServeTrustedProxyTests
{
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    [Theory]
    [InlineData("127.0.0.1", "203.0.113.7")]        // the loopback peer is the trusted proxy
    [InlineData("127.0.0.0/8", "203.0.113.7")]      // inside a trusted range
    [InlineData("10.0.0.0/8", "127.0.0.1")]         // the peer is not trusted: its X-Forwarded-For is ignored
    public async Task The_access_log_shows_the_forwarded_client_only_behind_a_trusted_proxy(string trusted, string expectedRemote)
    {
        string site = Directory.CreateTempSubdirectory("parley-proxy-site-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(site, "index.html"), "<p>hello</p>");
            int port = Loopback.FreePort();
            await using RunningTool server = ExternalTool.Start("dotnet",
                [CliAssembly, "serve", site, "--port", port.ToString(CultureInfo.InvariantCulture), "--trusted-proxy", trusted, "--access-log", "json"]);
            await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));

            await using (RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port)))
            {
                await connection.SendAsync("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nX-Forwarded-For: 203.0.113.7\r\n" +
                    "X-Forwarded-Proto: https\r\nUser-Agent: proxied-agent\r\nConnection: close\r\n\r\n");
                RawResponse response = await connection.ReadResponseAsync();
                Assert.Equal(200, response.StatusCode);
                Assert.Equal("<p>hello</p>", response.BodyText);
            }

            string line = await WaitForLineAsync(server, "proxied-agent");
            using JsonDocument entry = JsonDocument.Parse(line);
            Assert.Equal(expectedRemote, entry.RootElement.GetProperty("remote").GetString());
            Assert.Equal(200, entry.RootElement.GetProperty("status").GetInt32());
        }
        finally
        {
            Directory.Delete(site, recursive: true);
        }
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_demo_tells_connections_apart_by_their_TCP_peer_not_the_forwarded_client()
    {
        int port = Loopback.FreePort();
        await using RunningTool server = ExternalTool.Start("dotnet",
            [CliAssembly, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--trusted-proxy", "127.0.0.1", "--quiet"]);
        await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        const string Forwarded = "X-Forwarded-For: 203.0.113.7\r\n";

        // One client (one forwarded address) on two upstream connections, as a proxy's pool carries it:
        // the redirect on the first, two requests on the second. The page must not call it the same connection.
        await using RawConnection first = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
        await using RawConnection second = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
        await second.SendAsync($"GET /style.css HTTP/1.1\r\nHost: x\r\n{Forwarded}\r\n");
        Assert.Equal(200, (await second.ReadResponseAsync()).StatusCode);
        await first.SendAsync($"GET /moved HTTP/1.1\r\nHost: x\r\n{Forwarded}\r\n");
        Assert.Equal(301, (await first.ReadResponseAsync()).StatusCode);
        await second.SendAsync($"GET / HTTP/1.1\r\nHost: x\r\n{Forwarded}\r\n");
        RawResponse elsewhere = await second.ReadResponseAsync();
        Assert.Contains("on another TCP connection", elsewhere.BodyText);

        // The redirect followed on its own connection is still recognised as such.
        await first.SendAsync($"GET /moved HTTP/1.1\r\nHost: x\r\n{Forwarded}\r\n");
        Assert.Equal(301, (await first.ReadResponseAsync()).StatusCode);
        await first.SendAsync($"GET / HTTP/1.1\r\nHost: x\r\n{Forwarded}\r\n");
        Assert.Contains("on this same connection, just before this request", (await first.ReadResponseAsync()).BodyText);
    }

    private static async Task<string> WaitForLineAsync(RunningTool server, string marker)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            string? line = server.StdOut.Split('\n').FirstOrDefault(l => l.Contains(marker, StringComparison.Ordinal));
            if (line is not null) return line.Trim();
            await Task.Delay(20);
        }
        throw new TimeoutException($"no access-log line with {marker} within 15 s; stdout so far:\n{server.StdOut}");
    }
}

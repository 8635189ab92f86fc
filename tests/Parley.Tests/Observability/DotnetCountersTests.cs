using System.Globalization;
using System.Net;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Observability;

/// <summary>
/// dotnet-counters (the NuGet tool pinned in .config/dotnet-tools.json; scripts/test.sh restores it) sees
/// Parley's metrics by name from outside the process, over the runtime's diagnostic port, from a running
/// `parley serve`.
/// </summary>
public class DotnetCountersTests
{
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    private static string RepositoryRoot => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    [Fact]
    public async Task Dotnet_counters_collects_Parleys_server_metrics_by_name()
    {
        int port = Loopback.FreePort();
        await using RunningTool server = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--quiet"]);
        await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        string output = Path.Combine(Path.GetTempPath(), $"parley-counters-{Guid.NewGuid():N}.json");
        try
        {
            await ExternalTool.RunAsync("dotnet", ["tool", "restore"], TimeSpan.FromMinutes(2), workingDirectory: RepositoryRoot);
            Task<ToolResult> collect = ExternalTool.RunAsync("dotnet",
                ["tool", "run", "dotnet-counters", "--", "collect", "-p", server.ProcessId.ToString(CultureInfo.InvariantCulture),
                 "--counters", "Parley.Server", "--format", "json", "-o", output, "--duration", "00:00:08", "--refresh-interval", "1"],
                TimeSpan.FromSeconds(90), workingDirectory: RepositoryRoot);
            // Requests on new connections for as long as the session runs (bounded by its duration).
            while (!collect.IsCompleted)
            {
                await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, port));
                await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
                await Task.WhenAny(collect, Task.Delay(100));
            }
            (await collect).EnsureSuccess();

            string json = await File.ReadAllTextAsync(output);
            Assert.Contains("\"provider\": \"Parley.Server\"", json);
            Assert.Contains("\"name\": \"http.server.request.duration (s)\"", json);
            Assert.Contains("\"name\": \"http.server.active_requests ({request})\"", json);
            Assert.Contains("\"name\": \"parley.server.active_connections ({connection})\"", json);
            Assert.Contains("\"name\": \"parley.server.connection.duration (s)\"", json);
            Assert.Contains("http.request.method=GET", json);
            Assert.Contains($"server.port={port}", json);
        }
        finally
        {
            File.Delete(output);
        }
    }
}

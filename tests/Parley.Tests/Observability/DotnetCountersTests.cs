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
        string json = await CollectWhileServingAsync(port, ["--counters", "Parley.Server"], CliAssembly);
        Assert.Contains("\"provider\": \"Parley.Server\"", json);
        Assert.Contains("\"name\": \"http.server.request.duration (s)\"", json);
        Assert.Contains("\"name\": \"http.server.active_requests ({request})\"", json);
        Assert.Contains("\"name\": \"parley.server.active_connections ({connection})\"", json);
        Assert.Contains("\"name\": \"parley.server.connection.duration (s)\"", json);
        Assert.Contains("http.request.method=GET", json);
        Assert.Contains($"server.port={port}", json);
    }

    [Fact]
    public async Task With_the_Parley_Telemetry_IsSupported_switch_off_the_server_publishes_no_metrics()
    {
        // The same CLI, run with a runtimeconfig.json whose configProperties turn the feature switch off.
        string directory = Directory.CreateTempSubdirectory("parley-no-telemetry-").FullName;
        try
        {
            string runtimeConfig = Path.Combine(directory, "Parley.Cli.runtimeconfig.json");
            var config = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(CliAssembly, ".runtimeconfig.json")))!;
            var runtimeOptions = config["runtimeOptions"]!.AsObject();
            if (runtimeOptions["configProperties"] is null) runtimeOptions["configProperties"] = new System.Text.Json.Nodes.JsonObject();
            runtimeOptions["configProperties"]!["Parley.Telemetry.IsSupported"] = false;
            await File.WriteAllTextAsync(runtimeConfig, config.ToJsonString());

            int port = Loopback.FreePort();
            string json = await CollectWhileServingAsync(port, ["--counters", "Parley.Server,System.Runtime"],
                "exec", "--runtimeconfig", runtimeConfig, CliAssembly);
            // The session saw the process (the runtime's own counters) but no Parley instrument was ever created.
            Assert.Contains("\"provider\": \"System.Runtime\"", json);
            Assert.DoesNotContain("Parley.Server", json);
            Assert.DoesNotContain("http.server", json);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // Starts `parley serve` with the given dotnet arguments before "serve", runs dotnet-counters collect on it
    // for 6 s while requests on new connections are served, and returns the JSON it wrote.
    private static async Task<string> CollectWhileServingAsync(int port, string[] counters, params string[] dotnetArguments)
    {
        await using RunningTool server = ExternalTool.Start("dotnet", [.. dotnetArguments, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--quiet"]);
        await server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        string output = Path.Combine(Path.GetTempPath(), $"parley-counters-{Guid.NewGuid():N}.json");
        try
        {
            await ExternalTool.RunAsync("dotnet", ["tool", "restore"], TimeSpan.FromMinutes(2), workingDirectory: RepositoryRoot);
            Task<ToolResult> collect = ExternalTool.RunAsync("dotnet",
                ["tool", "run", "dotnet-counters", "--", "collect", "-p", server.ProcessId.ToString(CultureInfo.InvariantCulture),
                 .. counters, "--format", "json", "-o", output, "--duration", "00:00:06", "--refresh-interval", "1"],
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
            return await File.ReadAllTextAsync(output);
        }
        finally
        {
            File.Delete(output);
        }
    }
}

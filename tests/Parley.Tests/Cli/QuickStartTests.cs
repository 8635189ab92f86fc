using System.Globalization;
using Parley.Tests.Interop;

namespace Parley.Tests.Cli;

/// <summary>
/// README.md's C# quick starts compile against the Parley under test and do what the README says, run as it
/// says: the server sample started (<c>dotnet run --project samples/ServerQuickStart</c>), the client sample
/// run while it listens, then Enter stops the server. <see cref="ReadmeTests"/> holds the README's blocks equal
/// to the sample files; this test compiles those files in a project of its own (referencing the Parley.dll
/// beside the tests, so no library build runs under a test run) with one rewrite: the README's port 8080
/// becomes a free port, in both programs.
/// </summary>
public sealed class QuickStartTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly DirectoryInfo TestBin = new(AppContext.BaseDirectory.TrimEnd('/'));
    // tests/Parley.Tests/bin/{Configuration}/{framework}/ -> the repository root.
    private static readonly string Root = TestBin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
    private static readonly string Framework = TestBin.Name;
    private readonly string _work = Directory.CreateTempSubdirectory("parley-quickstart-").FullName;
    private readonly int _port = Loopback.FreePort();

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_server_and_client_quick_starts_compile_and_talk_to_each_other()
    {
        string server = await CompileAsync("ServerQuickStart");
        string client = await CompileAsync("ClientQuickStart");

        await using RunningTool running = ExternalTool.Start("dotnet", [server], workingDirectory: _work, environment: Quiet, keepStandardInput: true);
        int port = await running.WaitForListeningPortAsync(Limit, @"Listening on http://127\.0\.0\.1:(?<port>\d+)/ \(Enter stops\)");
        Assert.Equal(_port, port);

        ToolResult asked = await ExternalTool.RunAsync("dotnet", [client], Limit, workingDirectory: _work, environment: Quiet);
        Assert.True(asked.ExitCode == 0, $"the client quick start exited with {asked.ExitCode}:\n{asked.StdOut}\n{asked.StdErr}");
        // ParleyClient's line (status, reason, the JSON of user 42), then HttpClient over ParleyHandler's (user 7).
        Assert.Equal("200 OK: {\"id\":42,\"name\":\"user 42\"}\n{\"id\":7,\"name\":\"user 7\"}\n", asked.StdOut);

        using (var http = new HttpClient())
        {
            using HttpResponseMessage home = await http.GetAsync($"http://127.0.0.1:{port}/");
            Assert.Equal("Hello from Parley\n", await home.Content.ReadAsStringAsync());
            Assert.Equal("text/plain", home.Content.Headers.ContentType?.MediaType);
            using HttpResponseMessage notAnInt = await http.GetAsync($"http://127.0.0.1:{port}/users/abc");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, notAnInt.StatusCode);
        }

        // "Enter stops": the server stops gracefully and the program ends by itself.
        await running.WriteLineAsync("");
        Assert.Equal(0, await running.WaitForExitAsync(Limit));
        Assert.False(await Loopback.CanConnectAsync(port), $"port {port} still accepts connections after the server stopped");
    }

    /// <summary>Builds samples/NAME/Program.cs (8080 rewritten) in a project of its own; returns the program's dll.</summary>
    private async Task<string> CompileAsync(string sample)
    {
        string directory = Path.Combine(_work, sample);
        Directory.CreateDirectory(directory);
        string program = await File.ReadAllTextAsync(Path.Combine(Root, "samples", sample, "Program.cs"));
        Assert.Contains("8080", program);
        await File.WriteAllTextAsync(Path.Combine(directory, "Program.cs"), program.Replace("8080", _port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        // The settings the samples get from the repository's Directory.Build.props that C# compilation depends on.
        await File.WriteAllTextAsync(Path.Combine(directory, sample + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{Framework}</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="Parley" HintPath="{Path.Combine(AppContext.BaseDirectory, "Parley.dll")}" />
              </ItemGroup>
            </Project>
            """);
        ToolResult build = await ExternalTool.RunAsync("dotnet", ["build", directory, "-c", "Release", "-o", Path.Combine(directory, "out"), "--nologo", "-v", "quiet"],
            Limit, workingDirectory: directory, environment: Quiet);
        Assert.True(build.ExitCode == 0, $"samples/{sample}/Program.cs does not compile against this Parley:\n{build.StdOut}\n{build.StdErr}");
        return Path.Combine(directory, "out", sample + ".dll");
    }

    private static readonly Dictionary<string, string?> Quiet = new()
    {
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };
}

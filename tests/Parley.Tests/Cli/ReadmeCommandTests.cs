using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Parley.Tests.Interop;

namespace Parley.Tests.Cli;

/// <summary>
/// README.md's commands run as written: each is executed by <c>sh</c> from the repository root, with a
/// fresh <c>$HOME</c> (so that <c>~/.local/share/parley/dev-cert</c> is the development certificate the
/// README's <c>serve --https</c> makes there), and its exit status and a recognisable piece of its output are
/// checked. Two rewrites only: <c>dotnet run --project src/Parley.Cli --</c> (and an installed
/// <c>parley</c>) become <c>dotnet Parley.Cli.dll</c> of the build under test, and the README's ports 8080
/// and 8443 become free ports, consistently in every command and URL.
/// </summary>
public sealed class ReadmeCommandTests : IDisposable
{
    private const string ViaDotnetRun = "dotnet run --project src/Parley.Cli -- ";
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);
    private static readonly string Root = RepositoryRoot();
    private static readonly string Readme = File.ReadAllText(Path.Combine(Root, "README.md")).ReplaceLineEndings("\n");
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    /// <summary>A server the README starts: what it prints, and a request that shows it serves what it should.</summary>
    private sealed record Server(string Banner, string ProbePath, HttpStatusCode ProbeStatus, string ProbeEvidence, bool ServesTheClientCommands);

    /// <summary>A command that runs and ends: its exit status and a piece of its output (stdout and stderr).</summary>
    private sealed record Outcome(int ExitCode, string Evidence);

    // Each README command, as written, and what it must do. {plain} and {https} stand for the ports that replace 8080 and 8443.
    private static readonly Dictionary<string, Server> Servers = new()
    {
        [ViaDotnetRun + "serve"] = new("Parley demo site listening on http://127.0.0.1:{plain}/", "/", HttpStatusCode.OK, "<h1>", ServesTheClientCommands: true),
        [ViaDotnetRun + "serve --https"] = new("Parley demo site listening on https://127.0.0.1:{https}/", "/", HttpStatusCode.OK, "Over TLS: TLSv1.", ServesTheClientCommands: true),
        // The plain port answers every request with a redirect to the same path on the HTTPS port.
        [ViaDotnetRun + "serve --https --redirect-http 8080"] = new("Redirecting http://127.0.0.1:{plain}/ to HTTPS", "/contact?x=1", HttpStatusCode.MovedPermanently, "https://127.0.0.1:{https}/contact?x=1", ServesTheClientCommands: false),
        [ViaDotnetRun + "serve ./docs --list --cache-control 'public, max-age=3600'"] = new("serving " + Path.Combine(Root, "docs") + " on http://127.0.0.1:{plain}/", "/", HttpStatusCode.OK, "tls.md", ServesTheClientCommands: false),
    };

    private static readonly Dictionary<string, Outcome> Commands = new()
    {
        ["parley --version"] = new(0, "parley "),
        [ViaDotnetRun + "serve --help"] = new(0, "--transport"),
        ["parley get --help"] = new(0, "14 TLS handshake timed out"),
        ["curl --cacert ~/.local/share/parley/dev-cert/localhost.pem https://localhost:8443/"] = new(0, "Over TLS: TLSv1."),
        [ViaDotnetRun + "get -v http://127.0.0.1:8080/moved -L"] = new(0, "* Following redirect (301) to http://127.0.0.1:{plain}/"),
        [ViaDotnetRun + "get -v --cacert ~/.local/share/parley/dev-cert/localhost.pem https://localhost:8443/"] = new(0, "* TLS: TLSv1."),
        [ViaDotnetRun + "post http://127.0.0.1:8080/contact_form.php -d 'name=Joe%20User&request=Send%20me%20one%20of%20your%20catalogue'"] = new(0, "Send me one of your catalogue"),
        [ViaDotnetRun + "request -X OPTIONS -i http://127.0.0.1:8080/contact"] = new(0, "Allow: GET, HEAD, OPTIONS"),
        ["curl -v -H 'Accept-Language: fr' http://127.0.0.1:8080/ -o /dev/null"] = new(0, "< Content-Language: fr"),
    };

    // Commands other tests run, or that this one cannot: why.
    private static readonly Dictionary<string, string> RunElsewhere = new()
    {
        ["dotnet pack src/Parley.Cli -c Release -o artifacts/packages"] = "PackageInstallTests packs the tool",
        ["dotnet tool install --global Parley.Cli --add-source artifacts/packages"] = "PackageInstallTests installs the packed tool (with --tool-path, not into the user's global tools)",
        ["dotnet pack src/Parley -c Release -o artifacts/packages"] = "PackageInstallTests packs the library",
        ["./scripts/publish.sh"] = "a NativeAOT build takes minutes; the parley it makes is the CLI this test runs",
        ["artifacts/parley-linux-x64/parley --version"] = "needs ./scripts/publish.sh; 'parley --version' is run here",
        ["./scripts/test.sh"] = "it is the test run itself",
    };

    private readonly string _home = Directory.CreateTempSubdirectory("parley-readme-home-").FullName;
    private readonly int _plainPort = Loopback.FreePort(), _httpsPort = Loopback.FreePort();

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public void Every_README_command_is_one_this_test_knows_and_every_one_it_knows_is_in_the_README()
    {
        string[] known = [.. Servers.Keys, .. Commands.Keys, .. RunElsewhere.Keys];
        List<string> inReadme = ReadmeCommands();
        Assert.Empty(inReadme.Except(known));
        Assert.Empty(known.Except(inReadme));
    }

    [Fact]
    public async Task The_README_commands_run_as_written_and_do_what_it_says()
    {
        foreach (string command in Commands.Keys.Where(c => !NeedsAServer(c))) await RunAsync(command);

        // The demo's two servers ("Run the demo") answer the client commands and the curl lines.
        string[] background = Servers.Where(s => s.Value.ServesTheClientCommands).Select(s => s.Key).ToArray();
        var running = new List<RunningTool>();
        try
        {
            foreach (string server in background) running.Add(await StartAsync(server));
            foreach (string command in Commands.Keys.Where(NeedsAServer)) await RunAsync(command);
            foreach (RunningTool server in running) await StopAsync(server);
        }
        finally
        {
            foreach (RunningTool server in running) server.Dispose();
        }

        // The others use the same ports, one at a time.
        foreach (string command in Servers.Keys.Except(background))
        {
            using RunningTool server = await StartAsync(command);
            await StopAsync(server);
        }
    }

    private static bool NeedsAServer(string command) => command.Contains("8080", StringComparison.Ordinal) || command.Contains("8443", StringComparison.Ordinal);

    private async Task RunAsync(string command)
    {
        Outcome expected = Commands[command];
        ToolResult result = await ExternalTool.RunAsync("sh", ["-c", AsRunHere(command)], CommandLimit, workingDirectory: Root, environment: Environment());
        string output = result.StdOut + result.StdErr;
        Assert.True(result.ExitCode == expected.ExitCode, $"'{command}' exited with {result.ExitCode}, not {expected.ExitCode}:\n{ToolResult.Tail(output)}");
        string evidence = WithPorts(expected.Evidence);
        Assert.True(output.Contains(evidence, StringComparison.Ordinal), $"'{command}' did not print '{evidence}':\n{ToolResult.Tail(output)}");
    }

    private async Task<RunningTool> StartAsync(string command)
    {
        Server expected = Servers[command];
        string asRun = AsRunHere(command);
        // The README's serve commands listen on the default port (8080, or 8443 with --https): name it, rewritten.
        if (!asRun.Contains("--port", StringComparison.Ordinal)) asRun += $" --port {(asRun.Contains("--https", StringComparison.Ordinal) ? _httpsPort : _plainPort)}";
        RunningTool server = ExternalTool.Start("sh", ["-c", "exec " + asRun], workingDirectory: Root, environment: Environment());
        try
        {
            string banner = WithPorts(expected.Banner);
            var clock = Stopwatch.StartNew();
            while (!server.StdOut.Contains(banner, StringComparison.Ordinal))
            {
                if (server.HasExited || clock.Elapsed > CommandLimit)
                {
                    Assert.Fail($"'{command}' did not print '{banner}' ({(server.HasExited ? "it exited" : "time ran out")}):\n{server.StdOut}\n{server.StdErr}");
                }
                await Task.Delay(50);
            }
            await ProbeAsync(command, expected);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private async Task ProbeAsync(string command, Server expected)
    {
        int port = expected.Banner.Contains("https://", StringComparison.Ordinal) ? _httpsPort : _plainPort;
        string scheme = port == _httpsPort ? "https" : "http";
        using var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            // The development certificate is checked by the README's own curl --cacert; here only the content matters.
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        };
        using var client = new HttpClient(handler) { Timeout = CommandLimit };
        using HttpResponseMessage response = await client.GetAsync($"{scheme}://127.0.0.1:{port}{expected.ProbePath}");
        string seen = response.Headers.Location?.ToString() + "\n" + response.Headers.CacheControl + "\n" + await response.Content.ReadAsStringAsync();
        string evidence = WithPorts(expected.ProbeEvidence);
        Assert.True(response.StatusCode == expected.ProbeStatus, $"'{command}' answered GET {expected.ProbePath} with {(int)response.StatusCode}, not {(int)expected.ProbeStatus}");
        Assert.True(seen.Contains(evidence, StringComparison.Ordinal), $"'{command}' answered GET {expected.ProbePath} without '{evidence}':\n{seen[..Math.Min(seen.Length, 2000)]}");
        if (command.Contains("--cache-control", StringComparison.Ordinal))
        {
            // --cache-control is the files' Cache-Control (a listing is generated, so it stays no-cache).
            using HttpResponseMessage file = await client.GetAsync($"{scheme}://127.0.0.1:{port}/tls.md");
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.Equal("public, max-age=3600", file.Headers.CacheControl?.ToString());
        }
    }

    // README: "Ctrl+C (or SIGTERM) stops it gracefully."
    private static async Task StopAsync(RunningTool server)
    {
        Process.Start("kill", ["-TERM", server.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExit();
        int exitCode = await server.WaitForExitAsync(CommandLimit);
        Assert.True(exitCode == 0, $"'{server.Command}' exited with {exitCode} on SIGTERM:\n{server.StdErr}");
    }

    private string AsRunHere(string command)
    {
        string cli = $"dotnet '{CliAssembly}' ";
        string asRun = command.StartsWith(ViaDotnetRun, StringComparison.Ordinal) ? cli + command[ViaDotnetRun.Length..]
            : command.StartsWith("parley ", StringComparison.Ordinal) ? cli + command["parley ".Length..]
            : command;
        return asRun.Replace("8080", _plainPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("8443", _httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private string WithPorts(string text) => text.Replace("{plain}", _plainPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{https}", _httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private Dictionary<string, string?> Environment() => new()
    {
        ["HOME"] = _home,
        ["XDG_DATA_HOME"] = null,
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    /// <summary>
    /// Every command of README.md: each line of its ```sh blocks, each <c>$ </c> line of its ```console blocks,
    /// and each inline <c>`parley ...`</c> or <c>`dotnet run --project src/Parley.Cli -- ...`</c> span that gives
    /// options (a span such as <c>`parley serve DIR`</c> names a command, it is not one to run).
    /// </summary>
    private static List<string> ReadmeCommands()
    {
        var commands = new List<string>();
        foreach (Match block in Regex.Matches(Readme, @"^```(sh|console)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline))
        {
            foreach (string line in block.Groups[2].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (block.Groups[1].Value == "sh") commands.Add(line);
                else if (line.StartsWith("$ ", StringComparison.Ordinal)) commands.Add(line[2..]);
            }
        }
        string prose = Regex.Replace(Readme, @"^```.*?^```", "", RegexOptions.Multiline | RegexOptions.Singleline);
        foreach (Match span in Regex.Matches(prose, @"`((?:parley|dotnet run --project src/Parley\.Cli --) [^`]*)`"))
        {
            if (span.Groups[1].Value.Contains(" -", StringComparison.Ordinal) && !span.Groups[1].Value.EndsWith(" --", StringComparison.Ordinal)) commands.Add(span.Groups[1].Value);
        }
        return commands.Distinct().ToList();
    }

    private static string RepositoryRoot()
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
    }
}

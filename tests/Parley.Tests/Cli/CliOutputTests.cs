using Parley.Cli;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Cli;

/// <summary>Where the client commands put a response: -o checked before sending, -i -o, binary bodies and terminals, the -o summary.</summary>
public class CliOutputTests
{
    [Fact]
    public async Task An_output_path_that_cannot_be_written_is_one_line_naming_o_and_nothing_is_sent()
    {
        int requests = 0;
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            Interlocked.Increment(ref requests);
            response.WriteText("body");
            return ValueTask.CompletedTask;
        });
        string directory = Directory.CreateTempSubdirectory("parley-o-").FullName;
        try
        {
            foreach ((string path, string expected) in new[]
            {
                (directory, $"parley: -o {directory}: is a directory, not a file"),
                (Path.Combine(directory, "missing", "file"), $"parley: -o {Path.Combine(directory, "missing", "file")}: no such directory {Path.Combine(directory, "missing")}"),
                // A directory that exists but takes no new file (the kernel answers ENOENT): no .NET text in the line.
                ("/proc/self/parley-output", "parley: -o /proc/self/parley-output: a file cannot be created in /proc/self"),
            })
            {
                var stderr = new StringWriter();
                int status = await ClientCommands.RunAsync(Settings(server, path), new StringWriter(), stderr, CancellationToken.None);
                Assert.Equal(ClientCommands.OtherFailure, status);
                Assert.Equal(expected, stderr.ToString().TrimEnd('\n'));
            }
            Assert.Equal(0, Volatile.Read(ref requests));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Include_with_output_puts_the_head_and_the_body_in_the_file()
    {
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText("the body");
            return ValueTask.CompletedTask;
        });
        string file = Path.Combine(Path.GetTempPath(), $"parley-{Guid.NewGuid():N}.txt");
        try
        {
            var stdout = new StringWriter();
            int status = await ClientCommands.RunAsync(Settings(server, file) with { Include = true }, stdout, new StringWriter(), CancellationToken.None);
            Assert.Equal(ClientCommands.Success, status);
            Assert.Equal("", stdout.ToString());
            string saved = await File.ReadAllTextAsync(file);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", saved);
            Assert.EndsWith("\r\n\r\nthe body", saved);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_failed_request_leaves_no_empty_output_file_behind()
    {
        string file = Path.Combine(Path.GetTempPath(), $"parley-{Guid.NewGuid():N}.txt");
        var settings = new ClientCommands.Settings { Url = $"http://127.0.0.1:{Interop.Loopback.FreePort()}/", Method = "GET", Output = file };
        int status = await ClientCommands.RunAsync(settings, new StringWriter(), new StringWriter(), CancellationToken.None);
        Assert.Equal(ClientCommands.ConnectionFailure, status);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task A_binary_body_is_not_written_to_a_terminal()
    {
        await using TestServer server = await TestServer.StartAsync(async (request, response) =>
        {
            response.Headers["Content-Type"] = "image/png";
            await response.WriteAsync(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0, 0, 0, 13 });
        });
        var stderr = new StringWriter();
        int status = await ClientCommands.RunAsync(Settings(server, null) with { StdoutIsTerminal = true }, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(ClientCommands.OtherFailure, status);
        Assert.Equal("parley: the response body is binary (image/png): not written to the terminal; save it with -o FILE, or print it anyway with -o -",
            stderr.ToString().TrimEnd('\n'));
    }

    [Fact]
    public void The_progress_bar_ends_with_a_summary_of_size_time_speed_and_where_it_was_saved()
    {
        var stderr = new StringWriter();
        var progress = new ProgressBar(stderr, 2048);
        progress.Update(1024);
        progress.Finish(2048, "out.bin");
        string last = stderr.ToString().Split('\r').Last().TrimEnd();
        Assert.Matches(@"^2\.0 KiB in [\d.]+ s \([\d.]+ (B|KiB|MiB)/s\), saved to out\.bin$", last);
    }

    // The same, run as a user runs it: the parley process on a real terminal (a pseudo-terminal from script(1)),
    // which it detects by itself. The body's marker shows whether the body reached the terminal.
    [Fact]
    public async Task On_a_real_terminal_a_binary_body_is_refused_forced_with_o_dash_and_o_ends_with_its_summary()
    {
        byte[] body = [0x89, (byte)'P', (byte)'N', (byte)'G', 0, 0, .. "BODY-MARKER"u8];
        await using TestServer server = await TestServer.StartAsync(async (request, response) =>
        {
            response.Headers["Content-Type"] = "image/png";
            await response.WriteAsync(body);
        });
        string url = $"{server.BaseUri}image.png";

        ToolResult refused = await OnATerminalAsync($"get {url}");
        Assert.Equal(ClientCommands.OtherFailure, refused.ExitCode);
        Assert.Contains("parley: the response body is binary (image/png): not written to the terminal; save it with -o FILE, or print it anyway with -o -", refused.StdOut);
        Assert.DoesNotContain("BODY-MARKER", refused.StdOut);

        ToolResult forced = await OnATerminalAsync($"get -o - {url}");
        Assert.Equal(ClientCommands.Success, forced.ExitCode);
        Assert.Contains("BODY-MARKER", forced.StdOut);

        string file = Path.Combine(Path.GetTempPath(), $"parley-{Guid.NewGuid():N}.png");
        try
        {
            ToolResult saved = await OnATerminalAsync($"get -o {file} {url}");
            Assert.Equal(ClientCommands.Success, saved.ExitCode);
            Assert.Equal(body, await File.ReadAllBytesAsync(file));
            // The progress bar redraws its line with \r; the last drawing is the summary.
            string last = saved.StdOut.Split('\r', '\n').Last(line => line.Trim().Length > 0).Trim();
            Assert.Matches($@"^17 B in [\d.]+ s \([\d.]+ (B|KiB|MiB)/s\), saved to {System.Text.RegularExpressions.Regex.Escape(file)}$", last);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Help_states_the_exit_codes_once_per_kind_of_command()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");
        ToolResult help = await ExternalTool.RunAsync("dotnet", [cli, "--help"], TimeSpan.FromSeconds(60));
        Assert.Equal(0, help.ExitCode);
        // One statement for the client commands, one for serve.
        Assert.Equal(2, Occurrences(help.StdOut, "Exit status:"));
        Assert.Equal(1, Occurrences(help.StdOut, "3 connection failure"));
        Assert.Equal(1, Occurrences(help.StdOut, "0 stopped by Ctrl+C or SIGTERM"));
        foreach (string command in new[] { "get", "post", "request", "serve" })
        {
            ToolResult commandHelp = await ExternalTool.RunAsync("dotnet", [cli, command, "--help"], TimeSpan.FromSeconds(60));
            Assert.Equal(0, commandHelp.ExitCode);
            Assert.Equal(1, Occurrences(commandHelp.StdOut, "Exit status:"));
        }
    }

    private static int Occurrences(string text, string part) =>
        (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    /// <summary>Runs parley with stdin, stdout and stderr on a pseudo-terminal; StdOut is all the terminal showed.</summary>
    private static Task<ToolResult> OnATerminalAsync(string arguments)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");
        // script -e: exit with the command's status; -q: no start and end lines; /dev/null: no typescript file.
        return ExternalTool.RunAsync("script", ["-qec", $"dotnet '{cli}' {arguments}", "/dev/null"], TimeSpan.FromSeconds(60),
            environment: new Dictionary<string, string?> { ["TERM"] = "dumb", ["DOTNET_NOLOGO"] = "1" });
    }

    private static ClientCommands.Settings Settings(TestServer server, string? output) =>
        new() { Url = $"{server.BaseUri}file", Method = "GET", Output = output };
}

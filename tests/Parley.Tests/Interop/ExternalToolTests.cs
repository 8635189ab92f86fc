using System.Diagnostics;
using System.Text;

namespace Parley.Tests.Interop;

/// <summary>The helper every interop test stands on: real programs, real timeouts.</summary>
public class ExternalToolTests
{
    [Fact]
    public async Task Runs_python_and_captures_stdout()
    {
        var result = await ExternalTool.RunAsync("python3", "-c", "print(42)");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("42\n", result.StdOut);
        Assert.Equal("", result.StdErr);
        Assert.Equal("42\n"u8.ToArray(), result.StdOutBytes);
    }

    [Fact]
    public async Task Reports_exit_code_and_stderr()
    {
        var result = await ExternalTool.RunAsync(
            "python3", "-c", "import sys; sys.stderr.write('bad thing\\n'); sys.exit(3)");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("bad thing\n", result.StdErr);
        var error = Assert.Throws<InvalidOperationException>(() => result.EnsureSuccess());
        Assert.Contains("exited with 3", error.Message);
        Assert.Contains("bad thing", error.Message);
    }

    [Fact]
    public async Task Passes_arguments_verbatim_without_a_shell()
    {
        string[] tricky = ["two words", "$HOME", "it's \"quoted\"", "a;b|c&d", "*", ""];

        var result = await ExternalTool.RunAsync(
            "python3", ["-c", "import sys, json; print(json.dumps(sys.argv[1:]))", .. tricky]);

        result.EnsureSuccess();
        var echoed = System.Text.Json.JsonSerializer.Deserialize<string[]>(result.StdOut);
        Assert.Equal(tricky, echoed);
    }

    [Fact]
    public async Task Feeds_stdin_and_keeps_binary_stdout_intact()
    {
        var input = new byte[256];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (byte)i;
        }

        var result = await ExternalTool.RunAsync(
            "python3",
            ["-c", "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1])"],
            stdin: input);

        result.EnsureSuccess();
        Assert.Equal(input.Reverse().ToArray(), result.StdOutBytes);
    }

    [Fact]
    public async Task Closes_stdin_when_none_is_given()
    {
        // cat would wait forever on an open stdin.
        var result = await ExternalTool.RunAsync("cat", [], TimeSpan.FromSeconds(10));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StdOut);
    }

    [Fact]
    public async Task Timeout_kills_sleep_promptly_and_says_so()
    {
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ExternalToolTimeoutException>(
            () => ExternalTool.RunAsync("sleep", ["30"], TimeSpan.FromSeconds(1)));

        // Not before its 1 s, and long before sleep's 30 s (starting and reaping processes take their time under load).
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        Assert.Contains("sleep 30", error.Message);
        Assert.Contains("did not finish within 1 s", error.Message);
        Assert.Contains("killed", error.Message);
        Assert.Equal(TimeSpan.FromSeconds(1), error.Timeout);
    }

    [Fact]
    public async Task Timeout_kills_the_whole_process_tree()
    {
        // The shell starts a grandchild, reports its pid, then waits on it.
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ExternalToolTimeoutException>(
            () => ExternalTool.RunAsync("sh", ["-c", "sleep 30 & echo $!; wait"], TimeSpan.FromSeconds(1)));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        var grandchild = int.Parse(error.StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await IsGoneAsync(grandchild), $"grandchild sleep (pid {grandchild}) survived the timeout");
    }

    [Fact]
    public async Task Background_tool_is_killed_on_dispose()
    {
        int pid;
        await using (var tool = ExternalTool.Start("sleep", ["30"]))
        {
            pid = tool.ProcessId;
            Assert.False(tool.HasExited);
        }
        Assert.True(await IsGoneAsync(pid), $"sleep (pid {pid}) survived Dispose");
    }

    [Fact]
    public void Find_returns_an_absolute_executable_path()
    {
        var python = ExternalTool.Find("python3");

        Assert.True(Path.IsPathRooted(python), python);
        Assert.True(File.Exists(python), python);
    }

    [Fact]
    public void Find_fails_clearly_for_a_missing_tool()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ExternalTool.Find("parley-no-such-tool"));

        Assert.Contains("'parley-no-such-tool'", error.Message);
        Assert.Contains("./scripts/test.sh", error.Message);
        Assert.Null(ExternalTool.TryFind("parley-no-such-tool"));
    }

    /// <summary>Every tool the interop tests rely on is installed (scripts/test.sh installs them):
    /// a missing one fails here rather than being skipped.</summary>
    [Theory]
    [InlineData("curl", "--version", "curl")]
    [InlineData("wget", "--version", "Wget")]
    [InlineData("python3", "--version", "Python 3")]
    [InlineData("node", "--version", "v")]
    [InlineData("nginx", "-v", "nginx/")]
    [InlineData("chromium", "--version", "Chromium")]
    public async Task Required_tool_is_installed_and_runs(string tool, string versionFlag, string expected)
    {
        var path = ExternalTool.Find(tool);
        if (tool == "nginx")
        {
            Assert.Equal("/usr/sbin/nginx", path);
        }
        if (tool == "chromium")
        {
            Assert.Equal("/usr/bin/chromium", path);
        }

        var result = await ExternalTool.RunAsync(path, [versionFlag], TimeSpan.FromSeconds(30));

        result.EnsureSuccess();
        Assert.Contains(expected, result.StdOut + result.StdErr); // nginx -v prints on stderr
    }

    /// <summary>True once the pid is gone or a zombie (PID 1 here may not reap orphans).</summary>
    private static async Task<bool> IsGoneAsync(int pid)
    {
        for (var i = 0; i < 50; i++)
        {
            string stat;
            try
            {
                stat = await File.ReadAllTextAsync($"/proc/{pid}/stat", Encoding.ASCII);
            }
            catch (IOException)
            {
                return true;
            }
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            if (state is "Z" or "X")
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }
}

using System.Diagnostics;
using System.Text;

namespace Parley.Tests.Interop;

/// <summary>What a finished external program did.</summary>
public sealed record ToolResult(
    string Command,
    int ExitCode,
    byte[] StdOutBytes,
    string StdErr,
    TimeSpan Elapsed)
{
    /// <summary>Standard output decoded as UTF-8.</summary>
    public string StdOut => Encoding.UTF8.GetString(StdOutBytes);

    /// <summary>Throws with the command, exit code and output unless the program exited 0.</summary>
    public ToolResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{Command}' exited with {ExitCode}.\n--- stdout ---\n{Tail(StdOut)}\n--- stderr ---\n{Tail(StdErr)}");
        }
        return this;
    }

    internal static string Tail(string text, int max = 4000) =>
        text.Length <= max ? text : "..." + text[^max..];
}

/// <summary>An external program that did not finish in time; its process tree was killed.</summary>
public sealed class ExternalToolTimeoutException(string command, TimeSpan timeout, string stdOut, string stdErr)
    : TimeoutException(
        $"'{command}' did not finish within {timeout.TotalSeconds:0.###} s and was killed (whole process tree).\n" +
        $"--- stdout so far ---\n{ToolResult.Tail(stdOut)}\n--- stderr so far ---\n{ToolResult.Tail(stdErr)}")
{
    public string Command { get; } = command;
    public TimeSpan Timeout { get; } = timeout;
    public string StdOut { get; } = stdOut;
    public string StdErr { get; } = stdErr;
}

/// <summary>
/// Runs real external programs (curl, python3, node, chromium, nginx) for interop tests:
/// arguments passed as an argument list (no shell), bounded by a timeout that kills the whole
/// process tree, output captured.
/// A missing tool is a failure, never a skip: <c>./scripts/test.sh</c> installs them.
/// </summary>
public static class ExternalTool
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long to wait for stdout/stderr to reach EOF after the program exited
    /// (a daemon it started may hold them open).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private static readonly string[] ExtraDirectories =
        ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>Full path of an executable found on PATH or in the usual sbin/bin folders, or null.</summary>
    public static string? TryFind(string name)
    {
        if (name.Contains('/'))
        {
            return IsExecutable(name) ? Path.GetFullPath(name) : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirectories))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Full path of a required executable; throws (the test fails) when it is missing.</summary>
    public static string Find(string name) =>
        TryFind(name) ?? throw new InvalidOperationException(
            $"Required tool '{name}' was not found on PATH ({Environment.GetEnvironmentVariable("PATH")}) " +
            "nor in /usr/sbin, /usr/bin, /sbin. Run ./scripts/test.sh, which installs the test prerequisites.");

    private static bool IsExecutable(string file)
    {
        try
        {
            if (!File.Exists(file))
            {
                return false;
            }
            if (OperatingSystem.IsWindows())
            {
                return true;
            }
            const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return (File.GetUnixFileMode(file) & anyExecute) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="program"/> (a name looked up with <see cref="Find"/>, or a path) with
    /// <paramref name="args"/>, waits at most <paramref name="timeout"/> (default 60 s), and returns
    /// its exit code and output. On timeout the process tree is killed and
    /// <see cref="ExternalToolTimeoutException"/> is thrown. Standard input gets
    /// <paramref name="stdin"/> (or is closed at once).
    /// </summary>
    public static async Task<ToolResult> RunAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout = null,
        byte[]? stdin = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultTimeout;
        var psi = CreateStartInfo(program, args, workingDirectory, environment);
        var command = Describe(psi);
        var clock = Stopwatch.StartNew();

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"Could not start '{command}': {e.Message}", e);
        }

        var stdout = new Capture(process.StandardOutput.BaseStream);
        var stderr = new Capture(process.StandardError.BaseStream);
        _ = FeedStdinAsync(process, stdin);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            await Task.WhenAny(Task.WhenAll(stdout.Done, stderr.Done), Task.Delay(DrainTimeout)).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new ExternalToolTimeoutException(command, limit, stdout.Text, stderr.Text);
        }

        await Task.WhenAny(Task.WhenAll(stdout.Done, stderr.Done), Task.Delay(DrainTimeout)).ConfigureAwait(false);
        return new ToolResult(command, process.ExitCode, stdout.Bytes, stderr.Text, clock.Elapsed);
    }

    /// <inheritdoc cref="RunAsync(string, IEnumerable{string}, TimeSpan?, byte[], string, IReadOnlyDictionary{string, string}, CancellationToken)"/>
    public static Task<ToolResult> RunAsync(string program, params string[] args) => RunAsync(program, (IEnumerable<string>)args);

    /// <summary>
    /// Starts a long-running program (a server such as <c>python3 -m http.server</c> or nginx)
    /// in the background. Dispose the result to kill its process tree.
    /// </summary>
    public static RunningTool Start(
        string program,
        IEnumerable<string> args,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        bool keepStandardInput = false)
    {
        var psi = CreateStartInfo(program, args, workingDirectory, environment);
        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{Describe(psi)}': {e.Message}", e);
        }
        // Closed at once unless the caller will type into it (RunningTool.WriteLineAsync), as a user at a terminal would.
        if (!keepStandardInput) process.StandardInput.Close();
        return new RunningTool(process, Describe(psi),
            new Capture(process.StandardOutput.BaseStream), new Capture(process.StandardError.BaseStream));
    }

    private static ProcessStartInfo CreateStartInfo(
        string program, IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string?>? environment)
    {
        var psi = new ProcessStartInfo(program.Contains('/') ? program : Find(program))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                {
                    psi.Environment.Remove(key);
                }
                else
                {
                    psi.Environment[key] = value;
                }
            }
        }
        return psi;
    }

    private static string Describe(ProcessStartInfo psi) =>
        string.Join(' ', new[] { psi.FileName }.Concat(psi.ArgumentList).Select(Quote));

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    private static async Task FeedStdinAsync(Process process, byte[]? stdin)
    {
        try
        {
            if (stdin is { Length: > 0 })
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin).ConfigureAwait(false);
            }
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program exited (or closed its stdin) before reading everything: not our failure.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    internal static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Raced with exit.
        }
        try
        {
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Copies a pipe into memory until EOF; readable at any time.</summary>
    internal sealed class Capture
    {
        private readonly MemoryStream _buffer = new();
        private readonly Lock _lock = new();

        public Capture(Stream source) => Done = PumpAsync(source);

        public Task Done { get; }

        public byte[] Bytes
        {
            get
            {
                lock (_lock)
                {
                    return _buffer.ToArray();
                }
            }
        }

        public string Text => Encoding.UTF8.GetString(Bytes);

        private async Task PumpAsync(Stream source)
        {
            var chunk = new byte[16 * 1024];
            try
            {
                int n;
                while ((n = await source.ReadAsync(chunk).ConfigureAwait(false)) > 0)
                {
                    lock (_lock)
                    {
                        _buffer.Write(chunk, 0, n);
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}

/// <summary>A background program started by <see cref="ExternalTool.Start"/>; disposing kills its tree.</summary>
public sealed class RunningTool : IAsyncDisposable, IDisposable
{
    private readonly Process _process;
    private readonly ExternalTool.Capture _stdout;
    private readonly ExternalTool.Capture _stderr;

    internal RunningTool(Process process, string command, ExternalTool.Capture stdout, ExternalTool.Capture stderr)
    {
        _process = process;
        Command = command;
        _stdout = stdout;
        _stderr = stderr;
    }

    public string Command { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public string StdOut => _stdout.Text;
    public string StdErr => _stderr.Text;

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>;
    /// fails with the program's output if it exits first or the time runs out.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"'{Command}' exited with {_process.ExitCode} before listening on port {port}.\n" +
                    $"--- stdout ---\n{ToolResult.Tail(StdOut)}\n--- stderr ---\n{ToolResult.Tail(StdErr)}");
            }
            if (await Loopback.CanConnectAsync(port).ConfigureAwait(false))
            {
                return;
            }
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException(
                    $"'{Command}' did not listen on 127.0.0.1:{port} within {limit.TotalSeconds:0.#} s.\n" +
                    $"--- stdout ---\n{ToolResult.Tail(StdOut)}\n--- stderr ---\n{ToolResult.Tail(StdErr)}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// For a program told to listen on port 0: waits until its standard output names the port it bound
    /// (the first match of <paramref name="announcement"/>'s "port" group; by default a URL on 127.0.0.1 or
    /// [::1]) and it accepts connections there; fails with its output if it exits first or the time runs out.
    /// </summary>
    public async Task<int> WaitForListeningPortAsync(TimeSpan timeout, string announcement = @"http://(?:127\.0\.0\.1|\[::1\]):(?<port>\d+)")
    {
        var clock = Stopwatch.StartNew();
        var pattern = new System.Text.RegularExpressions.Regex(announcement);
        while (true)
        {
            System.Text.RegularExpressions.Match match = pattern.Match(StdOut);
            if (match.Success)
            {
                // Announced once listening; the address it names must accept a connection right away.
                int port = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
                System.Net.IPAddress address = match.Value.Contains("[::1]", StringComparison.Ordinal)
                    ? System.Net.IPAddress.IPv6Loopback : System.Net.IPAddress.Loopback;
                if (!await Loopback.CanConnectAsync(port, address: address).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"'{Command}' announced port {port} but refuses connections there.\n--- stdout ---\n{ToolResult.Tail(StdOut)}");
                }
                return port;
            }
            if (_process.HasExited || clock.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"'{Command}' did not announce a listening port within {timeout.TotalSeconds:0.#} s (exited: {_process.HasExited}).\n" +
                    $"--- stdout ---\n{ToolResult.Tail(StdOut)}\n--- stderr ---\n{ToolResult.Tail(StdErr)}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until the program's standard output contains <paramref name="text"/>: what a program printed
    /// reaches the test a moment after it acted on it. Fails with its output if it exits first or the time
    /// runs out.
    /// </summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        await Parley.Tests.Hardening.Hostile.WaitUntilAsync(() => StdOut.Contains(text, StringComparison.Ordinal) || _process.HasExited, timeout).ConfigureAwait(false);
        if (!StdOut.Contains(text, StringComparison.Ordinal))
        {
            throw new TimeoutException(
                $"'{Command}' did not print '{text}' within {timeout.TotalSeconds:0.#} s (exited: {_process.HasExited}).\n" +
                $"--- stdout ---\n{ToolResult.Tail(StdOut)}\n--- stderr ---\n{ToolResult.Tail(StdErr)}");
        }
    }

    /// <summary>Types a line into the program's standard input (started with <c>keepStandardInput</c>).</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteAsync(line + "\n").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for the program to exit by itself (its output fully read); fails after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"'{Command}' did not exit within {timeout.TotalSeconds:0.#} s.\n--- stdout ---\n{ToolResult.Tail(StdOut)}");
        }
        // The output ends with the process, unless a child of its own still holds the pipes: bounded for
        // that, generously, as the last lines can take a moment to be read on a busy machine.
        await Task.WhenAny(Task.WhenAll(_stdout.Done, _stderr.Done), Task.Delay(Parley.Tests.Server.ServerTiming.HangBound)).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        ExternalTool.KillTree(_process);
        _process.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

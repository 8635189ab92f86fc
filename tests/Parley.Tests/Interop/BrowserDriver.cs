using System.Text;
using System.Text.Json;

namespace Parley.Tests.Interop;

/// <summary>
/// Runs <c>tests/browser/chromium.mjs</c> (playwright-core driving Debian's /usr/bin/chromium)
/// and returns the one JSON line it prints. Scenarios: <c>french</c>, <c>contact</c>, <c>page</c>, <c>layout</c>.
/// </summary>
public static class BrowserDriver
{
    /// <summary>Above the driver's own 60 s limit, so the driver's message wins when it times out.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static readonly Lazy<string> Dir = new(LocateBrowserDir);

    /// <summary>Absolute path of tests/browser: $PARLEY_BROWSER_DIR, else found by walking up from
    /// the test assembly to the repository root.</summary>
    public static string BrowserDir => Dir.Value;

    /// <summary>
    /// Runs <c>node chromium.mjs scenario args...</c> and parses its JSON line.
    /// Throws with the driver's stderr when it fails.
    /// </summary>
    public static Task<JsonDocument> RunAsync(string scenario, params string[] args) => RunCoreAsync(scenario, Timeout, null, args);

    /// <summary>
    /// The same with a longer limit for a long scenario (<c>layout</c>): the driver is given the limit less
    /// 15 s, so that its own message still wins.
    /// </summary>
    public static Task<JsonDocument> RunAsync(string scenario, TimeSpan timeout, params string[] args) => RunCoreAsync(scenario, timeout, null, args);

    /// <summary>
    /// As <see cref="RunAsync(string, string[])"/>, trusting the TLS certificate whose public key hashes to
    /// <paramref name="trustedSpkiSha256"/> (base64 SHA-256 of its SubjectPublicKeyInfo; Chromium's
    /// <c>--ignore-certificate-errors-spki-list</c>).
    /// </summary>
    public static Task<JsonDocument> RunTrustingAsync(string scenario, string trustedSpkiSha256, params string[] args) => RunCoreAsync(scenario, Timeout, trustedSpkiSha256, args);

    private static async Task<JsonDocument> RunCoreAsync(string scenario, TimeSpan timeout, string? trustedSpkiSha256, string[] args)
    {
        ExternalTool.Find("chromium");
        var node = ExternalTool.Find("node");
        var script = Path.Combine(BrowserDir, "chromium.mjs");
        var environment = new Dictionary<string, string?>
        {
            ["PARLEY_BROWSER_TIMEOUT_MS"] = ((long)(timeout - TimeSpan.FromSeconds(15)).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (trustedSpkiSha256 is not null) environment["PARLEY_CHROMIUM_TRUST_SPKI"] = trustedSpkiSha256;
        var result = await ExternalTool.RunAsync(
            node, [script, scenario, .. args], timeout, workingDirectory: BrowserDir, environment: environment).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Browser scenario '{scenario}' failed (exit {result.ExitCode}): {result.Command}\n" +
                $"--- stderr ---\n{ToolResult.Tail(result.StdErr)}\n--- stdout ---\n{ToolResult.Tail(result.StdOut)}");
        }
        var line = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException(
                $"Browser scenario '{scenario}' printed no JSON line.\n--- stdout ---\n{ToolResult.Tail(result.StdOut)}\n" +
                $"--- stderr ---\n{ToolResult.Tail(result.StdErr)}");
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"Browser scenario '{scenario}' printed invalid JSON: {line}", e);
        }
    }

    private static string LocateBrowserDir()
    {
        var fromEnv = Environment.GetEnvironmentVariable("PARLEY_BROWSER_DIR");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "chromium.mjs")))
        {
            return CheckInstalled(Path.GetFullPath(fromEnv));
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "browser");
            if (File.Exists(Path.Combine(candidate, "chromium.mjs")))
            {
                return CheckInstalled(candidate);
            }
        }
        var message = new StringBuilder("Could not find tests/browser/chromium.mjs: ");
        message.Append(string.IsNullOrEmpty(fromEnv) ? "PARLEY_BROWSER_DIR is not set" : $"PARLEY_BROWSER_DIR={fromEnv} has no chromium.mjs");
        message.Append($" and no parent of {AppContext.BaseDirectory} has tests/browser. Run ./scripts/test.sh.");
        throw new InvalidOperationException(message.ToString());
    }

    private static string CheckInstalled(string dir)
    {
        if (!File.Exists(Path.Combine(dir, "node_modules", "playwright-core", "package.json")))
        {
            throw new InvalidOperationException(
                $"playwright-core is not installed in {dir}/node_modules. Run ./scripts/test.sh (it runs npm ci there).");
        }
        return dir;
    }
}

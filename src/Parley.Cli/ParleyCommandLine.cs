using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Parley.Cli;

/// <summary>
/// The <c>parley</c> command line: its commands, how a usage error is reported (one line on stderr, exit 2,
/// before anything else happens), <c>--help</c> with the exit codes, and <c>--version</c>.
/// </summary>
internal static class ParleyCommandLine
{
    public const int UsageError = 2;

    private const string ClientExitCodes =
        "Exit status: 0 success; 1 other failure (e.g. writing the output file); 2 usage error; " +
        "3 connection failure (resolve, connect, closed before any response); 4 timeout; " +
        "5 malformed response (bad status line, field, chunk, truncated body); 6 HTTP status >= 400 with --fail; " +
        "7 redirect loop or too many redirects; https: 8 server certificate expired or not yet valid; " +
        "9 certificate for another host name; 10 certificate not trusted (self-signed or unknown CA); 11 TLS handshake failure; " +
        "12 no TLS version in common; 13 the server answered plain HTTP on an https:// URL; 14 TLS handshake timed out.";

    private const string ServeExitCodes =
        "Exit status: 0 stopped by Ctrl+C or SIGTERM; 2 usage error, or the address cannot be listened on.";

    /// <summary>Parses and runs a command line, writing to the given streams; returns the exit status.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        (ParseResult parsed, string? problem) = Check(args, stdout, stderr);
        if (problem is not null)
        {
            await stderr.WriteLineAsync($"parley: {problem}").ConfigureAwait(false);
            return UsageError;
        }
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr };
        // serve handles SIGTERM and SIGINT itself (ServerHost) and drains for as long as its options say:
        // System.CommandLine's own handling would end the process 2 s after the signal, mid-drain.
        if (parsed.CommandResult.Command.Name == "serve") invocation.ProcessTerminationTimeout = null;
        return await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses without running; null problem means the command line is valid.</summary>
    public static (ParseResult Parsed, string? Problem) Check(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        RootCommand root = Create(stdout ?? TextWriter.Null, stderr ?? TextWriter.Null);
        ParseResult parsed = Parse(root, args);
        return (parsed, UsageErrors.FlagWithValue(root, args) ?? (parsed.Action is ParseErrorAction ? UsageErrors.Describe(parsed) : null));
    }

    // No response files: "@FILE" is -d's way to name a file to send, never a file of more arguments.
    private static ParseResult Parse(RootCommand root, string[] args) =>
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>The root command with every subcommand, writing to the given streams.</summary>
    public static RootCommand Create(TextWriter stdout, TextWriter stderr)
    {
        RootCommand root = new("parley: an HTTP/1.1 server, client and teaching tool");
        root.Subcommands.Add(ServeCommand.Create(stderr));
        root.Subcommands.Add(ClientCommands.Get(stdout, stderr));
        root.Subcommands.Add(ClientCommands.Post(stdout, stderr));
        root.Subcommands.Add(ClientCommands.Request(stdout, stderr));
        foreach (Option option in root.Options)
        {
            if (option is HelpOption { Action: HelpAction standard } helpOption) helpOption.Action = new HelpWithExitCodes(standard);
            else if (option.Name == "--version") option.Action = new PrintVersion();
        }
        return root;
    }

    /// <summary>The version of the tool and the runtime under it, e.g. "parley 0.1.0 (.NET 10.0.1, linux-x64, NativeAOT)".</summary>
    public static string VersionLine()
    {
        Assembly assembly = typeof(ParleyCommandLine).Assembly;
        string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        int plus = version.IndexOf('+'); // the source revision the SDK appends
        if (plus >= 0) version = version[..plus];
        string compilation = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "NativeAOT";
        return $"parley {version} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier}, {compilation})";
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionLine());
            return 0;
        }
    }

    /// <summary>The standard help, then the exit codes of the command asked about (once, not per command).</summary>
    private sealed class HelpWithExitCodes(HelpAction standard) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int status = standard.Invoke(parseResult);
            string? exitCodes = parseResult.CommandResult.Command.Name switch
            {
                "serve" => ServeExitCodes,
                "get" or "post" or "request" => ClientExitCodes,
                _ => parseResult.CommandResult.Command is RootCommand
                    ? $"get, post, request: {ClientExitCodes}\nserve: {ServeExitCodes}"
                    : null,
            };
            if (exitCodes is not null) parseResult.InvocationConfiguration.Output.WriteLine(exitCodes);
            return status;
        }
    }
}

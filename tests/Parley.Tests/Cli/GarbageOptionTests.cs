using System.CommandLine;
using Parley.Cli;
using Parley.Tests.Interop;

namespace Parley.Tests.Cli;

/// <summary>
/// Every option of every <c>parley</c> command given garbage (abc, -1, 99999, 1e9, an empty string) gives one
/// clear line on stderr and exit status 2, before anything is served or sent; or, where the value is in fact
/// valid for that option (a file named "abc" for -o), the command line parses cleanly.
/// </summary>
public class GarbageOptionTests
{
    private static readonly string[] Garbage = ["abc", "-1", "99999", "1e9", ""];
    private const string Url = "http://127.0.0.1:1/";

    /// <summary>Per command, each option or argument that takes a value, and the garbage values that are valid for it.</summary>
    private static readonly (string Command, string Option, string[] Valid)[] Table =
    [
        ("serve", "--port", []),
        ("serve", "--host", []),
        ("serve", "--drain-timeout", []),
        ("serve", "--workers", []),
        ("serve", "--access-log", []),
        ("serve", "--transport", []),
        ("serve", "--cache-control", ["abc", "-1", "99999", "1e9"]), // RFC 9111 §5.2: tokens, as extension directives
        ("serve", "DIR", []),
        ("serve", "--cert", []),
        ("serve", "--key", []),
        ("serve", "--key-password", ["abc", "-1", "99999", "1e9"]), // passwords
        ("serve", "--pfx", []),
        ("serve", "--pfx-password", ["abc", "-1", "99999", "1e9"]),
        ("serve", "--redirect-http", []),
        ("serve", "--trusted-proxy", []),
        ("serve", "--forwarded-headers", []),
        ("serve", "--liveness-path", []),
        ("serve", "--readiness-path", []),
        ("serve", "--status-path", []),
        ("serve", "--status-allow", []),
        ("serve", "--drain-delay", []),
        ("get", "--header", []),
        ("get", "--max-redirs", []),
        ("get", "--output", ["abc", "-1", "99999", "1e9"]), // file names
        ("get", "--timeout", []),
        ("get", "--repeat", []),
        ("get", "--cacert", []),
        ("get", "--cert", []),
        ("get", "--key", []),
        ("post", "--data", ["abc", "-1", "99999", "1e9", ""]), // bodies (an empty one too, as curl)
        ("post", "--form", []),
        ("request", "--request", ["abc", "-1", "99999", "1e9"]), // methods are tokens (RFC 9110 §9.1)
    ];

    public static TheoryData<string, string, string, bool> Rows()
    {
        var rows = new TheoryData<string, string, string, bool>();
        foreach (var (command, option, valid) in Table)
        {
            foreach (string value in Garbage) rows.Add(command, option, value, valid.Contains(value));
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Garbage_gives_one_line_and_exit_2_unless_the_value_is_valid(string command, string option, string value, bool valid)
    {
        string[] args = Arguments(command, option, value);
        if (valid)
        {
            (_, string? problem) = ParleyCommandLine.Check(args);
            Assert.Null(problem);
            return;
        }
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int status = await ParleyCommandLine.RunAsync(args, stdout, stderr);
        AssertOneClearLine(status, stdout.ToString(), stderr.ToString(), option == "DIR" ? null : option, value);
    }

    [Fact]
    public async Task Every_flag_given_a_value_gives_one_line_and_exit_2()
    {
        foreach (Command command in ParleyCommandLine.Create(TextWriter.Null, TextWriter.Null).Subcommands)
        {
            foreach (Option flag in command.Options.Where(o => o.Arity.MaximumNumberOfValues == 0 && o.Name != "--help"))
            {
                var stdout = new StringWriter();
                var stderr = new StringWriter();
                int status = await ParleyCommandLine.RunAsync([command.Name, $"{flag.Name}=abc", Url], stdout, stderr);
                AssertOneClearLine(status, stdout.ToString(), stderr.ToString(), flag.Name, "abc");
            }
        }
    }

    [Fact]
    public void The_table_covers_every_option_that_takes_a_value()
    {
        var missing = new List<string>();
        foreach (Command command in ParleyCommandLine.Create(TextWriter.Null, TextWriter.Null).Subcommands)
        {
            foreach (Symbol symbol in command.Options.Where(o => o.Arity.MaximumNumberOfValues > 0).Cast<Symbol>().Concat(command.Arguments))
            {
                bool sharedClientOption = command.Name is "post" or "request" && symbol.Name != "URL"
                    && Table.Any(row => row.Command is "get" or "post" && row.Option == symbol.Name);
                if (symbol.Name != "URL" && !sharedClientOption && !Table.Any(row => row.Command == command.Name && row.Option == symbol.Name))
                {
                    missing.Add($"{command.Name} {symbol.Name}");
                }
            }
        }
        Assert.True(missing.Count == 0, $"no garbage rows for: {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("ftp://example.com/")]
    public async Task A_bad_URL_gives_one_line_and_exit_2(string url)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int status = await ParleyCommandLine.RunAsync(["get", url], stdout, stderr);
        AssertOneClearLine(status, stdout.ToString(), stderr.ToString(), null, url);
    }

    [Fact]
    public async Task Serve_port_abc_run_as_a_process_prints_one_line_and_exits_2()
    {
        // It once crashed with an unhandled InvalidOperationException and exit 134.
        string cli = Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");
        ToolResult result = await ExternalTool.RunAsync("dotnet", [cli, "serve", "--port", "abc"], TimeSpan.FromSeconds(30));
        AssertOneClearLine(result.ExitCode, result.StdOut, result.StdErr, "--port", "abc");
        Assert.Equal("parley: --port wants a port number from 0 to 65535, not 'abc' (see 'parley serve --help')", result.StdErr.Trim());
    }

    [Theory]
    [InlineData("get", "-d", "parley: -d is an option of 'parley post' and 'parley request', not of 'parley get'")]
    [InlineData("get", "--bogus", "parley: unknown option '--bogus'")]
    [InlineData("post", "-X", "parley: -X is an option of 'parley request', not of 'parley post'")]
    public async Task An_option_is_named_and_an_option_of_another_command_says_whose_it_is(string command, string option, string expected)
    {
        var stderr = new StringWriter();
        int status = await ParleyCommandLine.RunAsync([command, option, "x", Url], new StringWriter(), stderr);
        Assert.Equal(2, status);
        Assert.StartsWith(expected, stderr.ToString());
    }

    private static string[] Arguments(string command, string option, string value) => command switch
    {
        "serve" when option == "DIR" => ["serve", value],
        "serve" => ["serve", option, value],
        _ => [command, option, value, Url],
    };

    private static void AssertOneClearLine(int status, string stdout, string stderr, string? option, string value)
    {
        string context = $"value '{value}': stderr was:\n{stderr}";
        Assert.True(status == 2, $"exit status {status}, not 2; {context}");
        Assert.Equal("", stdout);
        string[] lines = stderr.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, $"{lines.Length} lines; {context}");
        string line = lines[0];
        Assert.StartsWith("parley: ", line);
        if (option is not null) Assert.Contains(option, line);
        foreach (string leak in new[] { "System.", "Exception", "(Parameter", "   at " })
        {
            Assert.False(line.Contains(leak, StringComparison.Ordinal), $"the message leaks .NET text '{leak}'; {context}");
        }
    }
}

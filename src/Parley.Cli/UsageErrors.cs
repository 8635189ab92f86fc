using System.CommandLine;
using System.CommandLine.Parsing;

namespace Parley.Cli;

/// <summary>
/// Turns a failed parse into the one line a person needs: the first thing that is wrong, named as they typed
/// it, and where to read more. Unknown options are named before anything they pushed out of place (an
/// unknown <c>--bogus</c> makes the URL after it look unexpected), and an option of another command says
/// which command it belongs to.
/// </summary>
internal static class UsageErrors
{
    /// <summary>The problem with the command line, or null when it parsed cleanly.</summary>
    public static string? Describe(ParseResult parsed)
    {
        if (parsed.Errors.Count == 0) return null;
        Command command = parsed.CommandResult.Command;
        bool atRoot = command is RootCommand;
        string commandName = atRoot ? "parley" : $"parley {command.Name}";
        string help = $"see '{commandName} --help'";

        // The tokens the parser could not place, in the order typed: unmatched ones and any the command's
        // arguments swallowed although they look like options.
        var misplaced = parsed.UnmatchedTokens.ToList();
        foreach (ArgumentResult argument in parsed.CommandResult.Children.OfType<ArgumentResult>())
        {
            misplaced.AddRange(argument.Tokens.Select(t => t.Value).Where(LooksLikeOption));
        }
        if (misplaced.FirstOrDefault(LooksLikeOption) is { } unknown)
        {
            string name = unknown.Split('=', ':')[0];
            List<string> owners = OwnersOf(parsed.RootCommandResult.Command, name);
            return owners.Count > 0
                ? $"{name} is an option of {string.Join(" and ", owners.Select(o => $"'parley {o}'"))}, not of '{commandName}' ({help})"
                : $"unknown option '{name}' ({help})";
        }
        if (atRoot)
        {
            return misplaced.Count > 0
                ? $"unknown command '{misplaced[0]}': the commands are serve, get, post and request (see 'parley --help')"
                : "which command? serve, get, post or request (see 'parley --help')";
        }
        foreach (Argument argument in command.Arguments)
        {
            if (argument.Arity.MinimumNumberOfValues > 0 && parsed.GetResult(argument) is not { Tokens.Count: > 0 })
            {
                return $"'{command.Name}' wants a {argument.Name} ({help})";
            }
        }
        if (misplaced.Count > 0) return $"unexpected argument '{misplaced[0]}' ({help})";

        foreach (ParseError error in parsed.Errors)
        {
            if (error.SymbolResult is OptionResult { Tokens.Count: 0 } empty) return $"{empty.Option.Name} wants a value ({help})";
            if (error.SymbolResult is OptionResult { Tokens.Count: > 1 } repeated && repeated.Option.Arity.MaximumNumberOfValues == 1)
            {
                return $"{repeated.Option.Name} is given {repeated.Tokens.Count} times; give it once ({help})";
            }
        }
        // Our own parsers' messages (OptionValues) name the option and the value; anything else is the
        // library's text, cut to its first sentence.
        string message = parsed.Errors[0].Message;
        int cut = message.IndexOfAny(['\r', '\n']);
        return $"{(cut >= 0 ? message[..cut] : message).TrimEnd('.')} ({help})";
    }

    /// <summary>
    /// A flag given a value (<c>--quiet=abc</c>): the parser would take the value as an argument, so say what
    /// happened instead.
    /// </summary>
    public static string? FlagWithValue(RootCommand root, IReadOnlyList<string> args)
    {
        foreach (string arg in args)
        {
            if (!arg.StartsWith('-')) continue;
            int separator = arg.IndexOfAny(['=', ':']);
            if (separator < 0) continue;
            string name = arg[..separator];
            bool isFlag = root.Subcommands.SelectMany(c => c.Options)
                .Any(o => (o.Name == name || o.Aliases.Contains(name)) && o.Arity.MaximumNumberOfValues == 0);
            if (isFlag) return $"{name} takes no value, not '{arg[(separator + 1)..]}'";
        }
        return null;
    }

    private static bool LooksLikeOption(string token) => token.Length > 1 && token[0] == '-';

    /// <summary>The commands that have an option by this name or alias.</summary>
    private static List<string> OwnersOf(Command root, string name) =>
        root.Subcommands.Where(c => c.Options.Any(o => o.Name == name || o.Aliases.Contains(name))).Select(c => c.Name).ToList();
}

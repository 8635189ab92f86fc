using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace Parley.Cli;

/// <summary>
/// The one place where command-line values are checked. Every option that takes a value is made here, with a
/// parser that turns a bad value into one sentence naming the option, what it wants and what it got
/// ("--port wants a port number from 0 to 65535, not 'abc'"), so no .NET type name or exception text reaches
/// the user and every usage error exits 2 the same way (see <see cref="UsageErrors"/>). New options (TLS
/// certificates, ...) are made here too.
/// </summary>
internal static class OptionValues
{
    /// <summary>A whole number in [min, max].</summary>
    public static Option<int> Integer(string name, string description, int min, int max, int defaultValue, string what, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Single<int>(result, $"{what} from {min} to {max}", text =>
                int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max ? value : null),
        };

    /// <summary>A whole number in [min, max], or null when the option is absent.</summary>
    public static Option<int?> OptionalInteger(string name, string description, int min, int max, string what) =>
        new(name)
        {
            Description = description,
            CustomParser = result => Single<int>(result, $"{what} from {min} to {max}", text =>
                int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max ? value : null),
        };

    /// <summary>A number of seconds in [min, max] (decimals allowed, e.g. 0.5).</summary>
    public static Option<double> Seconds(string name, string description, double min, double max, double defaultValue) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Single(result, SecondsRange(min, max), text => ParseSeconds(text, min, max)),
        };

    /// <summary>A number of seconds in [min, max], or null when the option is absent.</summary>
    public static Option<double?> OptionalSeconds(string name, string description, double min, double max) =>
        new(name)
        {
            Description = description,
            CustomParser = result => Single<double>(result, SecondsRange(min, max), text => ParseSeconds(text, min, max)),
        };

    /// <summary>One of an enum's names, case-insensitive (numbers are not names).</summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue) where T : struct, Enum
    {
        string[] names = Enum.GetNames<T>();
        return new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Single<T>(result, string.Join(" or ", names), text =>
                names.FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } match ? Enum.Parse<T>(match) : null),
        };
    }

    /// <summary>A string that <paramref name="problem"/> accepts (it returns null) or describes ("wants ...").</summary>
    public static Option<string> Text(string name, string description, string? defaultValue, Func<string, string?> problem, params string[] aliases)
    {
        var option = new Option<string>(name, aliases)
        {
            Description = description,
            CustomParser = result => SingleText(result, problem),
        };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>A repeatable string option whose every value <paramref name="problem"/> accepts.</summary>
    public static Option<string[]> Texts(string name, string description, Func<string, string?> problem, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result =>
            {
                var values = new string[result.Tokens.Count];
                for (int i = 0; i < values.Length; i++)
                {
                    string text = result.Tokens[i].Value;
                    if (problem(text) is { } message)
                    {
                        result.AddError($"{OptionName(result)} {message}");
                        return [];
                    }
                    values[i] = text;
                }
                return values;
            },
        };

    /// <summary>A flag: takes no value (<c>--quiet</c>, never <c>--quiet true</c>, so a URL after it stays a URL).</summary>
    public static Option<bool> Flag(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>Accepts any non-empty value.</summary>
    public static string? NotEmpty(string text) => text.Length == 0 ? "wants a value, not an empty string" : null;

    /// <summary>Accepts the path of a file that exists (a certificate, a key).</summary>
    public static string? ExistingFile(string path) =>
        path.Length == 0 ? "wants a file name, not an empty string"
        : Directory.Exists(path) ? $"wants a file, not the directory '{path}'"
        : File.Exists(path) ? null : $"wants an existing file, not '{path}' (no such file)";

    /// <summary>
    /// The addresses a server may listen on: an IP literal, <c>localhost</c>, or <c>*</c> for all. A host name
    /// would bind whatever address it resolves to today, which surprises; "99999" is not the address 0.1.134.159.
    /// </summary>
    public static string? ListenAddress(string text)
    {
        const string wants = "wants an IP address (127.0.0.1, ::1, 0.0.0.0), localhost or *";
        if (text is "*" or "localhost") return null;
        string literal = text.StartsWith('[') && text.EndsWith(']') ? text[1..^1] : text;
        bool dottedQuad = literal.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit));
        return (literal.Contains(':') || dottedQuad) && IPAddress.TryParse(literal, out _) ? null : $"{wants}, not '{text}'";
    }

    /// <summary>The name of the option an argument result belongs to.</summary>
    /// <summary>The option as the user typed it (-o or --output), for messages.</summary>
    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.IdentifierToken?.Value ?? option.Option.Name : result.Argument.Name;

    private static T Single<T>(ArgumentResult result, string wants, Func<string, T?> parse) where T : struct
    {
        string name = OptionName(result);
        if (result.Tokens.Count != 1)
        {
            result.AddError(result.Tokens.Count == 0 ? $"{name} wants {wants}" : $"{name} is given {result.Tokens.Count} times; give it once");
            return default;
        }
        string text = result.Tokens[0].Value;
        if (parse(text) is { } value) return value;
        result.AddError($"{name} wants {wants}, not '{text}'");
        return default;
    }

    private static string SingleText(ArgumentResult result, Func<string, string?> problem)
    {
        string name = OptionName(result);
        if (result.Tokens.Count != 1)
        {
            result.AddError(result.Tokens.Count == 0 ? $"{name} wants a value" : $"{name} is given {result.Tokens.Count} times; give it once");
            return "";
        }
        string text = result.Tokens[0].Value;
        if (problem(text) is { } message) result.AddError($"{name} {message}");
        return text;
    }

    private static string SecondsRange(double min, double max) =>
        string.Create(CultureInfo.InvariantCulture, $"a number of seconds from {min} to {max}");

    private static double? ParseSeconds(string text, double min, double max) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max
            ? value : null;
}

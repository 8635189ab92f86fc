using Parley.Server;

namespace Parley.Cli;

/// <summary><c>--access-log FORMAT[:FILE]</c>: the line format and where lines go (standard output without FILE).</summary>
internal sealed record AccessLogSetting(AccessLogFormat Format, string? Path)
{
    private static readonly (string Name, AccessLogFormat Format)[] Formats =
        [("common", AccessLogFormat.Common), ("combined", AccessLogFormat.Combined), ("json", AccessLogFormat.JsonLines)];

    /// <summary>Why <paramref name="text"/> is not FORMAT[:FILE], or null when it is.</summary>
    public static string? Problem(string text) => Parse(text) is null
        ? $"wants FORMAT[:FILE] with FORMAT common, combined or json, not '{text}'"
        : null;

    public static AccessLogSetting? Parse(string text)
    {
        int colon = text.IndexOf(':');
        string name = colon < 0 ? text : text[..colon];
        string? path = colon < 0 ? null : text[(colon + 1)..];
        if (path is { Length: 0 }) return null;
        foreach ((string formatName, AccessLogFormat format) in Formats)
        {
            if (formatName.Equals(name, StringComparison.OrdinalIgnoreCase)) return new AccessLogSetting(format, path);
        }
        return null;
    }

    /// <summary>The writer; null after printing why when the file cannot be opened.</summary>
    public AccessLogWriter? Open(TextWriter stderr)
    {
        if (Path is null) return new AccessLogWriter(Format, Console.OpenStandardOutput());
        try
        {
            return new AccessLogWriter(Format, Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"parley: cannot open the access log {System.IO.Path.GetFullPath(Path)}: {ex.Message}");
            return null;
        }
    }
}

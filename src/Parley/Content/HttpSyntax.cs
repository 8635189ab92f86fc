namespace Parley.Content;

/// <summary>Character classes of the HTTP grammar shared by the content-layer parsers.</summary>
internal static class HttpSyntax
{
    // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
    //                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    public static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.'
            or '^' or '_' or '`' or '|' or '~';

    public static bool IsToken(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (char c in s)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 5234 Appendix B.1: CTL = %x00-1F / %x7F
    public static bool IsControl(char c) => c < 0x20 || c == 0x7F;

    // RFC 9110 §5.6.3: OWS = *( SP / HTAB )
    public static ReadOnlySpan<char> TrimOws(ReadOnlySpan<char> s) => s.Trim(" \t");

    /// <summary>
    /// Splits a comma-separated list (RFC 9110 §5.6.1) without splitting inside quoted strings.
    /// Returns the next element (OWS-trimmed, possibly empty) and advances <paramref name="rest"/>.
    /// Entity tags look like quoted strings but take a backslash literally (RFC 9110 §8.8.3), so
    /// their lists pass <paramref name="backslashEscapes"/> = <c>false</c>.
    /// </summary>
    public static ReadOnlySpan<char> NextListElement(ref ReadOnlySpan<char> rest, bool backslashEscapes = true)
    {
        bool quoted = false;
        for (int i = 0; i < rest.Length; i++)
        {
            char c = rest[i];
            if (quoted && backslashEscapes && c == '\\')
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                ReadOnlySpan<char> element = rest[..i];
                rest = rest[(i + 1)..];
                return TrimOws(element);
            }
        }

        ReadOnlySpan<char> last = rest;
        rest = default;
        return TrimOws(last);
    }
}

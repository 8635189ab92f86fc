namespace Parley.Http1;

/// <summary>
/// The same grammar rules over decoded field values (chars), for the content layer's parsers (media
/// types, quality values, entity tags, cookies, ranges, multipart headers): OWS, controls, lists,
/// quoted strings and parameters (RFC 9110 §5.6). Token characters come from the byte rules' one table.
/// </summary>
internal static partial class HttpSyntax
{
    /// <summary>RFC 9110 §5.6.2: tchar, from the same table as <see cref="TokenBytes"/>.</summary>
    public static bool IsTokenChar(char c) => c <= 0x7F && TokenBytes.Contains((byte)c);

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

    /// <summary>
    /// Reads a whole quoted-string (RFC 9110 §5.6.4), removing the quotes and quoted-pair escapes.
    /// </summary>
    public static bool TryUnquote(ReadOnlySpan<char> s, out string value)
    {
        value = string.Empty;
        if (s.Length < 2 || s[0] != '"' || s[^1] != '"')
        {
            return false;
        }

        s = s[1..^1];
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\\')
            {
                // quoted-pair = "\\" ( HTAB / SP / VCHAR / obs-text )
                if (++i == s.Length)
                {
                    return false;
                }

                c = s[i];
            }
            else if (c == '"')
            {
                return false;
            }

            if (IsControl(c) && c != '\t')
            {
                return false;
            }

            sb.Append(c);
        }

        value = sb.ToString();
        return true;
    }

    // RFC 9110 §5.6.6: parameter = parameter-name "=" parameter-value ; value = token / quoted-string
    public static bool TryParseParameter(ReadOnlySpan<char> parameter, out ReadOnlySpan<char> name, out string value)
    {
        value = string.Empty;
        int eq = parameter.IndexOf('=');
        name = eq < 0 ? default : parameter[..eq];
        if (!IsToken(name))
        {
            return false;
        }

        ReadOnlySpan<char> raw = parameter[(eq + 1)..];
        if (IsToken(raw))
        {
            value = raw.ToString();
            return true;
        }

        return TryUnquote(raw, out value);
    }

    public static int IndexOfUnquoted(ReadOnlySpan<char> s, char target)
    {
        bool quoted = false;
        for (int i = 0; i < s.Length; i++)
        {
            if (quoted && s[i] == '\\')
            {
                i++;
            }
            else if (s[i] == '"')
            {
                quoted = !quoted;
            }
            else if (s[i] == target && !quoted)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Parses <c>*( OWS ";" OWS parameter )</c> (RFC 9110 §5.6.6) from the text after the first ';'.
    /// With <paramref name="stopAtWeight"/>, stops at a parameter named "q" (RFC 9110 §12.4.2: the weight;
    /// what follows it are extensions) and returns its raw value in <paramref name="weight"/>.
    /// </summary>
    public static bool TryParseParameters(ReadOnlySpan<char> rest, bool stopAtWeight,
        out List<KeyValuePair<string, string>>? parameters, out string? weight)
    {
        parameters = null;
        weight = null;
        int semicolon = 0;
        while (semicolon >= 0)
        {
            semicolon = IndexOfUnquoted(rest, ';');
            ReadOnlySpan<char> parameter = TrimOws(semicolon < 0 ? rest : rest[..semicolon]);
            rest = semicolon < 0 ? default : rest[(semicolon + 1)..];
            if (parameter.IsEmpty)
            {
                continue;
            }

            if (!TryParseParameter(parameter, out ReadOnlySpan<char> name, out string value))
            {
                return false;
            }

            if (stopAtWeight && name.Equals("q", StringComparison.OrdinalIgnoreCase))
            {
                weight = value;
                return true;
            }

            (parameters ??= []).Add(new(name.ToString(), value));
        }

        return true;
    }
}

using Parley.Http1;

namespace Parley.Content;

/// <summary>One cookie sent by a user agent: a name and its value.</summary>
/// <param name="Name">The cookie name (case-sensitive).</param>
/// <param name="Value">The cookie value, without surrounding double quotes.</param>
public readonly record struct CookiePair(string Name, string Value);

/// <summary>
/// Parses the <c>Cookie</c> request header field (RFC 6265 §4.2, §5.4). User agents do not all
/// follow the grammar, so the parser is lenient: it tolerates missing or extra spaces and skips
/// pairs it cannot read instead of rejecting the whole field.
/// </summary>
public static class CookieHeader
{
    /// <summary>Default cap on the number of pairs returned by <see cref="Parse"/>.</summary>
    public const int DefaultMaxCookies = 180;

    /// <summary>
    /// Splits a <c>Cookie</c> field value into its name/value pairs in the order sent.
    /// A pair is dropped when it has no <c>=</c>, its name is not a token, or its value holds a
    /// control character, a DQUOTE inside it, or <c>;</c>. Surrounding DQUOTEs are removed.
    /// At most <paramref name="maxCookies"/> pairs are returned; later ones are ignored. Never throws
    /// except for a negative <paramref name="maxCookies"/>.
    /// </summary>
    public static IReadOnlyList<CookiePair> Parse(string? cookieField, int maxCookies = DefaultMaxCookies)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCookies);
        if (string.IsNullOrEmpty(cookieField))
        {
            return [];
        }

        var cookies = new List<CookiePair>();
        ReadOnlySpan<char> rest = cookieField;

        // RFC 6265 §4.2.1: cookie-string = cookie-pair *( ";" SP cookie-pair )
        while (!rest.IsEmpty && cookies.Count < maxCookies)
        {
            int semicolon = rest.IndexOf(';');
            ReadOnlySpan<char> pair = semicolon < 0 ? rest : rest[..semicolon];
            rest = semicolon < 0 ? default : rest[(semicolon + 1)..];

            int eq = pair.IndexOf('=');
            if (eq < 0)
            {
                continue;
            }

            ReadOnlySpan<char> name = HttpSyntax.TrimOws(pair[..eq]);
            ReadOnlySpan<char> value = HttpSyntax.TrimOws(pair[(eq + 1)..]);

            // RFC 6265 §4.1.1: cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            if (HttpSyntax.IsToken(name) && IsAcceptableValue(value))
            {
                cookies.Add(new CookiePair(name.ToString(), value.ToString()));
            }
        }

        return cookies;
    }

    /// <summary>The value of the first cookie named <paramref name="name"/>, or <c>null</c>.</summary>
    public static string? GetValue(string? cookieField, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (CookiePair pair in Parse(cookieField))
        {
            if (string.Equals(pair.Name, name, StringComparison.Ordinal))
            {
                return pair.Value;
            }
        }

        return null;
    }

    // Stricter than nothing, laxer than cookie-octet: browsers store and send spaces, commas and
    // backslashes that servers set, so only what can never be a value is refused.
    private static bool IsAcceptableValue(ReadOnlySpan<char> value)
    {
        foreach (char c in value)
        {
            if (HttpSyntax.IsControl(c) || c == '"')
            {
                return false;
            }
        }

        return true;
    }
}

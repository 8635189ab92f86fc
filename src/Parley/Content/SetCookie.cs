using System.Globalization;
using System.Text;
using Parley.Http1;

namespace Parley.Content;

/// <summary>The <c>SameSite</c> attribute of a cookie (RFC 6265bis §4.1.2.7).</summary>
public enum SameSiteMode
{
    /// <summary>No attribute is sent; the browser applies its default (usually Lax).</summary>
    Unspecified,

    /// <summary>Sent only with same-site requests.</summary>
    Strict,

    /// <summary>Sent with same-site requests and top-level cross-site navigations.</summary>
    Lax,

    /// <summary>Sent with all requests; requires <see cref="SetCookie.Secure"/>.</summary>
    None,
}

/// <summary>
/// Builds a <c>Set-Cookie</c> response field value (RFC 6265 §4.1). Names and values are checked
/// when set, so a cookie that would be mangled or split by a user agent cannot be produced;
/// <see cref="ToString"/> checks the combination of attributes.
/// </summary>
public sealed class SetCookie
{
    private string? _domain;
    private string? _path;

    /// <summary>Creates a cookie with the given name and value.</summary>
    /// <exception cref="ArgumentException">
    /// The name is not a token, or the value holds characters outside cookie-octet.
    /// </exception>
    public SetCookie(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);

        // RFC 6265 §4.1.1: cookie-name = token
        if (!HttpSyntax.IsToken(name))
        {
            throw new ArgumentException($"Cookie name '{Escape(name)}' is not a token (RFC 9110 §5.6.2): it must be non-empty and hold no separators, spaces or control characters.", nameof(name));
        }

        ValidateValue(value);
        Name = name;
        Value = value;
    }

    /// <summary>The cookie name.</summary>
    public string Name { get; }

    /// <summary>The cookie value, as it will be sent (including any surrounding DQUOTEs).</summary>
    public string Value { get; }

    /// <summary>When the cookie expires; sent as an IMF-fixdate. <c>null</c> for a session cookie.</summary>
    public DateTimeOffset? Expires { get; set; }

    /// <summary>
    /// Lifetime from now, sent as whole seconds. Zero or negative expires the cookie at once
    /// (RFC 6265 §5.2.2) and is sent as <c>Max-Age=0</c>. Takes precedence over <see cref="Expires"/> in user agents.
    /// </summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>The hosts the cookie is sent to; <c>null</c> for the origin host only.</summary>
    /// <exception cref="ArgumentException">The value holds <c>;</c> or a control character.</exception>
    public string? Domain
    {
        get => _domain;
        set => _domain = ValidateAttribute(value, "Domain");
    }

    /// <summary>The path prefix the cookie is sent for; <c>null</c> for the default path.</summary>
    /// <exception cref="ArgumentException">The value holds <c>;</c> or a control character.</exception>
    public string? Path
    {
        get => _path;
        set => _path = ValidateAttribute(value, "Path");
    }

    /// <summary>Whether the cookie is sent over secure channels only.</summary>
    public bool Secure { get; set; }

    /// <summary>Whether the cookie is hidden from scripts.</summary>
    public bool HttpOnly { get; set; }

    /// <summary>The <c>SameSite</c> attribute.</summary>
    public SameSiteMode SameSite { get; set; }

    /// <summary>
    /// The <c>Set-Cookie</c> field value, e.g. <c>id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly</c>.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <see cref="SameSite"/> is None but <see cref="Secure"/> is not set, or a <c>__Secure-</c> or
    /// <c>__Host-</c> name prefix is not honoured.
    /// </exception>
    public override string ToString()
    {
        // RFC 6265bis §4.1.2.7 (and browsers): SameSite=None cookies without Secure are rejected.
        if (SameSite == SameSiteMode.None && !Secure)
        {
            throw new ArgumentException($"Cookie '{Name}' has SameSite=None, which requires Secure.");
        }

        // RFC 6265bis §4.1.3: user agents drop prefixed cookies that break the prefix's promise.
        if (Name.StartsWith("__Secure-", StringComparison.OrdinalIgnoreCase) && !Secure)
        {
            throw new ArgumentException($"Cookie '{Name}' has the __Secure- prefix, which requires Secure.");
        }

        if (Name.StartsWith("__Host-", StringComparison.OrdinalIgnoreCase) && (!Secure || _domain is not null || _path != "/"))
        {
            throw new ArgumentException($"Cookie '{Name}' has the __Host- prefix, which requires Secure, Path=/ and no Domain.");
        }

        var sb = new StringBuilder(64);
        sb.Append(Name).Append('=').Append(Value);
        if (Expires is DateTimeOffset expires)
        {
            // RFC 6265 §4.1.1: expires-av = "Expires=" sane-cookie-date (an IMF-fixdate).
            sb.Append("; Expires=").Append(HttpDate.Format(expires));
        }

        if (MaxAge is TimeSpan maxAge)
        {
            long seconds = Math.Max(0, (long)Math.Floor(maxAge.TotalSeconds));
            sb.Append("; Max-Age=").Append(seconds.ToString(CultureInfo.InvariantCulture));
        }

        if (_domain is not null)
        {
            sb.Append("; Domain=").Append(_domain);
        }

        if (_path is not null)
        {
            sb.Append("; Path=").Append(_path);
        }

        if (Secure)
        {
            sb.Append("; Secure");
        }

        if (HttpOnly)
        {
            sb.Append("; HttpOnly");
        }

        if (SameSite != SameSiteMode.Unspecified)
        {
            sb.Append("; SameSite=").Append(SameSite switch
            {
                SameSiteMode.Strict => "Strict",
                SameSiteMode.Lax => "Lax",
                _ => "None",
            });
        }

        return sb.ToString();
    }

    // RFC 6265 §4.1.1: cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
    // cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
    private static void ValidateValue(string value)
    {
        ReadOnlySpan<char> inner = value;
        if (inner.Length >= 2 && inner[0] == '"' && inner[^1] == '"')
        {
            inner = inner[1..^1];
        }

        foreach (char c in inner)
        {
            if (!IsCookieOctet(c))
            {
                throw new ArgumentException(
                    $"Cookie value '{Escape(value)}' holds '{Escape(c.ToString())}', which is not allowed (RFC 6265 §4.1.1: no whitespace, DQUOTE, comma, semicolon, backslash, control or non-ASCII characters); encode the value first.",
                    nameof(value));
            }
        }
    }

    private static bool IsCookieOctet(char c) =>
        c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);

    // RFC 6265 §4.1.1: av-octet = any CHAR except CTLs or ";"
    private static string? ValidateAttribute(string? value, string attribute)
    {
        if (value is null)
        {
            return null;
        }

        foreach (char c in value)
        {
            if (c == ';' || HttpSyntax.IsControl(c) || c > 0x7E)
            {
                throw new ArgumentException(
                    $"Cookie {attribute} '{Escape(value)}' holds '{Escape(c.ToString())}'; attribute values must be printable ASCII without ';' (RFC 6265 §4.1.1).",
                    attribute);
            }
        }

        return value;
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (HttpSyntax.IsControl(c))
            {
                sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}

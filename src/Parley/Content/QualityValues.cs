using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// One member of a list with quality values, such as <c>fr-CH;q=0.9</c> or <c>text/html;level=1;q=0.7</c>.
/// </summary>
/// <param name="Value">The member without parameters: a media range, language range or content coding.</param>
/// <param name="Quality">The weight in thousandths, 0-1000 (RFC 9110 §12.4.2); 1000 when no <c>q</c> was sent.</param>
/// <param name="Parameters">Parameters before <c>q</c> (media-range parameters of <c>Accept</c>), in order.</param>
internal readonly record struct QualityItem(string Value, int Quality, IReadOnlyList<KeyValuePair<string, string>> Parameters)
{
    /// <summary>The weight as a number from 0 to 1.</summary>
    public double Weight => Quality / 1000.0;

    /// <summary>Whether the member says "not acceptable" (<c>q=0</c>, RFC 9110 §12.4.2).</summary>
    public bool IsExcluded => Quality == 0;
}

/// <summary>
/// Parses the comma-separated, weighted lists of the proactive-negotiation fields
/// (<c>Accept</c>, <c>Accept-Language</c>, <c>Accept-Encoding</c>; RFC 9110 §12.4-12.5).
/// </summary>
internal static class QualityValues
{
    /// <summary>Default cap on the number of members read from one field; later members are ignored.</summary>
    public const int DefaultMaxItems = 64;

    /// <summary>
    /// Parses a weighted list into its members in field order. A member is ignored when its value is
    /// not made of token characters (and <c>/</c>), a parameter is malformed, or its qvalue is invalid
    /// (RFC 9110 §12.4.2: <c>0</c> to <c>1</c> with at most three decimals). Parameters after <c>q</c>
    /// are dropped. Never throws except for a negative <paramref name="maxItems"/>.
    /// </summary>
    public static IReadOnlyList<QualityItem> Parse(string? field, int maxItems = DefaultMaxItems)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxItems);
        if (string.IsNullOrEmpty(field))
        {
            return [];
        }

        var items = new List<QualityItem>();
        ReadOnlySpan<char> rest = field;
        while (!rest.IsEmpty && items.Count < maxItems)
        {
            ReadOnlySpan<char> element = HttpSyntax.NextListElement(ref rest);
            if (!element.IsEmpty && TryParseItem(element, out QualityItem item))
            {
                items.Add(item);
            }
        }

        return items;
    }

    /// <summary>
    /// Parses a qvalue: <c>( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )</c> (RFC 9110 §12.4.2),
    /// as thousandths.
    /// </summary>
    public static bool TryParseQuality(ReadOnlySpan<char> text, out int quality)
    {
        quality = 0;
        if (text.IsEmpty || text.Length > 5 || (text[0] != '0' && text[0] != '1'))
        {
            return false;
        }

        int whole = text[0] - '0';
        if (text.Length == 1)
        {
            quality = whole * 1000;
            return true;
        }

        if (text[1] != '.')
        {
            return false;
        }

        int fraction = 0, scale = 100;
        foreach (char c in text[2..])
        {
            if (!char.IsAsciiDigit(c) || (whole == 1 && c != '0'))
            {
                return false;
            }

            fraction += (c - '0') * scale;
            scale /= 10;
        }

        quality = (whole * 1000) + fraction;
        return true;
    }

    // element = value *( OWS ";" OWS parameter ) ; weight = OWS ";" OWS "q=" qvalue
    private static bool TryParseItem(ReadOnlySpan<char> element, out QualityItem item)
    {
        item = default;
        int semicolon = element.IndexOf(';');
        ReadOnlySpan<char> value = HttpSyntax.TrimOws(semicolon < 0 ? element : element[..semicolon]);
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!HttpSyntax.IsTokenChar(c) && c != '/')
            {
                return false;
            }
        }

        int quality = 1000;
        List<KeyValuePair<string, string>>? parameters = null;
        if (semicolon >= 0)
        {
            // RFC 9110 §12.4.2: the weight is a parameter named "q" (case-insensitive, §5.6.6).
            if (!HttpSyntax.TryParseParameters(element[(semicolon + 1)..], stopAtWeight: true, out parameters, out string? weight)
                || (weight is not null && !TryParseQuality(weight, out quality)))
            {
                return false;
            }
        }

        item = new QualityItem(value.ToString(), quality, parameters is null ? [] : parameters);
        return true;
    }
}

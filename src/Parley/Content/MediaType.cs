using Parley.Http1;

namespace Parley.Content;

/// <summary>A parsed media type or media range (RFC 9110 §8.3.1, §12.5.1), used for matching.</summary>
internal readonly struct MediaType
{
    private MediaType(string type, string subtype, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        Type = type;
        Subtype = subtype;
        Parameters = parameters;
    }

    public string Type { get; }

    public string Subtype { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    // media-type = type "/" subtype ; both tokens
    public static bool TryParse(ReadOnlySpan<char> value, IReadOnlyList<KeyValuePair<string, string>> parameters, out MediaType mediaType)
    {
        mediaType = default;
        int slash = value.IndexOf('/');
        if (slash < 0 || !HttpSyntax.IsToken(value[..slash]) || !HttpSyntax.IsToken(value[(slash + 1)..]))
        {
            return false;
        }

        mediaType = new MediaType(value[..slash].ToString(), value[(slash + 1)..].ToString(), parameters);
        return true;
    }

    // media-type = type "/" subtype parameters ; parameters = *( OWS ";" OWS [ parameter ] )
    public static bool TryParseFull(ReadOnlySpan<char> text, out MediaType mediaType)
    {
        mediaType = default;
        int semicolon = text.IndexOf(';');
        ReadOnlySpan<char> value = HttpSyntax.TrimOws(semicolon < 0 ? text : text[..semicolon]);
        List<KeyValuePair<string, string>>? parameters = null;
        if (semicolon >= 0 && !HttpSyntax.TryParseParameters(text[(semicolon + 1)..], stopAtWeight: false, out parameters, out _))
        {
            return false;
        }

        return TryParse(value, parameters is null ? [] : parameters, out mediaType);
    }

    /// <summary>The value of the first parameter named <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? GetParameter(string name)
    {
        foreach (KeyValuePair<string, string> parameter in Parameters)
        {
            if (parameter.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return parameter.Value;
            }
        }

        return null;
    }

    /// <summary>
    /// How specifically this media range matches <paramref name="type"/>: -1 no match, 0 <c>*/*</c>,
    /// 1 <c>type/*</c>, 2 plus the number of parameters for <c>type/subtype</c>.
    /// </summary>
    public int MatchSpecificity(MediaType type)
    {
        // RFC 9110 §8.3.1: type and subtype are case-insensitive.
        if (Type == "*")
        {
            return 0;
        }

        if (!Type.Equals(type.Type, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        if (Subtype == "*")
        {
            return 1;
        }

        if (!Subtype.Equals(type.Subtype, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        // §12.5.1: a range with parameters matches only types carrying the same parameters. Names are
        // case-insensitive (§5.6.6); values are compared case-insensitively too, as charset values are.
        foreach (KeyValuePair<string, string> parameter in Parameters)
        {
            if (!string.Equals(type.GetParameter(parameter.Key), parameter.Value, StringComparison.OrdinalIgnoreCase))
            {
                return -1;
            }
        }

        return 2 + Parameters.Count;
    }
}

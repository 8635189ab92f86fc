using System.Collections;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// The query string read as <c>application/x-www-form-urlencoded</c>, as browsers send a GET form and as
/// <c>URLSearchParams</c> reads it (WHATWG URL §5.1): pairs split on '&amp;' (empty ones skipped), a name
/// without '=' has an empty value, '+' is a space and <c>%XX</c> the byte XX; the bytes are read as UTF-8
/// (invalid UTF-8 becomes U+FFFD). Names compare case-sensitively and repeats are kept in order. Built on
/// first use: a handler that never asks pays nothing. Like the request, it must not be kept after the
/// handler ends.
/// </summary>
public sealed class QueryParameters : IReadOnlyList<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _pairs = [];

    internal QueryParameters()
    {
    }

    /// <summary>The number of pairs, counting every repeat of a name.</summary>
    public int Count => _pairs.Count;

    /// <summary>The pair at <paramref name="index"/> in received order.</summary>
    public KeyValuePair<string, string> this[int index] => _pairs[index];

    /// <summary>The first value of <paramref name="name"/>, or null if the query has no such name.</summary>
    public string? this[string name]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(name);
            foreach (KeyValuePair<string, string> pair in _pairs)
            {
                if (string.Equals(pair.Key, name, StringComparison.Ordinal)) return pair.Value;
            }
            return null;
        }
    }

    /// <summary>Every value of <paramref name="name"/>, in order; empty if none.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<string>? values = null;
        foreach (KeyValuePair<string, string> pair in _pairs)
        {
            if (string.Equals(pair.Key, name, StringComparison.Ordinal)) (values ??= []).Add(pair.Value);
        }
        return values is null ? [] : values;
    }

    /// <summary>Whether the query has at least one pair named <paramref name="name"/>.</summary>
    public bool Contains(string name) => this[name] is not null;

    /// <summary>Enumerates the pairs in received order without allocating.</summary>
    public List<KeyValuePair<string, string>>.Enumerator GetEnumerator() => _pairs.GetEnumerator();

    IEnumerator<KeyValuePair<string, string>> IEnumerable<KeyValuePair<string, string>>.GetEnumerator() => _pairs.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _pairs.GetEnumerator();

    /// <summary>Replaces the pairs with those of <paramref name="rawQuery"/> (the query without '?').</summary>
    internal void Parse(ReadOnlySpan<byte> rawQuery)
    {
        _pairs.Clear();
        var pairs = new UrlEncodedPairs(rawQuery);
        while (pairs.TryRead(out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value))
        {
            _pairs.Add(new(PercentEncoding.DecodeToString(name, plusAsSpace: true), PercentEncoding.DecodeToString(value, plusAsSpace: true)));
        }
    }
}

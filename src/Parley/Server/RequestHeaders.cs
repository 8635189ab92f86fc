using System.Collections;
using Parley.Http1;

namespace Parley.Server;

/// <summary>The header fields of a request: case-insensitive lookup, repeated fields kept in order.</summary>
public sealed class RequestHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly FieldTable _fields;

    internal RequestHeaders(FieldTable fields) => _fields = fields;

    /// <summary>Number of field lines.</summary>
    public int Count => _fields.Count;

    /// <summary>The field's value (repeated lines joined with ", "), or null when absent.</summary>
    public string? this[string name] => _fields.GetValue(name);

    /// <summary>True when the field is present.</summary>
    public bool Contains(string name) => _fields.Contains(name);

    /// <summary>Every line's value for a field, in order.</summary>
    public IReadOnlyList<string> GetValues(string name) => _fields.GetValues(name);

    /// <summary>The raw value bytes of the first line of a field, without allocating; false when absent.</summary>
    public bool TryGetRawValue(string name, out ReadOnlySpan<byte> value)
    {
        int index = _fields.IndexOf(name);
        value = index < 0 ? default : _fields.ValueAt(index);
        return index >= 0;
    }

    /// <summary>The name of the field line at <paramref name="index"/> (0 to <see cref="Count"/> - 1), as received; known names are shared strings.</summary>
    public string NameAt(int index) => _fields.NameStringAt(index);

    /// <summary>The value of the field line at <paramref name="index"/> (0 to <see cref="Count"/> - 1), without surrounding whitespace.</summary>
    public string ValueAt(int index) => _fields.ValueStringAt(index);

    /// <summary>The name bytes of the field line at <paramref name="index"/>, as received, without allocating.</summary>
    public ReadOnlySpan<byte> RawNameAt(int index) => _fields.NameAt(index);

    /// <summary>The value bytes of the field line at <paramref name="index"/>, without surrounding whitespace and without allocating.</summary>
    public ReadOnlySpan<byte> RawValueAt(int index) => _fields.ValueAt(index);

    /// <summary>The underlying field table, for allocation-free access.</summary>
    internal FieldTable Fields => _fields;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < _fields.Count; i++)
        {
            yield return new KeyValuePair<string, string>(_fields.NameStringAt(i), _fields.ValueStringAt(i));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

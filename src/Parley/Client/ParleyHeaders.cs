using System.Collections;
using Parley.Http1;

namespace Parley.Client;

/// <summary>The header fields of a request: ordered, multi-valued, names compared case-insensitively.</summary>
public sealed class ParleyHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _fields = [];

    /// <summary>Number of field lines.</summary>
    public int Count => _fields.Count;

    /// <summary>The value of a field, repeated lines joined with ", " (RFC 9110 §5.3); null when absent.</summary>
    public string? this[string name]
    {
        get
        {
            string? joined = null;
            foreach (KeyValuePair<string, string> field in _fields)
            {
                if (!Matches(field.Key, name)) continue;
                joined = joined is null ? field.Value : $"{joined}, {field.Value}";
            }
            return joined;
        }
        set
        {
            // Checked first, so that a refused value leaves the field as it was.
            if (value is not null) MessageWriter.ValidateField(name, value);
            Remove(name);
            if (value is not null) _fields.Add(new(name, value));
        }
    }

    /// <summary>Adds a field line, validating name and value (RFC 9110 §5.1, §5.5).</summary>
    public void Add(string name, string value)
    {
        MessageWriter.ValidateField(name, value);
        _fields.Add(new(name, value));
    }

    /// <summary>Replaces every line of the field with one line.</summary>
    public void Set(string name, string value) => this[name] = value;

    /// <summary>Removes every line of the field; true when there was one.</summary>
    public bool Remove(string name) => _fields.RemoveAll(f => Matches(f.Key, name)) > 0;

    /// <summary>True when the field is present.</summary>
    public bool Contains(string name)
    {
        foreach (KeyValuePair<string, string> field in _fields)
        {
            if (Matches(field.Key, name)) return true;
        }
        return false;
    }

    /// <summary>Every value line of a field, in order.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        var values = new List<string>();
        foreach (KeyValuePair<string, string> field in _fields)
        {
            if (Matches(field.Key, name)) values.Add(field.Value);
        }
        return values;
    }

    /// <summary>A copy, for a redirected request.</summary>
    internal ParleyHeaders Clone()
    {
        var copy = new ParleyHeaders();
        copy._fields.AddRange(_fields);
        return copy;
    }

    internal List<KeyValuePair<string, string>> Lines => _fields;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static bool Matches(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The header (or trailer) fields of a response, read-only, as received. Values are decoded only when
/// asked for; names are compared case-insensitively.
/// </summary>
public sealed class ParleyResponseHeaders : IEnumerable<KeyValuePair<string, string>>
{
    internal ParleyResponseHeaders(FieldTable fields) => Fields = fields;

    /// <summary>The parsed field lines (raw bytes, offsets, known-field tags).</summary>
    internal FieldTable Fields { get; }

    /// <summary>Number of field lines.</summary>
    public int Count => Fields.Count;

    /// <summary>The value of a field, repeated lines joined with ", " (RFC 9110 §5.3); null when absent.</summary>
    public string? this[string name] => Fields.GetValue(name);

    /// <summary>True when the field is present.</summary>
    public bool Contains(string name) => Fields.Contains(name);

    /// <summary>Every value line of a field, in order received (e.g. each Set-Cookie).</summary>
    public IReadOnlyList<string> GetValues(string name) => Fields.GetValues(name);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < Fields.Count; i++) yield return new(Fields.NameStringAt(i), Fields.ValueStringAt(i));
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

using System.Collections;

namespace Parley.Server;

/// <summary>
/// The trailer fields of a response (RFC 9110 §6.5): sent after the body, in the chunked coding's trailer
/// section (RFC 9112 §7.1.2), for values known only once the body is written (a checksum, a signature, a
/// final status). Names are case-insensitive; <see cref="Add"/> keeps repeated fields, <see cref="Set"/>
/// replaces. A field is refused when it cannot be sent: see <see cref="HttpResponse.SupportsTrailers"/>.
/// </summary>
public sealed class ResponseTrailers : IEnumerable<KeyValuePair<string, string>>
{
    private readonly HttpResponse _response;
    private FieldLines _lines = new(4);

    internal ResponseTrailers(HttpResponse response) => _response = response;

    /// <summary>Number of trailer field lines.</summary>
    public int Count => _lines.Count;

    /// <summary>The first value of a field, or null. Setting replaces every line of the field; null removes it.</summary>
    public string? this[string name]
    {
        get => _lines.FirstValue(name);
        set
        {
            if (value is null) Remove(name);
            else Set(name, value);
        }
    }

    /// <summary>Replaces every line of the field with one line.</summary>
    /// <exception cref="ArgumentException">The name or value is invalid, or the field is not allowed in trailers (RFC 9110 §6.5.1).</exception>
    /// <exception cref="InvalidOperationException">This response cannot carry trailers (<see cref="HttpResponse.SupportsTrailers"/>).</exception>
    public void Set(string name, string value)
    {
        Check(name, value);
        _lines.RemoveAll(name);
        _lines.Append(name, value);
    }

    /// <summary>Adds a line, keeping existing lines of the same field.</summary>
    /// <exception cref="ArgumentException">The name or value is invalid, or the field is not allowed in trailers (RFC 9110 §6.5.1).</exception>
    /// <exception cref="InvalidOperationException">This response cannot carry trailers (<see cref="HttpResponse.SupportsTrailers"/>).</exception>
    public void Add(string name, string value)
    {
        Check(name, value);
        _lines.Append(name, value);
    }

    /// <summary>Removes every line of the field; true when there was one.</summary>
    public bool Remove(string name) => _lines.RemoveAll(name);

    /// <summary>True when the field is set.</summary>
    public bool Contains(string name) => _lines.IndexOf(name) >= 0;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < _lines.Count; i++) yield return _lines[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The field lines in the order they were added.</summary>
    internal ReadOnlySpan<KeyValuePair<string, string>> Lines => _lines.AsSpan();

    internal void Clear() => _lines.Clear();

    private void Check(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        Http1.MessageWriter.ValidateTrailerField(name, value);
        _response.CheckCanCarryTrailers();
    }
}

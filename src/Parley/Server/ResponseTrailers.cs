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
    private KeyValuePair<string, string>[] _items = new KeyValuePair<string, string>[4];

    internal ResponseTrailers(HttpResponse response) => _response = response;

    /// <summary>Number of trailer field lines.</summary>
    public int Count { get; private set; }

    /// <summary>The first value of a field, or null. Setting replaces every line of the field; null removes it.</summary>
    public string? this[string name]
    {
        get
        {
            int index = IndexOf(name);
            return index < 0 ? null : _items[index].Value;
        }
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
        RemoveLines(name);
        Append(name, value);
    }

    /// <summary>Adds a line, keeping existing lines of the same field.</summary>
    /// <exception cref="ArgumentException">The name or value is invalid, or the field is not allowed in trailers (RFC 9110 §6.5.1).</exception>
    /// <exception cref="InvalidOperationException">This response cannot carry trailers (<see cref="HttpResponse.SupportsTrailers"/>).</exception>
    public void Add(string name, string value)
    {
        Check(name, value);
        Append(name, value);
    }

    /// <summary>Removes every line of the field; true when there was one.</summary>
    public bool Remove(string name) => RemoveLines(name);

    /// <summary>True when the field is set.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _items[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The field lines in the order they were added.</summary>
    internal ReadOnlySpan<KeyValuePair<string, string>> Lines => _items.AsSpan(0, Count);

    internal void Clear()
    {
        Array.Clear(_items, 0, Count);
        Count = 0;
    }

    private void Check(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        Http1.MessageWriter.ValidateTrailerField(name, value);
        _response.CheckCanCarryTrailers();
    }

    private void Append(string name, string value)
    {
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = new KeyValuePair<string, string>(name, value);
    }

    private bool RemoveLines(string name)
    {
        bool removed = false;
        for (int i = Count - 1; i >= 0; i--)
        {
            if (string.Equals(_items[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                Array.Copy(_items, i + 1, _items, i, Count - i - 1);
                _items[--Count] = default;
                removed = true;
            }
        }
        return removed;
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < Count; i++)
        {
            if (string.Equals(_items[i].Key, name, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }
}

using System.Collections;

namespace Parley.Server;

/// <summary>
/// The header fields a handler sets on a response. Names are case-insensitive; <see cref="Add"/> keeps
/// repeated fields (e.g. Set-Cookie), <see cref="Set"/> replaces. Values are validated when written,
/// so a CR or LF can never split the response. Framing fields (Content-Length, Transfer-Encoding,
/// Connection, Date) belong to the engine and are refused here.
/// </summary>
public sealed class ResponseHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private KeyValuePair<string, string>[] _items = new KeyValuePair<string, string>[8];
    private bool _readOnly;

    /// <summary>Number of field lines.</summary>
    public int Count { get; private set; }

    /// <summary>The first value of a field, or null. Setting replaces every line of the field.</summary>
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
    public void Set(string name, string value)
    {
        Remove(name);
        Add(name, value);
    }

    /// <summary>Adds a line, keeping existing lines of the same field.</summary>
    public void Add(string name, string value)
    {
        CheckWritable();
        Http1.MessageWriter.ValidateField(name, value);
        if (IsEngineField(name))
        {
            throw new ArgumentException($"'{name}' is managed by the engine: set HttpResponse.ContentLength or HttpResponse.CloseConnection instead", nameof(name));
        }
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = new KeyValuePair<string, string>(name, value);
    }

    /// <summary>Removes every line of the field; true when there was one.</summary>
    public bool Remove(string name)
    {
        CheckWritable();
        bool removed = false;
        for (int i = Count - 1; i >= 0; i--)
        {
            if (_items[i].Key.Length == name.Length && string.Equals(_items[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                Array.Copy(_items, i + 1, _items, i, Count - i - 1);
                _items[--Count] = default;
                removed = true;
            }
        }
        return removed;
    }

    /// <summary>True when the field is set.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _items[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal KeyValuePair<string, string> At(int index) => _items[index];

    internal void MakeReadOnly() => _readOnly = true;

    internal void Clear()
    {
        Array.Clear(_items, 0, Count);
        Count = 0;
        _readOnly = false;
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < Count; i++)
        {
            if (string.Equals(_items[i].Key, name, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    private void CheckWritable()
    {
        if (_readOnly) throw new InvalidOperationException("the response head has already been written; headers can no longer change");
    }

    private static bool IsEngineField(string name) => name.Length switch
    {
        4 => name.Equals("Date", StringComparison.OrdinalIgnoreCase),
        10 => name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase),
        14 => name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase),
        17 => name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}

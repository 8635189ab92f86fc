namespace Parley.Server;

/// <summary>
/// Field lines in the order they were added, with names compared case-insensitively (RFC 9110 §5.1): the
/// storage behind <see cref="ResponseHeaders"/> and <see cref="ResponseTrailers"/>, which add their own
/// rules on what may be written. A mutable struct: keep it in a field and call it there, never copy it.
/// </summary>
internal struct FieldLines(int capacity)
{
    private KeyValuePair<string, string>[] _items = new KeyValuePair<string, string>[capacity];

    public int Count { get; private set; }

    /// <summary>How many lines fit before the storage grows.</summary>
    public readonly int Capacity => _items.Length;

    public readonly KeyValuePair<string, string> this[int index] => _items[index];

    public readonly ReadOnlySpan<KeyValuePair<string, string>> AsSpan() => _items.AsSpan(0, Count);

    /// <summary>The value of the first line of the field, or null.</summary>
    public readonly string? FirstValue(string name)
    {
        int index = IndexOf(name);
        return index < 0 ? null : _items[index].Value;
    }

    public readonly int IndexOf(string name)
    {
        for (int i = 0; i < Count; i++)
        {
            if (string.Equals(_items[i].Key, name, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    public void Append(string name, string value)
    {
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = new KeyValuePair<string, string>(name, value);
    }

    /// <summary>Removes every line of the field; true when there was one.</summary>
    public bool RemoveAll(string name)
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

    /// <summary>Empties the list, dropping the references it held, and keeps its storage.</summary>
    public void Clear()
    {
        Array.Clear(_items, 0, Count);
        Count = 0;
    }
}

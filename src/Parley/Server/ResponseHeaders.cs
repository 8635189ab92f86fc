using System.Collections;
using System.Text;

namespace Parley.Server;

/// <summary>
/// The header fields a handler sets on a response. Names are case-insensitive; <see cref="Add"/> keeps
/// repeated fields (e.g. Set-Cookie), <see cref="Set"/> replaces. Values are validated when written,
/// so a CR or LF can never split the response. Framing fields (Content-Length, Transfer-Encoding,
/// Connection, Date) belong to the engine and are refused here.
/// </summary>
public sealed class ResponseHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private FieldLines _lines = new(8);
    private bool _readOnly;
    // The field lines as last encoded, and the items they were encoded from. A handler that sets the same
    // strings on every response (literals, as most do) gets its lines copied rather than encoded again;
    // the same references mean the same characters, since strings do not change.
    private byte[] _encoded = [];
    private int _encodedLength;
    private KeyValuePair<string, string>[] _encodedItems = [];
    private int _encodedCount = -1;

    /// <summary>Number of field lines.</summary>
    public int Count => _lines.Count;

    /// <summary>The first value of a field, or null. Setting replaces every line of the field.</summary>
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
    public void Set(string name, string value)
    {
        // Checked before the old lines go, so that a refused value leaves the field as it was.
        CheckLine(name, value);
        _lines.RemoveAll(name);
        _lines.Append(name, value);
    }

    /// <summary>Adds a line, keeping existing lines of the same field.</summary>
    public void Add(string name, string value)
    {
        CheckLine(name, value);
        _lines.Append(name, value);
    }

    private void CheckLine(string name, string value)
    {
        CheckWritable();
        Http1.MessageWriter.ValidateField(name, value);
        if (IsEngineField(name))
        {
            throw new ArgumentException($"'{name}' is managed by the engine: set HttpResponse.ContentLength or HttpResponse.CloseConnection instead", nameof(name));
        }
    }

    /// <summary>Removes every line of the field; true when there was one.</summary>
    public bool Remove(string name)
    {
        CheckWritable();
        return _lines.RemoveAll(name);
    }

    /// <summary>True when the field is set.</summary>
    public bool Contains(string name) => _lines.IndexOf(name) >= 0;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < _lines.Count; i++) yield return _lines[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The field lines, <c>name: value\r\n</c> each, in order (validated by <see cref="Add"/>). Valid until
    /// the next call.
    /// </summary>
    internal ReadOnlySpan<byte> EncodedFieldLines()
    {
        if (!IsEncoded()) Encode();
        return _encoded.AsSpan(0, _encodedLength);
    }

    private bool IsEncoded()
    {
        ReadOnlySpan<KeyValuePair<string, string>> lines = _lines.AsSpan();
        if (lines.Length != _encodedCount) return false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!ReferenceEquals(lines[i].Key, _encodedItems[i].Key) || !ReferenceEquals(lines[i].Value, _encodedItems[i].Value)) return false;
        }
        return true;
    }

    private void Encode()
    {
        ReadOnlySpan<KeyValuePair<string, string>> lines = _lines.AsSpan();
        int length = 0;
        foreach ((string name, string value) in lines) length += name.Length + value.Length + 4;
        if (_encoded.Length < length) _encoded = new byte[Math.Max(length, 64)];
        if (_encodedItems.Length < lines.Length) _encodedItems = new KeyValuePair<string, string>[_lines.Capacity];
        Span<byte> span = _encoded;
        int at = 0;
        foreach ((string name, string value) in lines)
        {
            at += Encoding.ASCII.GetBytes(name, span[at..]);
            span[at++] = (byte)':';
            span[at++] = (byte)' ';
            at += Encoding.ASCII.GetBytes(value, span[at..]);
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
        }
        _encodedLength = at;
        lines.CopyTo(_encodedItems);
        _encodedCount = lines.Length;
    }

    internal void MakeReadOnly() => _readOnly = true;

    internal void Clear()
    {
        _lines.Clear();
        _readOnly = false;
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

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Parley.Http1;

/// <summary>
/// The header (or trailer) fields of one message, kept as offsets into the bytes they were parsed from.
/// Nothing is copied or decoded until somebody asks for a value; the table is reset and reused between
/// messages, so a connection parses request after request without allocating.
/// </summary>
internal sealed class FieldTable
{
    internal struct Entry
    {
        public int NameStart;
        public int NameLength;
        public int ValueStart;
        public int ValueLength;
        public KnownField Known;
    }

    private Entry[] _entries = new Entry[16];
    private ReadOnlyMemory<byte> _source;
    // Which known fields were seen (bit per KnownField value), which more than once, and the index of
    // each one's first line: framing decisions then need no scan of the table.
    private uint _knownSeen, _knownRepeated;
    private KnownIndexes _firstKnownIndex;

    // Index of each known field's first line, by KnownField (a bit of a 32-bit mask each): inline in the
    // table, so reading one is no array reference and no bounds check.
    [InlineArray(32)]
    private struct KnownIndexes
    {
        private int _index;
    }

    /// <summary>How many field lines the message carried (a repeated name counts each time).</summary>
    public int Count { get; private set; }

    /// <summary>The bytes the offsets point into. Valid until the owner moves on to the next message.</summary>
    public ReadOnlySpan<byte> Source => _source.Span;

    internal void Reset(ReadOnlyMemory<byte> source)
    {
        _source = source;
        Count = 0;
        _knownSeen = _knownRepeated = 0;
    }

    internal void Rebind(ReadOnlyMemory<byte> source) => _source = source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Add(int nameStart, int nameLength, int valueStart, int valueLength, KnownField known)
    {
        int count = Count;
        Entry[] entries = _entries;
        if ((uint)count >= (uint)entries.Length) entries = Grow();
        if (known != KnownField.Other) NoteKnown(known, count, ref _knownSeen, ref _knownRepeated, ref FirstKnownIndexes);
        // count < entries.Length was just made sure of: no second bounds check.
        ref Entry entry = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(entries), (nint)(uint)count);
        entry.NameStart = nameStart;
        entry.NameLength = nameLength;
        entry.ValueStart = valueStart;
        entry.ValueLength = valueLength;
        entry.Known = known;
        Count = count + 1;
    }

    /// <summary>
    /// Room for <paramref name="lines"/> more lines, for a parser that writes them itself: it fills
    /// entries <see cref="Count"/> to <c>Count + lines - 1</c> of the array returned, notes the known
    /// fields among them with <see cref="NoteKnown"/> (on <see cref="FirstKnownIndexes"/> and its own copies
    /// of the seen and repeated masks), then calls <see cref="Commit"/>.
    /// </summary>
    internal Entry[] Reserve(int lines)
    {
        while (_entries.Length - Count < lines) Grow();
        return _entries;
    }

    /// <summary>Index of each known field's first line, by <see cref="KnownField"/>; valid where its bit is seen.</summary>
    internal ref int FirstKnownIndexes => ref _firstKnownIndex[0];

    /// <summary>Counts the lines written after <see cref="Reserve"/>, with the known fields now seen and repeated.</summary>
    internal void Commit(int lines, uint seen, uint repeated)
    {
        Count += lines;
        _knownSeen = seen;
        _knownRepeated = repeated;
    }

    /// <summary>
    /// Notes that line <paramref name="index"/> is the known field <paramref name="known"/>: the index of
    /// its first line when <paramref name="seen"/> lacks it, else its bit in <paramref name="repeated"/>.
    /// Shared by <see cref="Add"/> and parsers that keep the two masks until they <see cref="Commit"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void NoteKnown(KnownField known, int index, ref uint seen, ref uint repeated, ref int firstIndexes)
    {
        uint bit = 1u << (int)known;
        // KnownField values are below 32, as the masks need.
        if ((seen & bit) == 0) Unsafe.Add(ref firstIndexes, (int)known) = index;
        else repeated |= bit;
        seen |= bit;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Entry[] Grow()
    {
        Array.Resize(ref _entries, _entries.Length * 2);
        return _entries;
    }

    /// <summary>The name bytes of field line <paramref name="index"/>, as received.</summary>
    public ReadOnlySpan<byte> NameAt(int index)
    {
        ref readonly Entry e = ref _entries[CheckIndex(index)];
        return _source.Span.Slice(e.NameStart, e.NameLength);
    }

    /// <summary>The value bytes of field line <paramref name="index"/>, without surrounding whitespace.</summary>
    public ReadOnlySpan<byte> ValueAt(int index)
    {
        ref readonly Entry e = ref _entries[CheckIndex(index)];
        return _source.Span.Slice(e.ValueStart, e.ValueLength);
    }

    /// <summary>
    /// <see cref="ValueAt(int)"/> over <paramref name="source"/>, the span of the bytes the table is bound
    /// to, for callers that hold it already (deriving it from the bound memory is not free).
    /// </summary>
    internal ReadOnlySpan<byte> ValueAt(ReadOnlySpan<byte> source, int index)
    {
        ref readonly Entry e = ref _entries[CheckIndex(index)];
        return source.Slice(e.ValueStart, e.ValueLength);
    }

    /// <summary>
    /// The entry of a line whose index the table gave out itself (<see cref="FirstIndexOf"/>), so below
    /// <see cref="Count"/>: read without the range checks of the public accessors, which keep the
    /// semantic checks of every request from inlining.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref readonly Entry RecordedEntry(int index)
    {
        System.Diagnostics.Debug.Assert((uint)index < (uint)Count);
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), (nint)(uint)index);
    }

    /// <summary>Which engine-interpreted field line <paramref name="index"/> is, if any.</summary>
    public KnownField KnownAt(int index) => _entries[CheckIndex(index)].Known;

    /// <summary>The name of field line <paramref name="index"/> as a string (a shared instance for known fields).</summary>
    public string NameStringAt(int index)
    {
        KnownField known = KnownAt(index);
        string? canonical = KnownFields.CanonicalName(known);
        if (canonical is not null && Ascii.Equals(NameAt(index), canonical))
        {
            return canonical;
        }
        return Encoding.ASCII.GetString(NameAt(index));
    }

    /// <summary>The value of field line <paramref name="index"/> decoded as Latin-1 (RFC 9110 §5.5: obs-text is opaque).</summary>
    public string ValueStringAt(int index) => Encoding.Latin1.GetString(ValueAt(index));

    /// <summary>Bit <c>1 &lt;&lt; (int)field</c> set for every known field present.</summary>
    internal uint KnownFieldsSeen => _knownSeen;

    /// <summary>Bit <c>1 &lt;&lt; (int)field</c> set for every known field with more than one line.</summary>
    internal uint KnownFieldsRepeated => _knownRepeated;

    /// <summary>Index of the first line of a known field (not <see cref="KnownField.Other"/>), or -1; no scan, no call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int FirstIndexOf(KnownField field) =>
        (_knownSeen & (1u << (int)field)) != 0 ? Unsafe.Add(ref FirstKnownIndexes, (int)field) : -1;

    /// <summary>True when the known field has more than one line.</summary>
    internal bool IsRepeated(KnownField field) => (_knownRepeated & (1u << (int)field)) != 0;

    /// <summary>Index of the first line of a known field, or -1.</summary>
    public int IndexOf(KnownField field, int startIndex = 0)
    {
        if (field != KnownField.Other)
        {
            uint bit = 1u << (int)field;
            if ((_knownSeen & bit) == 0) return -1;
            int first = _firstKnownIndex[(int)field];
            if ((uint)startIndex <= (uint)first) return first;
            if ((_knownRepeated & bit) == 0) return -1;
        }
        for (int i = startIndex; i < Count; i++)
        {
            if (_entries[i].Known == field) return i;
        }
        return -1;
    }

    /// <summary>Index of the first line whose name matches case-insensitively, or -1.</summary>
    public int IndexOf(string name, int startIndex = 0)
    {
        KnownField known = name.Length <= 32 ? KnownFieldOf(name) : KnownField.Other;
        if (known != KnownField.Other) return IndexOf(known, startIndex);
        ReadOnlySpan<byte> source = _source.Span;
        for (int i = startIndex; i < Count; i++)
        {
            ref readonly Entry e = ref _entries[i];
            if (e.NameLength == name.Length && Ascii.EqualsIgnoreCase(source.Slice(e.NameStart, e.NameLength), name))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// The value of a field, with repeated lines joined by ", " (RFC 9110 §5.3), or null when absent.
    /// </summary>
    public string? GetValue(string name)
    {
        int first = IndexOf(name);
        if (first < 0) return null;
        int next = IndexOf(name, first + 1);
        if (next < 0) return ValueStringAt(first);
        var builder = new StringBuilder(ValueStringAt(first));
        for (int i = next; i >= 0; i = IndexOf(name, i + 1))
        {
            builder.Append(", ").Append(ValueStringAt(i));
        }
        return builder.ToString();
    }

    /// <summary>Every value line of a field, in order received.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        var values = new List<string>();
        for (int i = IndexOf(name); i >= 0; i = IndexOf(name, i + 1))
        {
            values.Add(ValueStringAt(i));
        }
        return values;
    }

    /// <summary>True when at least one line of the field is present.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    private static KnownField KnownFieldOf(string name)
    {
        Span<byte> bytes = stackalloc byte[name.Length];
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] > 0x7F) return KnownField.Other;
            bytes[i] = (byte)name[i];
        }
        return KnownFields.Identify(bytes);
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        return index;
    }
}

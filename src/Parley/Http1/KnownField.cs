using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Parley.Http1;

/// <summary>
/// Header fields that the engine itself interprets. They are recognised while parsing, by length and a
/// case-insensitive byte compare (RFC 9110 §5.1: field names are case-insensitive), so framing decisions
/// never build a string.
/// </summary>
internal enum KnownField : byte
{
    /// <summary>Any field the engine does not interpret.</summary>
    Other = 0,
    /// <summary>Host (RFC 9110 §7.2).</summary>
    Host,
    /// <summary>Content-Length (RFC 9110 §8.6).</summary>
    ContentLength,
    /// <summary>Transfer-Encoding (RFC 9112 §6.1).</summary>
    TransferEncoding,
    /// <summary>Connection (RFC 9110 §7.6.1).</summary>
    Connection,
    /// <summary>Expect (RFC 9110 §10.1.1).</summary>
    Expect,
    /// <summary>Keep-Alive (RFC 2068 §19.7.1, still sent by HTTP/1.0 peers).</summary>
    KeepAlive,
    /// <summary>Content-Type (RFC 9110 §8.3).</summary>
    ContentType,
    /// <summary>Upgrade (RFC 9110 §7.8).</summary>
    Upgrade,
    /// <summary>Trailer (RFC 9110 §6.6.2).</summary>
    Trailer,
    /// <summary>TE (RFC 9110 §10.1.4).</summary>
    TE,
    /// <summary>Location (RFC 9110 §10.2.2).</summary>
    Location,
    /// <summary>Content-Encoding (RFC 9110 §8.4).</summary>
    ContentEncoding,
}

internal static class KnownFields
{
    /// <summary>
    /// Which known field a name is, or <see cref="KnownField.Other"/>. Names are case-insensitive
    /// (RFC 9110 §5.1): a name's length and first letter pick the one candidate it can be, and two words
    /// of it (the first and last 8 bytes, or 4, or the 2 of "TE") compared with 0x20 OR-ed into the
    /// letter positions settle it; only 'A'-'Z' and 'a'-'z' fold onto a lowercase letter that way, and
    /// the '-' positions are compared exactly. No loop and no call, so a field-line loop inlines it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KnownField Identify(ReadOnlySpan<byte> name)
    {
        int length = name.Length;
        if ((uint)length >= CandidateLengths || length == 0) return KnownField.Other;
        // The tables are indexed by a length below CandidateLengths and by the KnownField values they
        // hold themselves, so they are read without bounds checks. One load gives both candidates of
        // the length with their first letters; a received first byte with 0x20 OR-ed in is never the 0
        // of a missing candidate.
        uint candidates = Unsafe.Add(ref Unsafe.AsRef(in ByLength[0]), length);
        int first = name[0] | 0x20;
        int candidate;
        if (first == (byte)(candidates >> 8)) candidate = (byte)candidates;
        // Two known names share each of the lengths 7 and 10.
        else if (first == (byte)(candidates >> 24)) candidate = (byte)(candidates >> 16);
        else return KnownField.Other;
        ulong head, tail;
        ref byte start = ref MemoryMarshal.GetReference(name);
        if (length >= 8)
        {
            head = Unsafe.ReadUnaligned<ulong>(ref start);
            tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, length - 8));
        }
        else if (length >= 4)
        {
            head = Unsafe.ReadUnaligned<uint>(ref start);
            tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, length - 4));
        }
        else
        {
            head = tail = Unsafe.ReadUnaligned<ushort>(ref start);
        }
        ref ulong words = ref Unsafe.Add(ref Unsafe.AsRef(in Words[0]), candidate * 4);
        bool match = (head | Unsafe.Add(ref words, 1)) == words
            && (tail | Unsafe.Add(ref words, 3)) == Unsafe.Add(ref words, 2)
            // transfer-encoding: the words cover "transfer" and "encoding"; the '-' between is left.
            && (length != 17 || name[8] == (byte)'-');
        return match ? (KnownField)candidate : KnownField.Other;
    }

    private const int CandidateLengths = 18;

    // The tables below are built from CanonicalName, so that each name is written once. They are
    // inline arrays held in static fields rather than arrays, so that a field-line loop reads them at a
    // fixed address, not through an array reference loaded first.

    // By name length: the known field of that length (bits 0-7) and its lowercase first letter (8-15),
    // and for 7 and 10, which two known names share, the other field and its letter (16-23, 24-31); 0
    // for none (no name starts with NUL, so a 0 letter never matches).
    private static readonly LengthTable ByLength = BuildByLength();

    // By KnownField, four words: the head word (the first 8 bytes of the name, or 4, or the 2 of "TE",
    // lowercase, little-endian), its case bits (0x20 at each letter position, OR-ed into the received
    // word so that only letters fold), then the tail word (the last 8, 4 or 2 bytes) and its case bits.
    private static readonly WordTable Words = BuildWords();

    private const int FieldCount = 13; // KnownField values, Other included

    // One entry more than the lengths read: the last stays 0 (no candidate), so the table ends in an
    // answer of its own rather than in whatever memory follows it, should the guard ever be off by one.
    [InlineArray(CandidateLengths + 1)]
    private struct LengthTable
    {
        private uint _entry;
    }

    [InlineArray(FieldCount * 4)]
    private struct WordTable
    {
        private ulong _word;
    }

    private static IEnumerable<(KnownField Field, string Name)> Names()
    {
        for (KnownField field = KnownField.Other + 1; CanonicalName(field) is { } name; field++) yield return (field, name);
    }

    private static LengthTable BuildByLength()
    {
        var table = new LengthTable();
        foreach ((KnownField field, string name) in Names())
        {
            // Identify reads words of 8, 4 or 2 bytes: a name must fit them, and share its length with one other at most.
            if (name.Length >= CandidateLengths || name.Length is 1 or 3 || table[name.Length] > 0xFFFF)
            {
                throw new InvalidOperationException($"known field name {name} does not fit the lookup");
            }
            uint entry = (uint)field | (uint)char.ToLowerInvariant(name[0]) << 8;
            table[name.Length] = table[name.Length] == 0 ? entry : table[name.Length] | entry << 16;
        }
        return table;
    }

    private static WordTable BuildWords()
    {
        if (Names().Count() + 1 != FieldCount) throw new InvalidOperationException("FieldCount does not match KnownField");
        var table = new WordTable();
        foreach ((KnownField field, string name) in Names())
        {
            int size = name.Length >= 8 ? 8 : name.Length >= 4 ? 4 : 2;
            int at = (int)field * 4;
            (table[at], table[at + 1]) = Word(name, 0, size);
            (table[at + 2], table[at + 3]) = Word(name, name.Length - size, size);
        }
        return table;
    }

    private static (ulong Word, ulong CaseBits) Word(string name, int start, int size)
    {
        ulong word = 0, caseBits = 0;
        for (int i = 0; i < size; i++)
        {
            char c = name[start + i];
            word |= (ulong)char.ToLowerInvariant(c) << (8 * i);
            if (char.IsAsciiLetter(c)) caseBits |= 0x20UL << (8 * i);
        }
        return (word, caseBits);
    }

    public static string? CanonicalName(KnownField field) => field switch
    {
        KnownField.Host => "Host",
        KnownField.ContentLength => "Content-Length",
        KnownField.TransferEncoding => "Transfer-Encoding",
        KnownField.Connection => "Connection",
        KnownField.Expect => "Expect",
        KnownField.KeepAlive => "Keep-Alive",
        KnownField.ContentType => "Content-Type",
        KnownField.Upgrade => "Upgrade",
        KnownField.Trailer => "Trailer",
        KnownField.TE => "TE",
        KnownField.Location => "Location",
        KnownField.ContentEncoding => "Content-Encoding",
        _ => null,
    };
}

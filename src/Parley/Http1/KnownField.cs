using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Parley.Http1;

/// <summary>
/// Header fields that the engine itself interprets. They are recognised while parsing, by length and a
/// case-insensitive byte compare (RFC 9110 §5.1: field names are case-insensitive), so framing decisions
/// never build a string.
/// </summary>
public enum KnownField : byte
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
        // hold themselves, so they are read without bounds checks.
        ushort candidates = Unsafe.Add(ref MemoryMarshal.GetReference(CandidatesByLength), length);
        if (candidates == 0) return KnownField.Other;
        ref byte firstLetters = ref MemoryMarshal.GetReference(FirstLetters);
        int first = name[0] | 0x20;
        int candidate = candidates & 0xFF;
        if (first != Unsafe.Add(ref firstLetters, candidate))
        {
            // Two known names share each of the lengths 7 and 10.
            candidate = candidates >> 8;
            if (candidate == 0 || first != Unsafe.Add(ref firstLetters, candidate)) return KnownField.Other;
        }
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
        bool match = (head | Unsafe.Add(ref MemoryMarshal.GetReference(HeadCases), candidate)) == Unsafe.Add(ref MemoryMarshal.GetReference(Heads), candidate)
            && (tail | Unsafe.Add(ref MemoryMarshal.GetReference(TailCases), candidate)) == Unsafe.Add(ref MemoryMarshal.GetReference(Tails), candidate)
            // transfer-encoding: the words cover "transfer" and "encoding"; the '-' between is left.
            && (length != 17 || name[8] == (byte)'-');
        return match ? (KnownField)candidate : KnownField.Other;
    }

    private const int CandidateLengths = 18;

    // By name length: the known field of that length in the low byte and, for 7 and 10, which two
    // known names share, the other in the high byte; 0 for none.
    private static ReadOnlySpan<ushort> CandidatesByLength =>
    [
        0, 0, (ushort)KnownField.TE, 0, (ushort)KnownField.Host, 0, (ushort)KnownField.Expect,
        (ushort)((int)KnownField.Upgrade | (int)KnownField.Trailer << 8),
        (ushort)KnownField.Location, 0,
        (ushort)((int)KnownField.Connection | (int)KnownField.KeepAlive << 8),
        0, (ushort)KnownField.ContentType, 0, (ushort)KnownField.ContentLength, 0,
        (ushort)KnownField.ContentEncoding, (ushort)KnownField.TransferEncoding,
    ];

    // By KnownField: the lowercase first letter, and the expected head and tail words (the name's bytes,
    // lowercase, little-endian) with the 0x20 bits OR-ed into their letter positions.
    private static ReadOnlySpan<byte> FirstLetters =>
        [0, (byte)'h', (byte)'c', (byte)'t', (byte)'c', (byte)'e', (byte)'k', (byte)'c', (byte)'u', (byte)'t', (byte)'t', (byte)'l', (byte)'c'];

    private static ReadOnlySpan<ulong> Heads =>
    [
        0, 0x74736F68, 0x2D746E65746E6F63, 0x726566736E617274, 0x697463656E6E6F63, 0x65707865, 0x696C612D7065656B,
        0x2D746E65746E6F63, 0x72677075, 0x69617274, 0x6574, 0x6E6F697461636F6C, 0x2D746E65746E6F63,
    ];

    private static ReadOnlySpan<ulong> HeadCases =>
    [
        0, 0x20202020, 0x20202020202020, 0x2020202020202020, 0x2020202020202020, 0x20202020, 0x2020200020202020,
        0x20202020202020, 0x20202020, 0x20202020, 0x2020, 0x2020202020202020, 0x20202020202020,
    ];

    private static ReadOnlySpan<ulong> Tails =>
    [
        0, 0x74736F68, 0x6874676E656C2D74, 0x676E69646F636E65, 0x6E6F697463656E6E, 0x74636570, 0x6576696C612D7065,
        0x657079742D746E65, 0x65646172, 0x72656C69, 0x6574, 0x6E6F697461636F6C, 0x676E69646F636E65,
    ];

    private static ReadOnlySpan<ulong> TailCases =>
    [
        0, 0x20202020, 0x2020202020200020, 0x2020202020202020, 0x2020202020202020, 0x20202020, 0x2020202020002020,
        0x2020202000202020, 0x20202020, 0x20202020, 0x2020, 0x2020202020202020, 0x2020202020202020,
    ];

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

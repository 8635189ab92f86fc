using System.Buffers.Binary;

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
    // Names are compared a word at a time against their lowercase bytes: OR-ing 0x20 into the letter
    // positions (the masks below; '-' positions are compared exactly) folds ASCII case, RFC 9110 §5.1,
    // and only 'X' and 'x' become 'x'. Words may overlap; the constants are the names' bytes little-endian.
    private const uint Letters4 = 0x20202020;
    private const ulong Letters8 = 0x2020202020202020;

    /// <summary>
    /// <see cref="Identify"/> for a name known to be made of tchar, after an inlined pre-check: most
    /// names a request carries are not known fields, and a name's length and first letter rule out all
    /// but the known ones without the call.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static KnownField IdentifyFiltered(ReadOnlySpan<byte> name)
    {
        ReadOnlySpan<uint> firstLetters = FirstLettersByLength;
        // A first byte that is not a letter gives some shift count; a false match only costs the call.
        return (uint)name.Length < (uint)firstLetters.Length
            && ((firstLetters[name.Length] >> (((name[0] | 0x20) - 'a') & 31)) & 1) != 0
            ? Identify(name) : KnownField.Other;
    }

    // Bit (letter - 'a') set at index n when a known field's name has n bytes and begins with that
    // letter: t 19, h 7, e 4, u 20, l 11, c 2, k 10.
    private static ReadOnlySpan<uint> FirstLettersByLength =>
    [
        0, 0,
        1u << 19,             // 2: te
        0,
        1u << 7,              // 4: host
        0,
        1u << 4,              // 6: expect
        1u << 20 | 1u << 19,  // 7: upgrade, trailer
        1u << 11,             // 8: location
        0,
        1u << 2 | 1u << 10,   // 10: connection, keep-alive
        0,
        1u << 2,              // 12: content-type
        0,
        1u << 2,              // 14: content-length
        0,
        1u << 2,              // 16: content-encoding
        1u << 19,             // 17: transfer-encoding
    ];

    public static KnownField Identify(ReadOnlySpan<byte> name)
    {
        switch (name.Length)
        {
            case 2:
                return (BinaryPrimitives.ReadUInt16LittleEndian(name) | 0x2020) == 0x6574 ? KnownField.TE : KnownField.Other; // "te"
            case 4:
                return (U32(name, 0) | Letters4) == 0x74736f68 ? KnownField.Host : KnownField.Other; // "host"
            case 6:
                return (U32(name, 0) | Letters4) == 0x65707865 && (U32(name, 2) | Letters4) == 0x74636570 // "expe", "pect"
                    ? KnownField.Expect : KnownField.Other;
            case 7:
            {
                uint head = U32(name, 0) | Letters4, tail = U32(name, 3) | Letters4;
                if (head == 0x72677075 && tail == 0x65646172) return KnownField.Upgrade; // "upgr", "rade"
                if (head == 0x69617274 && tail == 0x72656c69) return KnownField.Trailer; // "trai", "iler"
                return KnownField.Other;
            }
            case 8:
                return (U64(name, 0) | Letters8) == 0x6e6f697461636f6c ? KnownField.Location : KnownField.Other; // "location"
            case 10:
            {
                ulong head = U64(name, 0), tail = U64(name, 2);
                if ((head | Letters8) == 0x697463656e6e6f63 && (tail | Letters8) == 0x6e6f697463656e6e) return KnownField.Connection; // "connecti", "nnection"
                if ((head | 0x2020200020202020) == 0x696c612d7065656b && (tail | 0x2020202020002020) == 0x6576696c612d7065) return KnownField.KeepAlive; // "keep-ali", "ep-alive"
                return KnownField.Other;
            }
            case 12:
                return IsContentDash(name) && (U64(name, 4) | 0x2020202000202020) == 0x657079742d746e65 // "ent-type"
                    ? KnownField.ContentType : KnownField.Other;
            case 14:
                return IsContentDash(name) && (U64(name, 6) | 0x2020202020200020) == 0x6874676e656c2d74 // "t-length"
                    ? KnownField.ContentLength : KnownField.Other;
            case 16:
                return IsContentDash(name) && (U64(name, 8) | Letters8) == 0x676e69646f636e65 // "encoding"
                    ? KnownField.ContentEncoding : KnownField.Other;
            case 17:
                return (U64(name, 0) | Letters8) == 0x726566736e617274 && name[8] == (byte)'-' // "transfer"
                    && (U64(name, 9) | Letters8) == 0x676e69646f636e65 // "encoding"
                    ? KnownField.TransferEncoding : KnownField.Other;
            default:
                return KnownField.Other;
        }
    }

    private static bool IsContentDash(ReadOnlySpan<byte> name) => (U64(name, 0) | 0x0020202020202020) == 0x2d746e65746e6f63; // "content-"

    private static uint U32(ReadOnlySpan<byte> name, int at) => BinaryPrimitives.ReadUInt32LittleEndian(name.Slice(at));

    private static ulong U64(ReadOnlySpan<byte> name, int at) => BinaryPrimitives.ReadUInt64LittleEndian(name.Slice(at));

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

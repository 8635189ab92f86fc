using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Parley.Http1;

/// <summary>
/// Reads the PROXY protocol header a load balancer sends before a connection's own bytes (HAProxy's
/// "The PROXY protocol", versions 1 and 2). Pure: the caller receives, this only looks at bytes. A
/// header is read once per connection, so it may allocate its result. Every rejection ends the
/// connection without a response (§2: the receiver must not try to guess the protocol that follows).
/// </summary>
internal static class ProxyProtocolParser
{
    /// <summary>§2.1: a version 1 line, CRLF included, is at most 107 bytes.</summary>
    public const int MaxV1Length = 107;

    /// <summary>§2.2: the fixed part of a version 2 header (signature, version and command, family, length).</summary>
    public const int V2FixedLength = 16;

    // §2.1: the shortest version 1 line is "PROXY UNKNOWN\r\n".
    private const int MinV1Length = 15;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    // §2.2: the twelve bytes that open every version 2 header; they cannot start any HTTP request.
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// Parses the header at the start of <paramref name="input"/>. <see cref="ParseStatus.Complete"/> with
    /// <paramref name="consumed"/> its length (what follows belongs to the connection's protocol);
    /// <see cref="ParseStatus.NeedMoreData"/> when the bytes so far are a valid beginning;
    /// <see cref="ParseStatus.Invalid"/> with a reason citing the section.
    /// </summary>
    public static ParseStatus Parse(ReadOnlySpan<byte> input, out ProxyProtocolHeader? header, out int consumed, out string? reason)
    {
        header = null;
        consumed = 0;
        reason = null;
        if (input.IsEmpty) return ParseStatus.NeedMoreData;
        if (StartsLike(input, V1Prefix)) return input.Length < V1Prefix.Length ? ParseStatus.NeedMoreData : ParseV1(input, out header, out consumed, out reason);
        if (StartsLike(input, V2Signature)) return input.Length < V2FixedLength ? ParseStatus.NeedMoreData : ParseV2(input, out header, out consumed, out reason);
        reason = "the connection does not start with a PROXY protocol header (§2.1, §2.2)";
        return ParseStatus.Invalid;
    }

    /// <summary>
    /// How many more bytes may be received without reading past the header (whose end only the header
    /// itself tells): the rest of the connection may belong to a TLS handshake that must see every byte.
    /// Called after <see cref="Parse"/> returned <see cref="ParseStatus.NeedMoreData"/> for <paramref name="buffered"/>.
    /// </summary>
    public static int BytesWanted(ReadOnlySpan<byte> buffered)
    {
        if (buffered.IsEmpty || buffered[0] == (byte)'P') return Math.Max(1, MinV1Length - buffered.Length);
        if (buffered.Length < V2FixedLength) return V2FixedLength - buffered.Length;
        return V2FixedLength + BinaryPrimitives.ReadUInt16BigEndian(buffered[14..]) - buffered.Length;
    }

    private static bool StartsLike(ReadOnlySpan<byte> input, ReadOnlySpan<byte> prefix)
    {
        int length = Math.Min(input.Length, prefix.Length);
        return input[..length].SequenceEqual(prefix[..length]);
    }

    private static ParseStatus ParseV1(ReadOnlySpan<byte> input, out ProxyProtocolHeader? header, out int consumed, out string? reason)
    {
        header = null;
        consumed = 0;
        reason = null;
        ReadOnlySpan<byte> window = input[..Math.Min(input.Length, MaxV1Length)];
        int lf = window.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (input.Length < MaxV1Length) return ParseStatus.NeedMoreData;
            return Fail("version 1 header longer than 107 bytes (§2.1)", out reason);
        }
        if (window[lf - 1] != (byte)'\r') return Fail("version 1 header not ended by CRLF (§2.1)", out reason);
        ReadOnlySpan<byte> rest = window[V1Prefix.Length..(lf - 1)];
        consumed = lf + 1;
        int space = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> protocol = space < 0 ? rest : rest[..space];
        if (protocol.SequenceEqual("UNKNOWN"u8))
        {
            // §2.1: with UNKNOWN the receiver ignores everything up to the CRLF and uses the real endpoints.
            if (rest.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0) return Fail("control byte in version 1 header (§2.1)", out reason);
            header = new ProxyProtocolHeader(1, ProxyProtocolCommand.Proxy, null, null, []);
            return ParseStatus.Complete;
        }
        AddressFamily family = protocol.SequenceEqual("TCP4"u8) ? AddressFamily.InterNetwork
            : protocol.SequenceEqual("TCP6"u8) ? AddressFamily.InterNetworkV6
            : AddressFamily.Unknown;
        if (family == AddressFamily.Unknown) return Fail("version 1 protocol is not TCP4, TCP6 or UNKNOWN (§2.1)", out reason);

        // §2.1: exactly one space between the four fields that follow.
        Span<Range> fields = stackalloc Range[4];
        ReadOnlySpan<byte> addresses = space < 0 ? [] : rest[(space + 1)..];
        if (!TrySplitFour(addresses, fields)) return Fail("version 1 header does not have four fields after the protocol, one space apart (§2.1)", out reason);
        if (!TryParseAddress(addresses[fields[0]], family, out IPAddress? source) || !TryParseAddress(addresses[fields[1]], family, out IPAddress? destination))
            return Fail($"version 1 address is not a valid {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address (§2.1)", out reason);
        if (!TryParsePort(addresses[fields[2]], out int sourcePort) || !TryParsePort(addresses[fields[3]], out int destinationPort))
            return Fail("version 1 port is not a decimal number from 0 to 65535 (§2.1)", out reason);
        header = new ProxyProtocolHeader(1, ProxyProtocolCommand.Proxy, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort), []);
        return ParseStatus.Complete;
    }

    private static bool TrySplitFour(ReadOnlySpan<byte> text, Span<Range> fields)
    {
        int count = 0;
        foreach (Range field in text.Split((byte)' '))
        {
            if (count == fields.Length || field.GetOffsetAndLength(text.Length).Length == 0) return false;
            fields[count++] = field;
        }
        return count == fields.Length;
    }

    // §2.1: dotted-quad for TCP4, the textual IPv6 form for TCP6; no zone, no other spellings
    // (IPAddress.TryParse alone would take "1" or "0x7f.1").
    private static bool TryParseAddress(ReadOnlySpan<byte> text, AddressFamily family, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.IsEmpty || text.Length > 45) return false;
        if (family == AddressFamily.InterNetwork)
        {
            if (text.IndexOfAnyExcept("0123456789."u8) >= 0 || text.Count((byte)'.') != 3) return false;
            foreach (Range part in text.Split((byte)'.'))
            {
                int length = part.GetOffsetAndLength(text.Length).Length;
                if (length is 0 or > 3) return false;
            }
        }
        else if (text.IndexOfAnyExcept("0123456789abcdefABCDEF:."u8) >= 0)
        {
            return false;
        }
        Span<char> chars = stackalloc char[text.Length];
        for (int i = 0; i < text.Length; i++) chars[i] = (char)text[i];
        return IPAddress.TryParse(chars, out address) && address.AddressFamily == family;
    }

    private static bool TryParsePort(ReadOnlySpan<byte> text, out int port)
    {
        port = 0;
        if (text.IsEmpty || text.Length > 5) return false;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            port = port * 10 + (b - '0');
        }
        return port <= 65535;
    }

    private static ParseStatus ParseV2(ReadOnlySpan<byte> input, out ProxyProtocolHeader? header, out int consumed, out string? reason)
    {
        header = null;
        consumed = 0;
        reason = null;
        // §2.2: the high nibble of the 13th byte is the version, which must be 2.
        if (input[12] >> 4 != 2) return Fail("version 2 header with a version other than 2 (§2.2)", out reason);
        // §2.2: command 0 is LOCAL, 1 is PROXY; any other must be rejected.
        int command = input[12] & 0x0F;
        if (command > 1) return Fail("version 2 command is neither LOCAL nor PROXY (§2.2)", out reason);
        // §2.2: families UNSPEC, INET, INET6, UNIX and transports UNSPEC, STREAM, DGRAM; nothing else.
        int family = input[13] >> 4;
        int transport = input[13] & 0x0F;
        if (family > 3 || transport > 2) return Fail("version 2 address family or transport is not one of those defined (§2.2)", out reason);
        int length = BinaryPrimitives.ReadUInt16BigEndian(input[14..]);
        if (input.Length < V2FixedLength + length) return ParseStatus.NeedMoreData;
        consumed = V2FixedLength + length;

        // §2.2: with LOCAL the receiver uses the real endpoints and discards the rest of the block.
        if (command == 0)
        {
            header = new ProxyProtocolHeader(2, ProxyProtocolCommand.Local, null, null, []);
            return ParseStatus.Complete;
        }
        ReadOnlySpan<byte> block = input.Slice(V2FixedLength, length);
        // §2.2: the address block of INET is 12 bytes, INET6 36, UNIX 216, UNSPEC none.
        int addressLength = family switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 };
        if (length < addressLength) return Fail("version 2 length is shorter than its address family needs (§2.2)", out reason);
        IPEndPoint? source = null, destination = null;
        // §2.2: addresses are used only for TCP over IPv4 or IPv6; otherwise the receiver uses the real endpoints.
        if (transport == 1 && family is 1 or 2)
        {
            int size = family == 1 ? 4 : 16;
            source = new IPEndPoint(new IPAddress(block[..size]), BinaryPrimitives.ReadUInt16BigEndian(block[(2 * size)..]));
            destination = new IPEndPoint(new IPAddress(block[size..(2 * size)]), BinaryPrimitives.ReadUInt16BigEndian(block[(2 * size + 2)..]));
        }
        if (!TryParseTlvs(block[addressLength..], out ProxyProtocolTlv[] tlvs))
            return Fail("version 2 TLV runs past the header's length (§2.2.7)", out reason);
        header = new ProxyProtocolHeader(2, ProxyProtocolCommand.Proxy, source, destination, tlvs);
        return ParseStatus.Complete;
    }

    // §2.2.7: each TLV is a type byte, a 16-bit big-endian length and that many value bytes, filling the
    // rest of the block exactly.
    private static bool TryParseTlvs(ReadOnlySpan<byte> records, out ProxyProtocolTlv[] tlvs)
    {
        tlvs = [];
        if (records.IsEmpty) return true;
        int count = 0;
        for (int at = 0; at < records.Length; count++)
        {
            if (records.Length - at < 3) return false;
            int length = BinaryPrimitives.ReadUInt16BigEndian(records[(at + 1)..]);
            if (records.Length - at - 3 < length) return false;
            at += 3 + length;
        }
        byte[] copy = records.ToArray();
        tlvs = new ProxyProtocolTlv[count];
        for (int at = 0, i = 0; i < count; i++)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(records[(at + 1)..]);
            tlvs[i] = new ProxyProtocolTlv(copy[at], copy.AsMemory(at + 3, length));
            at += 3 + length;
        }
        return true;
    }

    private static ParseStatus Fail(string why, out string? reason)
    {
        reason = why;
        return ParseStatus.Invalid;
    }
}

using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Parley.Http1;

/// <summary>Syntax of <c>uri-host [ ":" port ]</c> (RFC 3986 §3.2.2-§3.2.3), as used by Host and authority targets.</summary>
internal static class HostSyntax
{
    // reg-name = *( unreserved / pct-encoded / sub-delims )
    internal static readonly System.Buffers.SearchValues<byte> RegNameBytes =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%"u8);

    /// <summary>
    /// <see cref="IsValidAuthority"/> for a Host field value (RFC 9110 §7.2: <c>uri-host [ ":" port ]</c>,
    /// may be empty) found at <paramref name="start"/> of <paramref name="source"/>. The usual value, up to
    /// 16 bytes of letters, digits, '-' and '.' with an optional ':' and 1-5 digits, is accepted from one
    /// 16-byte load (the head's CRLFs follow the value, so the load usually stays inside the source);
    /// anything else takes the full check.
    /// </summary>
    public static bool IsValidHostField(ReadOnlySpan<byte> source, int start, ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        if (Vector128.IsHardwareAccelerated && (uint)(length - 1) < 16u && source.Length >= 16 && (uint)start <= (uint)(source.Length - 16))
        {
            Vector128<byte> v = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)(uint)start);
            uint inValue = (1u << length) - 1;
            uint digits = Vector128.LessThan(v - Vector128.Create((byte)'0'), Vector128.Create((byte)10)).ExtractMostSignificantBits();
            uint common = digits
                | (Vector128.LessThan((v | Vector128.Create((byte)0x20)) - Vector128.Create((byte)'a'), Vector128.Create((byte)26))
                | Vector128.Equals(v, Vector128.Create((byte)'-')) | Vector128.Equals(v, Vector128.Create((byte)'.'))).ExtractMostSignificantBits();
            if ((common & inValue) == inValue) return true;
            uint colons = Vector128.Equals(v, Vector128.Create((byte)':')).ExtractMostSignificantBits() & inValue;
            int colon = BitOperations.TrailingZeroCount(colons);
            uint hostBits = (1u << colon) - 1, portBits = inValue & ~(hostBits | 1u << colon);
            // A non-empty host of common bytes, one ':', then 1 to 5 digits.
            if (colons != 0 && colon > 0 && (common & hostBits) == hostBits && portBits != 0
                && (digits & portBits) == portBits && length - colon - 1 <= 5)
            {
                return true;
            }
        }
        return IsValidAuthority(value, requirePort: false, allowEmpty: true);
    }

    /// <summary>True for a valid <c>host[:port]</c>; an empty value is valid only when <paramref name="allowEmpty"/>.</summary>
    public static bool IsValidAuthority(ReadOnlySpan<byte> value, bool requirePort, bool allowEmpty = false)
    {
        if (value.IsEmpty) return allowEmpty && !requirePort;
        if (value[0] != (byte)'[')
        {
            // reg-name or IPv4 with an optional port, checked in one pass: the run of reg-name bytes
            // ends at the first colon, and all that follows it must be the port's digits.
            int hostLength = 0;
            bool percent = false;
            for (; hostLength < value.Length && ByteClasses.Is(value[hostLength], ByteClasses.RegName); hostLength++)
            {
                percent |= value[hostLength] == (byte)'%';
            }
            if (hostLength == 0 || (percent && !HttpSyntax.HasValidPercentEncoding(value[..hostLength]))) return false;
            if (hostLength == value.Length) return !requirePort;
            if (value[hostLength] != (byte)':') return false;
            ReadOnlySpan<byte> digits = value[(hostLength + 1)..];
            // RFC 3986 §3.2.3: port = *DIGIT (an empty port is allowed and means the default).
            if (digits.IsEmpty) return !requirePort;
            if (digits.Length > 5) return false;
            foreach (byte b in digits)
            {
                if (!char.IsAsciiDigit((char)b)) return false;
            }
            return true;
        }
        // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
        int close = value.IndexOf((byte)']');
        if (close < 2) return false;
        if (!IsIpLiteralContent(value[1..close])) return false;
        ReadOnlySpan<byte> after = value[(close + 1)..];
        if (after.IsEmpty) return !requirePort;
        if (after[0] != (byte)':') return false;
        ReadOnlySpan<byte> port = after[1..];
        if (port.IsEmpty) return !requirePort;
        return port.Length <= 5 && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    // RFC 3986 §3.2.2: IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ); otherwise an
    // IPv6address (an IPv4 address or a zone identifier in brackets is neither).
    private static bool IsIpLiteralContent(ReadOnlySpan<byte> inner)
    {
        if (inner[0] is (byte)'v' or (byte)'V')
        {
            int dot = inner.IndexOf((byte)'.');
            return dot > 1 && dot < inner.Length - 1 && !inner[1..dot].ContainsAnyExcept(HttpSyntax.HexDigits)
                && !inner[(dot + 1)..].ContainsAnyExcept(FutureBytes);
        }
        if (inner.ContainsAnyExcept(Ipv6Bytes)) return false;
        return IPAddress.TryParse(inner, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static readonly System.Buffers.SearchValues<byte> Ipv6Bytes =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:."u8);

    // unreserved / sub-delims / ":"
    private static readonly System.Buffers.SearchValues<byte> FutureBytes =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:"u8);
}

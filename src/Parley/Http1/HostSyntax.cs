namespace Parley.Http1;

/// <summary>Syntax of <c>uri-host [ ":" port ]</c> (RFC 3986 §3.2.2-§3.2.3), as used by Host and authority targets.</summary>
internal static class HostSyntax
{
    // reg-name = *( unreserved / pct-encoded / sub-delims )
    internal static readonly System.Buffers.SearchValues<byte> RegNameBytes =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%"u8);

    private static readonly System.Buffers.SearchValues<byte> IpLiteralBytes =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:.vV-._~!$&'()*+,;="u8);

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
        if (value[1..close].ContainsAnyExcept(IpLiteralBytes)) return false;
        ReadOnlySpan<byte> after = value[(close + 1)..];
        if (after.IsEmpty) return !requirePort;
        if (after[0] != (byte)':') return false;
        ReadOnlySpan<byte> port = after[1..];
        if (port.IsEmpty) return !requirePort;
        return port.Length <= 5 && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }
}

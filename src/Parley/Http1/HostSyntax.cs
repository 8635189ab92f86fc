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
        ReadOnlySpan<byte> host;
        ReadOnlySpan<byte> port = default;
        bool hasPort;
        if (value[0] == (byte)'[')
        {
            int close = value.IndexOf((byte)']');
            if (close < 2) return false;
            if (value[1..close].ContainsAnyExcept(IpLiteralBytes)) return false;
            ReadOnlySpan<byte> after = value[(close + 1)..];
            hasPort = !after.IsEmpty;
            if (hasPort)
            {
                if (after[0] != (byte)':') return false;
                port = after[1..];
            }
            host = value[..(close + 1)];
        }
        else
        {
            int colon = value.LastIndexOf((byte)':');
            hasPort = colon >= 0;
            host = hasPort ? value[..colon] : value;
            if (hasPort) port = value[(colon + 1)..];
            if (host.IsEmpty || host.ContainsAnyExcept(RegNameBytes) || !HttpSyntax.HasValidPercentEncoding(host)) return false;
        }
        if (requirePort && (!hasPort || port.IsEmpty)) return false;
        // RFC 3986 §3.2.3: port = *DIGIT (an empty port is allowed and means the default).
        if (hasPort && !port.IsEmpty && (port.Length > 5 || port.ContainsAnyExceptInRange((byte)'0', (byte)'9'))) return false;
        return !host.IsEmpty;
    }
}

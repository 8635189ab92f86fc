namespace Parley.Http1;

/// <summary>
/// Which fields may not be sent in a trailer section. RFC 9110 §6.5.1: a sender must not generate a
/// trailer field unless its definition allows it; fields that the recipient needs before the content
/// (framing, routing, authentication, request modifiers, response controls, content format) are never
/// processed from trailers, so sending them there is at best ignored and at worst a smuggling vector.
/// </summary>
internal static class TrailerFields
{
    private static readonly HashSet<string> Prohibited = new(StringComparer.OrdinalIgnoreCase)
    {
        // Message framing (RFC 9112 §6, §7.1.2; RFC 9110 §6.6.2, §10.1.4).
        "Content-Length", "Transfer-Encoding", "Trailer", "TE",
        // Connection management (RFC 9110 §7.6; RFC 9112 §9).
        "Connection", "Keep-Alive", "Proxy-Connection", "Upgrade",
        // Routing (RFC 9110 §7.2, §7.6.2).
        "Host", "Max-Forwards",
        // Authentication (RFC 9110 §11.6, §11.7; Authentication-Info is allowed, §11.6.3).
        "Authorization", "Proxy-Authorization", "WWW-Authenticate", "Proxy-Authenticate",
        // Request modifiers: expectations, preconditions, ranges (RFC 9110 §10.1.1, §13.1, §14.2).
        "Expect", "Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range",
        // Response controls (RFC 9110 §6.6.1, §10.2; RFC 9111 §5).
        "Date", "Location", "Retry-After", "Vary", "Age", "Cache-Control", "Expires", "Pragma",
        // Content format (RFC 9110 §8.3, §8.4, §14.4).
        "Content-Type", "Content-Encoding", "Content-Range",
    };

    /// <summary>True when <paramref name="name"/> must not appear in a trailer section (RFC 9110 §6.5.1).</summary>
    public static bool IsProhibited(string name) => Prohibited.Contains(name);
}

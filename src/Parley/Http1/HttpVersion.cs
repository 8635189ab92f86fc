namespace Parley.Http1;

/// <summary>The HTTP versions Parley speaks on the wire (RFC 9112 §2.3).</summary>
internal enum HttpVersion : byte
{
    /// <summary>No version parsed yet.</summary>
    Unknown = 0,
    /// <summary>HTTP/1.0: close-delimited by default, keep-alive only on request.</summary>
    Http10 = 10,
    /// <summary>HTTP/1.1: persistent by default.</summary>
    Http11 = 11,
}

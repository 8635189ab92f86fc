namespace Parley.Http1;

/// <summary>How the length of a message body is determined (RFC 9112 §6.3).</summary>
internal enum BodyFraming : byte
{
    /// <summary>No body at all.</summary>
    None,
    /// <summary>Exactly Content-Length bytes.</summary>
    ContentLength,
    /// <summary>The chunked transfer coding.</summary>
    Chunked,
    /// <summary>Everything until the connection closes (responses only).</summary>
    UntilClose,
}

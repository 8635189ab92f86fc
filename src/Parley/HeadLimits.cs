namespace Parley;

/// <summary>Size limits applied while parsing a message head; exceeding one yields 501, 414 or 431.</summary>
public sealed record HeadLimits
{
    /// <summary>
    /// Longest method accepted, in bytes. A longer one is no method the server implements: 501 (RFC 9112
    /// §3), detected as soon as that many bytes of it arrived. Default 32 (the longest registered method,
    /// UPDATEREDIRECTREF, has 17).
    /// </summary>
    public int MaxMethodLength { get; init; } = 32;

    /// <summary>Longest request-target accepted, in bytes (414 beyond). Default 8 KiB, as nginx.</summary>
    public int MaxTargetLength { get; init; } = 8 * 1024;

    /// <summary>Largest head (request line and all field lines), in bytes (431 beyond). Default 32 KiB.</summary>
    public int MaxHeadBytes { get; init; } = 32 * 1024;

    /// <summary>Most field lines in a head or trailer section (431 beyond). Default 100.</summary>
    public int MaxFieldCount { get; init; } = 100;

    /// <summary>The defaults.</summary>
    public static HeadLimits Default { get; } = new();
}

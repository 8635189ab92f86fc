namespace Parley.Content;

/// <summary>
/// Limits applied by <see cref="FormUrlEncoded.Parse(ReadOnlySpan{byte}, FormLimits?)"/>.
/// Exceeding <see cref="MaxBodyBytes"/> raises a <see cref="FormException"/> with status 413;
/// exceeding the other limits raises one with status 400.
/// </summary>
public sealed record FormLimits
{
    /// <summary>The defaults: 1000 fields, 1 MiB body, 64 KiB per name or value.</summary>
    public static FormLimits Default { get; } = new();

    /// <summary>Maximum number of name/value pairs. Default 1000.</summary>
    public int MaxFieldCount { get; init; } = 1000;

    /// <summary>Maximum size of the encoded body in bytes. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Maximum length, in decoded UTF-8 bytes, of a single name or value. Default 64 KiB.</summary>
    public int MaxValueLength { get; init; } = 64 * 1024;
}

namespace Parley.Content;

/// <summary>
/// Limits applied while reading <c>multipart/form-data</c>. Exceeding <see cref="MaxTotalBytes"/>
/// raises a <see cref="FormException"/> with status 413; exceeding the others raises one with 400.
/// </summary>
public sealed record MultipartLimits
{
    /// <summary>The defaults: 128 parts, 16 KiB of headers per part, 64 KiB per text field, 128 MiB in all.</summary>
    public static MultipartLimits Default { get; } = new();

    /// <summary>Maximum number of parts. Default 128.</summary>
    public int MaxPartCount { get; init; } = 128;

    /// <summary>Maximum size of one part's header section, in bytes. Default 16 KiB.</summary>
    public int MaxHeaderBytesPerPart { get; init; } = 16 * 1024;

    /// <summary>
    /// Maximum size, in bytes, of a non-file part read as a string by <see cref="MultipartForm"/>.
    /// Default 64 KiB.
    /// </summary>
    public int MaxFieldValueBytes { get; init; } = 64 * 1024;

    /// <summary>Maximum number of bytes read from the body, preamble and files included. Default 128 MiB.</summary>
    public long MaxTotalBytes { get; init; } = 128L * 1024 * 1024;
}

namespace Parley.Content.StaticFiles;

/// <summary>
/// What a <see cref="StaticFileHandler"/> serves and how. Plain properties with safe defaults: no
/// directory listing, dotfiles hidden, symlinks leaving the root refused, compression on.
/// Read when the handler is created.
/// </summary>
public sealed class StaticFileOptions
{
    /// <summary>The directory whose files are served. Must exist; nothing outside it is ever served.</summary>
    public required string Root { get; init; }

    /// <summary>
    /// The URL path the root is mounted at, e.g. <c>/static</c> when routed as <c>/static/*</c>; requests
    /// outside it get 404. Default empty (the root answers <c>/</c>).
    /// </summary>
    public string PathPrefix { get; init; } = "";

    /// <summary>Whether a directory without an index file answers with a listing of its entries (otherwise 403). Default false.</summary>
    public bool EnableDirectoryListing { get; init; }

    /// <summary>Files served for a directory URL (ending in '/'), first match wins. Default <c>index.html</c>.</summary>
    public IReadOnlyList<string> IndexFileNames { get; init; } = ["index.html"];

    /// <summary>The <c>Cache-Control</c> value sent with files (RFC 9111 §5.2), e.g. <c>public, max-age=3600</c>; null for none. Default null.</summary>
    public string? CacheControl { get; init; }

    /// <summary>
    /// Whether names starting with '.' are served (and listed). Default false: they answer 404 as if absent,
    /// except <c>/.well-known/</c> (RFC 8615). <c>.</c> and <c>..</c> are refused either way.
    /// </summary>
    public bool ServeDotFiles { get; init; }

    /// <summary>Whether symbolic links whose real target lies outside the root are followed. Default false (404).</summary>
    public bool FollowSymlinksOutsideRoot { get; init; }

    /// <summary>
    /// Whether <c>name.br</c> / <c>name.gz</c> siblings, at least as new as <c>name</c>, are served with
    /// <c>Content-Encoding</c> to clients that accept the coding. Default true.
    /// </summary>
    public bool ServePrecompressed { get; init; } = true;

    /// <summary>Whether compressible files are compressed on the fly (brotli or gzip) when the client accepts it. Default true.</summary>
    public bool EnableCompression { get; init; } = true;

    /// <summary>Smallest file compressed on the fly, in bytes: below it the saving does not pay for the work. Default 1 KiB.</summary>
    public long CompressionMinSize { get; init; } = 1024;

    /// <summary>Largest file compressed on the fly, in bytes: above it the file is sent as is. Default 16 MiB.</summary>
    public long CompressionMaxSize { get; init; } = 16L * 1024 * 1024;

    /// <summary>Limits on the ranges of one <c>Range</c> field; a field beyond them is ignored (200). Default <see cref="RangeLimits.Default"/>.</summary>
    public RangeLimits RangeLimits { get; init; } = RangeLimits.Default;
}

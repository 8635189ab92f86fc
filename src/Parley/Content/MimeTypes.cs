using System.Collections.Frozen;
using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// Media types of common web files by extension, and whether a media type is worth compressing.
/// Textual types carry <c>charset=utf-8</c>, the encoding the web assumes for them today.
/// </summary>
public static class MimeTypes
{
    /// <summary>The type for unknown content (RFC 2046 §4.5.1): the recipient should treat it as opaque bytes.</summary>
    public const string Default = "application/octet-stream";

    private const string Utf8 = "; charset=utf-8";

    private static readonly FrozenDictionary<string, string> ByExtension = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        // Documents and text.
        ["html"] = "text/html" + Utf8,
        ["htm"] = "text/html" + Utf8,
        ["css"] = "text/css" + Utf8,
        ["txt"] = "text/plain" + Utf8,
        ["md"] = "text/markdown" + Utf8,
        ["csv"] = "text/csv" + Utf8,
        ["ics"] = "text/calendar" + Utf8,
        ["vtt"] = "text/vtt" + Utf8,
        ["xml"] = "application/xml" + Utf8,
        ["rss"] = "application/rss+xml" + Utf8,
        ["atom"] = "application/atom+xml" + Utf8,

        // Scripts and data. RFC 9239: text/javascript is the standard type for JavaScript.
        ["js"] = "text/javascript" + Utf8,
        ["mjs"] = "text/javascript" + Utf8,
        ["json"] = "application/json" + Utf8,
        ["map"] = "application/json" + Utf8,
        ["webmanifest"] = "application/manifest+json" + Utf8,
        ["jsonld"] = "application/ld+json" + Utf8,
        ["wasm"] = "application/wasm",

        // Images.
        ["svg"] = "image/svg+xml" + Utf8,
        ["png"] = "image/png",
        ["jpg"] = "image/jpeg",
        ["jpeg"] = "image/jpeg",
        ["gif"] = "image/gif",
        ["webp"] = "image/webp",
        ["avif"] = "image/avif",
        ["ico"] = "image/x-icon",
        ["bmp"] = "image/bmp",
        ["tif"] = "image/tiff",
        ["tiff"] = "image/tiff",

        // Fonts (RFC 8081).
        ["woff"] = "font/woff",
        ["woff2"] = "font/woff2",
        ["ttf"] = "font/ttf",
        ["otf"] = "font/otf",

        // Audio and video.
        ["mp4"] = "video/mp4",
        ["webm"] = "video/webm",
        ["ogv"] = "video/ogg",
        ["mp3"] = "audio/mpeg",
        ["ogg"] = "audio/ogg",
        ["oga"] = "audio/ogg",
        ["opus"] = "audio/ogg",
        ["wav"] = "audio/wav",
        ["flac"] = "audio/flac",
        ["m4a"] = "audio/mp4",

        // Archives and binaries.
        ["pdf"] = "application/pdf",
        ["zip"] = "application/zip",
        ["gz"] = "application/gzip",
        ["tgz"] = "application/gzip",
        ["br"] = "application/x-brotli",
        ["zst"] = "application/zstd",
        ["tar"] = "application/x-tar",
        ["7z"] = "application/x-7z-compressed",
        ["bin"] = Default,
        ["exe"] = Default,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    // Non-text types whose bytes compress well.
    private static readonly FrozenSet<string> CompressibleTypes = new[]
    {
        "application/javascript", "application/json", "application/xml", "application/wasm",
        "application/manifest+json", "application/ld+json", "application/rss+xml", "application/atom+xml",
        "application/xhtml+xml", "image/svg+xml", "image/x-icon", "image/bmp", "font/ttf", "font/otf",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The <c>Content-Type</c> for a file path by its extension (case-insensitive), e.g.
    /// <c>text/html; charset=utf-8</c> for <c>index.html</c>; <see cref="Default"/> when unknown.
    /// </summary>
    public static string GetContentType(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return TryGetContentType(path, out string? contentType) ? contentType : Default;
    }

    /// <summary>Looks up the <c>Content-Type</c> for a file path; <c>false</c> when the extension is unknown.</summary>
    public static bool TryGetContentType(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? contentType)
    {
        ArgumentNullException.ThrowIfNull(path);
        ReadOnlySpan<char> name = path.AsSpan(path.AsSpan().LastIndexOfAny('/', '\\') + 1);
        int dot = name.LastIndexOf('.');
        contentType = null;
        return dot >= 0
            && ByExtension.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name[(dot + 1)..], out contentType);
    }

    /// <summary>
    /// Whether a response of this media type is worth compressing: text, JSON, JavaScript, XML, SVG,
    /// WebAssembly and uncompressed fonts are; images, audio, video, archives and compressed fonts are
    /// not (their formats are already compressed). Parameters such as <c>charset</c> are ignored.
    /// </summary>
    public static bool IsCompressible(string? contentType)
    {
        // RFC 9110 §8.3.1: media-type = type "/" subtype parameters; type and subtype are case-insensitive.
        ReadOnlySpan<char> type = contentType;
        int semicolon = type.IndexOf(';');
        type = HttpSyntax.TrimOws(semicolon < 0 ? type : type[..semicolon]);
        if (type.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // RFC 6839: structured syntax suffixes name the underlying format.
        if (type.EndsWith("+json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+xml", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return CompressibleTypes.GetAlternateLookup<ReadOnlySpan<char>>().Contains(type);
    }
}

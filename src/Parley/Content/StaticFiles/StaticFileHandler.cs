using System.Net;
using Parley.Server;

namespace Parley.Content.StaticFiles;

/// <summary>
/// Serves the files under a root directory (RFC 9110): GET and HEAD, validators and conditional requests,
/// byte ranges, precompressed and on-the-fly compressed variants, index files, optional directory listings.
/// Nothing outside the root is ever served or revealed: the path is mapped one decoded segment at a time
/// (see <see cref="StaticPath"/>) and symbolic links leaving the root are refused unless allowed.
/// Refusals are 400 (malformed or hostile path) or 404 (absent or hidden), never 500.
/// </summary>
public sealed class StaticFileHandler
{
    private const string Allow = "GET, HEAD, OPTIONS";

    private readonly StaticFileOptions _options;
    private readonly string _root;

    [ThreadStatic]
    private static List<string>? t_segments;

    /// <summary>Creates a handler for <paramref name="options"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The root does not exist or is not a directory.</exception>
    /// <exception cref="ArgumentException">The path prefix does not start with '/' or ends with one.</exception>
    public StaticFileHandler(StaticFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PathPrefix.Length > 0 && (!options.PathPrefix.StartsWith('/') || options.PathPrefix.EndsWith('/')))
        {
            throw new ArgumentException("PathPrefix starts with '/' and does not end with one, e.g. /static", nameof(options));
        }
        string full = Path.GetFullPath(options.Root);
        _root = StaticPath.RealPath(full) ?? throw new DirectoryNotFoundException($"cannot resolve '{full}'");
        if (!Directory.Exists(_root)) throw new DirectoryNotFoundException($"'{full}' is not a directory");
        _options = options;
        Handler = HandleAsync;
    }

    /// <summary>The real path of the directory being served.</summary>
    public string Root => _root;

    /// <summary>The options this handler was created with.</summary>
    public StaticFileOptions Options => _options;

    /// <summary>This handler as a <see cref="RequestHandler"/> (a cached delegate).</summary>
    public RequestHandler Handler { get; }

    /// <summary>Answers one request.</summary>
    public ValueTask HandleAsync(HttpRequest request, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        string method = request.Method;
        if (method is not ("GET" or "HEAD"))
        {
            response.Headers.Set("Allow", Allow);
            if (method == "OPTIONS")
            {
                response.StatusCode = 204; // RFC 9110 §9.3.7
                return ValueTask.CompletedTask;
            }
            // RFC 9110 §15.5.6: 405 lists the methods the resource supports.
            return Error(response, 405, "Method Not Allowed", $"Files here can only be read (GET, HEAD).");
        }

        List<string> segments = t_segments ??= new List<string>(8);
        PathVerdict verdict = StaticPath.Map(request.RawPath, _options.PathPrefix, _options.ServeDotFiles, segments, out bool trailingSlash);
        if (verdict == PathVerdict.BadRequest) return Error(response, 400, "Bad Request", "The path is not a valid file path.");
        if (verdict == PathVerdict.NotFound) return NotFound(response);

        string? path = Resolve(segments, out bool isDirectory, out bool forbidden);
        if (forbidden) return Error(response, 403, "Forbidden", "You are not allowed to read this.");
        if (path is null) return NotFound(response);
        if (!isDirectory)
        {
            // "/file.txt/" names a directory that does not exist.
            return trailingSlash ? NotFound(response) : FileResponder.SendAsync(request, response, path, _options);
        }

        if (!trailingSlash)
        {
            // Relative references in the page resolve against the directory only with the slash.
            string query = request.RawQuery;
            string location = System.Text.Encoding.ASCII.GetString(request.RawPath) + "/" + (query.Length > 0 ? "?" + query : "");
            response.Redirect(location, 301);
            return ValueTask.CompletedTask;
        }

        foreach (string indexName in _options.IndexFileNames)
        {
            segments.Add(indexName);
            string? index = Resolve(segments, out bool indexIsDirectory, out _);
            segments.RemoveAt(segments.Count - 1);
            if (index is not null && !indexIsDirectory) return FileResponder.SendAsync(request, response, index, _options);
        }
        if (!_options.EnableDirectoryListing) return Error(response, 403, "Forbidden", "Directory listing is disabled.");
        return DirectoryListing.Send(request, response, path, this);
    }

    /// <summary>
    /// The path under the root for <paramref name="segments"/>, or null when nothing may be served there:
    /// absent, or reached through a symbolic link whose real target leaves the root (unless allowed).
    /// </summary>
    internal string? Resolve(List<string> segments, out bool isDirectory, out bool forbidden)
    {
        isDirectory = false;
        forbidden = false;
        string path = _root;
        bool linked = false;
        try
        {
            foreach (string segment in segments)
            {
                path = path.Length == 1 ? "/" + segment : path + "/" + segment;
                // One readlink per segment until the first link; then the kernel's view of the whole path decides.
                if (!linked && !_options.FollowSymlinksOutsideRoot && new FileInfo(path).LinkTarget is not null) linked = true;
            }
            if (linked)
            {
                string? real = StaticPath.RealPath(path);
                if (real is null || !StaticPath.IsWithin(real, _root)) return null;
            }
            if (File.Exists(path)) return path;
            if (Directory.Exists(path))
            {
                isDirectory = true;
                return path;
            }
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            forbidden = true;
            return null;
        }
        catch (IOException)
        {
            return null; // e.g. a file used as a directory on the way, a name too long
        }
    }

    /// <summary>True when an entry of a listed directory may be shown: not hidden, and not a link leaving the root.</summary>
    internal bool IsListable(FileSystemInfo entry)
    {
        if (entry.Name.StartsWith('.') && !_options.ServeDotFiles) return false;
        if (entry.LinkTarget is null || _options.FollowSymlinksOutsideRoot) return true;
        string? real = StaticPath.RealPath(entry.FullName);
        return real is not null && StaticPath.IsWithin(real, _root);
    }

    internal static ValueTask NotFound(HttpResponse response) =>
        Error(response, 404, "Not Found", "The requested file was not found on this server.");

    /// <summary>A small HTML error page that never echoes the request back.</summary>
    internal static ValueTask Error(HttpResponse response, int status, string title, string message)
    {
        response.StatusCode = status;
        response.Headers.Set("Cache-Control", "no-cache");
        response.WriteHtml($"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{status} {title}</title></head>\n<body><h1>{status} {title}</h1><p>{WebUtility.HtmlEncode(message)}</p></body></html>\n");
        return ValueTask.CompletedTask;
    }
}

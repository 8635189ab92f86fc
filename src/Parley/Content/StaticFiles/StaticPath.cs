using System.Text;
using System.Text.Unicode;

namespace Parley.Content.StaticFiles;

/// <summary>How a request path maps to the file system.</summary>
internal enum PathVerdict
{
    /// <summary>The path names something that may exist under the root.</summary>
    Ok,

    /// <summary>The path is malformed or hostile (<c>..</c>, encoded slashes, NUL, invalid UTF-8...): 400.</summary>
    BadRequest,

    /// <summary>The path is well-formed but names something never served (hidden, too long, outside the prefix): 404.</summary>
    NotFound,
}

/// <summary>
/// Maps a raw, still percent-encoded request path to file-name segments, one segment at a time, so that
/// nothing a client writes can climb out of the root: a segment is decoded on its own, and is refused if
/// it decodes to something with a meaning to the file system rather than a plain name.
/// </summary>
internal static class StaticPath
{
    /// <summary>Longest file name most file systems accept (NAME_MAX).</summary>
    private const int MaxSegmentBytes = 255;

    /// <summary>
    /// Splits <paramref name="rawPath"/> (after <paramref name="prefix"/>) into decoded segments. The path
    /// must be origin-form ('/'-rooted); an empty final segment means the client asked for a directory.
    /// </summary>
    public static PathVerdict Map(ReadOnlySpan<byte> rawPath, string prefix, bool serveDotFiles, List<string> segments, out bool trailingSlash)
    {
        segments.Clear();
        trailingSlash = false;
        if (rawPath.IsEmpty || rawPath[0] != (byte)'/') return PathVerdict.BadRequest;
        if (prefix.Length > 0)
        {
            if (!StartsWithAscii(rawPath, prefix)) return PathVerdict.NotFound;
            rawPath = rawPath[prefix.Length..];
            if (rawPath.IsEmpty) return PathVerdict.Ok; // the mount point without its slash: redirected to it
            if (rawPath[0] != (byte)'/') return PathVerdict.NotFound;
        }

        ReadOnlySpan<byte> rest = rawPath[1..];
        Span<byte> decoded = stackalloc byte[MaxSegmentBytes];
        while (true)
        {
            int slash = rest.IndexOf((byte)'/');
            ReadOnlySpan<byte> raw = slash < 0 ? rest : rest[..slash];
            if (raw.IsEmpty)
            {
                // "/dir/" ends with an empty segment; an empty one inside ("//") is refused: it is how
                // UNC paths and protocol-relative redirects ("//evil.example/") are smuggled in.
                if (slash < 0)
                {
                    trailingSlash = true;
                    return PathVerdict.Ok;
                }
                return PathVerdict.BadRequest;
            }
            PathVerdict verdict = DecodeSegment(raw, decoded, out int length);
            if (verdict != PathVerdict.Ok) return verdict;
            ReadOnlySpan<byte> name = decoded[..length];
            verdict = CheckName(name, serveDotFiles, segments.Count == 0);
            if (verdict != PathVerdict.Ok) return verdict;
            segments.Add(Encoding.UTF8.GetString(name));
            if (slash < 0) return PathVerdict.Ok;
            rest = rest[(slash + 1)..];
        }
    }

    // RFC 3986 §2.1: decode %XX; a segment may not decode to a separator or a control byte.
    private static PathVerdict DecodeSegment(ReadOnlySpan<byte> raw, Span<byte> decoded, out int length)
    {
        length = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == (byte)'%')
            {
                if (i + 2 >= raw.Length) return PathVerdict.BadRequest;
                int high = Http1.HttpSyntax.HexValue(raw[i + 1]), low = Http1.HttpSyntax.HexValue(raw[i + 2]);
                if (high < 0 || low < 0) return PathVerdict.BadRequest;
                b = (byte)(high << 4 | low);
                i += 2;
                // An encoded '/' or '\' would let one segment name a path: never a file name.
                if (b is (byte)'/' or (byte)'\\') return PathVerdict.BadRequest;
            }
            // NUL truncates paths in C APIs; controls have no place in a URL-named file.
            if (b < 0x20 || b == 0x7F || b == (byte)'\\') return PathVerdict.BadRequest;
            if (length == decoded.Length) return PathVerdict.NotFound; // longer than any file name
            decoded[length++] = b;
        }
        return PathVerdict.Ok;
    }

    private static PathVerdict CheckName(ReadOnlySpan<byte> name, bool serveDotFiles, bool first)
    {
        // Overlong forms (%c0%ae for '.') and other invalid UTF-8 are refused rather than guessed at.
        if (!Utf8.IsValid(name)) return PathVerdict.BadRequest;
        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8)) return PathVerdict.BadRequest;
        // A drive letter ("C:") or an NTFS stream ("a::$DATA") means something to Windows; refuse ':' anywhere.
        if (name.IndexOf((byte)':') >= 0) return PathVerdict.BadRequest;
        if (name[0] == (byte)'.' && !serveDotFiles && !(first && name.SequenceEqual(".well-known"u8))) return PathVerdict.NotFound;
        return PathVerdict.Ok;
    }

    private static bool StartsWithAscii(ReadOnlySpan<byte> bytes, string prefix)
    {
        if (bytes.Length < prefix.Length) return false;
        for (int i = 0; i < prefix.Length; i++)
        {
            if (bytes[i] != prefix[i]) return false;
        }
        return true;
    }

    /// <summary>
    /// The real path of <paramref name="path"/>, resolving every symbolic link the way the kernel does
    /// (realpath(3)); null when a link chain is too long or unreadable. Components need not exist.
    /// </summary>
    public static string? RealPath(string path)
    {
        var resolved = new List<string>();
        var pending = new Stack<string>();
        PushComponents(pending, path);
        int links = 0;
        while (pending.Count > 0)
        {
            string component = pending.Pop();
            if (component.Length == 0 || component == ".") continue;
            if (component == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            string candidate = "/" + string.Join('/', resolved) + (resolved.Count > 0 ? "/" : "") + component;
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (IOException)
            {
                target = null; // not a directory on the way, or gone: nothing more to resolve
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
            if (target is null)
            {
                resolved.Add(component);
                continue;
            }
            if (++links > 40) return null; // ELOOP
            if (target.StartsWith('/')) resolved.Clear();
            PushComponents(pending, target);
        }
        return "/" + string.Join('/', resolved);
    }

    private static void PushComponents(Stack<string> pending, string path)
    {
        string[] parts = path.Split('/');
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or lies below it (both real paths).</summary>
    public static bool IsWithin(string path, string root) =>
        path == root || (path.StartsWith(root, StringComparison.Ordinal) && (root == "/" || path.Length > root.Length && path[root.Length] == '/'));
}

using System.Globalization;
using System.Net;
using System.Text;
using Parley.Server;

namespace Parley.Content.StaticFiles;

/// <summary>
/// The HTML page listing a directory: directories first, then files, each with its size and modification
/// date. Names are HTML-escaped in the text and percent-encoded in the links, so any file name is safe.
/// </summary>
internal static class DirectoryListing
{
    public static ValueTask Send(HttpRequest request, HttpResponse response, string directory, StaticFileHandler handler)
    {
        List<FileSystemInfo> entries = [];
        try
        {
            foreach (FileSystemInfo entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                if (handler.IsListable(entry)) entries.Add(entry);
            }
        }
        catch (UnauthorizedAccessException)
        {
            return StaticFileHandler.Error(response, 403, "Forbidden", "This directory cannot be read.");
        }
        catch (IOException)
        {
            return StaticFileHandler.NotFound(response);
        }
        entries.Sort(static (a, b) =>
        {
            bool aDir = a is DirectoryInfo, bDir = b is DirectoryInfo;
            return aDir != bDir ? (aDir ? -1 : 1) : string.CompareOrdinal(a.Name, b.Name);
        });

        string title = "Index of " + WebUtility.HtmlEncode(request.Path);
        var html = new StringBuilder(1024 + entries.Count * 160);
        html.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").Append(title).Append("</title></head>\n<body>\n<h1>")
            .Append(title).Append("</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Last modified (UTC)</th></tr>\n");
        if (request.Path != "/" && request.Path != handler.Options.PathPrefix + "/")
        {
            html.Append("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
        }
        foreach (FileSystemInfo entry in entries)
        {
            bool isDirectory = entry is DirectoryInfo;
            string name = isDirectory ? entry.Name + "/" : entry.Name;
            string size = isDirectory ? "-" : SafeLength((FileInfo)entry);
            string modified = entry.LastWriteTimeUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            // "./" keeps a name with a ':' from reading as a URI scheme; percent-encoding does the rest.
            html.Append("<tr><td><a href=\"./").Append(EncodeName(entry.Name)).Append(isDirectory ? "/" : "").Append("\">")
                .Append(WebUtility.HtmlEncode(name)).Append("</a></td><td>").Append(size).Append("</td><td>").Append(modified).Append("</td></tr>\n");
        }
        html.Append("</table>\n</body></html>\n");

        response.Headers.Set("Cache-Control", "no-cache");
        response.WriteHtml(html.ToString());
        return ValueTask.CompletedTask;
    }

    private static string SafeLength(FileInfo file)
    {
        try
        {
            return file.Length.ToString(CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return "?"; // a dangling link
        }
    }

    /// <summary>Percent-encodes every byte of the UTF-8 name outside RFC 3986 unreserved characters.</summary>
    internal static string EncodeName(string name)
    {
        var encoded = new StringBuilder(name.Length + 16);
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('%').Append(((int)b).ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return encoded.ToString();
    }
}

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
        var html = new StringBuilder(2048 + entries.Count * 240);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>").Append(title).Append("</title>\n<style>")
            .Append(Style).Append("</style></head>\n<body>\n<header><div class=\"bar\"><span class=\"brand\">Parley</span></div></header>\n<main>\n<h1>")
            .Append(title).Append("</h1>\n<table>\n<thead><tr><th class=\"name\">Name</th><th class=\"size\">Size</th>")
            .Append("<th class=\"modified\">Last modified <abbr title=\"Coordinated Universal Time\">UTC</abbr></th></tr></thead>\n<tbody>\n");
        if (request.Path != "/" && request.Path != handler.Options.PathPrefix + "/")
        {
            html.Append("<tr class=\"up\"><td class=\"name\"><a href=\"../\">../</a></td><td class=\"size\"></td><td class=\"modified\"></td></tr>\n");
        }
        int directories = 0;
        foreach (FileSystemInfo entry in entries)
        {
            bool isDirectory = entry is DirectoryInfo;
            if (isDirectory) directories++;
            string name = isDirectory ? entry.Name + "/" : entry.Name;
            DateTime modified = entry.LastWriteTimeUtc;
            // "./" keeps a name with a ':' from reading as a URI scheme; percent-encoding does the rest.
            html.Append("<tr").Append(isDirectory ? " class=\"dir\"" : "").Append("><td class=\"name\"><a href=\"./").Append(EncodeName(entry.Name))
                .Append(isDirectory ? "/" : "").Append("\">").Append(WebUtility.HtmlEncode(name)).Append("</a></td>");
            AppendSize(html, isDirectory ? null : (FileInfo)entry);
            html.Append("<td class=\"modified\"><time datetime=\"").Append(modified.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append("\">")
                .Append(modified.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("<span class=\"time\"> ")
                .Append(modified.ToString("HH:mm", CultureInfo.InvariantCulture)).Append("</span></time></td></tr>\n");
        }
        int files = entries.Count - directories;
        html.Append("</tbody>\n</table>\n<p class=\"summary\">").Append(Count(directories, "directory", "directories")).Append(", ")
            .Append(Count(files, "file", "files")).Append("</p>\n</main>\n</body></html>\n");

        response.Headers.Set("Cache-Control", "no-cache");
        response.WriteHtml(html.ToString());
        return ValueTask.CompletedTask;
    }

    // The size a reader takes in at a glance (1024-based units), the exact byte count in the tooltip.
    private static void AppendSize(StringBuilder html, FileInfo? file)
    {
        if (file is null)
        {
            html.Append("<td class=\"size\">-</td>");
            return;
        }
        long bytes;
        try
        {
            bytes = file.Length;
        }
        catch (IOException)
        {
            html.Append("<td class=\"size\">?</td>"); // a dangling link
            return;
        }
        html.Append("<td class=\"size\" title=\"").Append(bytes.ToString("N0", CultureInfo.InvariantCulture)).Append(" bytes\">")
            .Append(HumanSize(bytes)).Append("</td>");
    }

    internal static string HumanSize(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int unit = -1;
        do
        {
            value /= 1024;
            unit++;
        }
        while (value >= 1024 && unit < units.Length - 1);
        return value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    private static string Count(int n, string one, string many) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many);

    // The demo site's look, inline so that a listing needs no other request. Sizes and dates use tabular
    // digits, right- and left-aligned in their columns; a long name wraps inside its cell; on a narrow screen
    // the time of day is left out and the date stays.
    private const string Style =
        "*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1d232a;" +
        "background:#f6f8fa;line-height:1.5}header{background:#0f1b2d}.bar{max-width:64rem;margin:0 auto;padding:.6rem 1.25rem}" +
        ".brand{font-weight:700;font-size:1.25rem;color:#fff}main{max-width:64rem;margin:1.5rem auto;padding:1.25rem 1.5rem;" +
        "background:#fff;border:1px solid #d8dee4;border-radius:10px}h1{margin:.2rem 0 1rem;font-size:1.5rem;line-height:1.25;" +
        "overflow-wrap:anywhere}table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}" +
        "th{text-align:left;font-size:.85rem;color:#57606a;font-weight:600;border-bottom:2px solid #d8dee4;padding:.4rem .6rem}" +
        "td{padding:.45rem .6rem;border-bottom:1px solid #eaeef2;vertical-align:baseline}tbody tr:hover{background:#f6f8fa}" +
        "td.name{overflow-wrap:anywhere;word-break:break-word}td.name a{color:#0b5cad;text-decoration:none}" +
        "td.name a:hover{text-decoration:underline}tr.dir td.name a{font-weight:600}" +
        ".size{text-align:right;white-space:nowrap;width:6rem}.modified{white-space:nowrap;width:11rem;" +
        "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}th.modified{font-family:inherit}" +
        "abbr{text-decoration:none}.summary{color:#57606a;font-size:.9rem;margin:.8rem 0 0}" +
        "@media (max-width:40rem){.bar{padding:.5rem .9rem}main{margin:.8rem .6rem;padding:1rem .8rem}h1{font-size:1.2rem}" +
        "td,th{padding:.4rem .35rem}.size{width:4.5rem}.modified{width:6.5rem}.time{display:none}}";

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

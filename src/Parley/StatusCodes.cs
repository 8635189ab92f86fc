using System.Text;

namespace Parley;

/// <summary>Reason phrases for every status code in the IANA HTTP Status Code Registry (RFC 9110 §15 and extensions).</summary>
public static class StatusCodes
{
    private static readonly string?[] Phrases = CreatePhrases();
    private static readonly byte[]?[] Http11StatusLines = CreateStatusLines();

    /// <summary>The registered reason phrase, or an empty string for an unregistered code.</summary>
    public static string ReasonPhrase(int statusCode) =>
        (uint)statusCode < (uint)Phrases.Length ? Phrases[statusCode] ?? string.Empty : string.Empty;

    /// <summary>True when the code is registered.</summary>
    public static bool IsRegistered(int statusCode) =>
        (uint)statusCode < (uint)Phrases.Length && Phrases[statusCode] is not null;

    /// <summary>RFC 9110 §6.4.1, RFC 9112 §6.3: responses that never carry content.</summary>
    public static bool ForbidsBody(int statusCode) => statusCode is < 200 or 204 or 304;

    /// <summary>The pre-encoded <c>HTTP/1.1 NNN Reason\r\n</c> line for a status code in 100-599.</summary>
    internal static ReadOnlySpan<byte> StatusLine(int statusCode)
    {
        if ((uint)statusCode >= (uint)Http11StatusLines.Length || Http11StatusLines[statusCode] is not { } line)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "status codes are three digits, 100-599");
        }
        return line;
    }

    private static byte[]?[] CreateStatusLines()
    {
        var lines = new byte[]?[600];
        for (int code = 100; code < 600; code++)
        {
            // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
            lines[code] = Encoding.ASCII.GetBytes($"HTTP/1.1 {code} {ReasonPhrase(code)}\r\n");
        }
        return lines;
    }

    private static string?[] CreatePhrases()
    {
        var p = new string?[600];
        p[100] = "Continue"; p[101] = "Switching Protocols"; p[102] = "Processing"; p[103] = "Early Hints";
        p[104] = "Upload Resumption Supported";
        p[200] = "OK"; p[201] = "Created"; p[202] = "Accepted"; p[203] = "Non-Authoritative Information";
        p[204] = "No Content"; p[205] = "Reset Content"; p[206] = "Partial Content"; p[207] = "Multi-Status";
        p[208] = "Already Reported"; p[226] = "IM Used";
        p[300] = "Multiple Choices"; p[301] = "Moved Permanently"; p[302] = "Found"; p[303] = "See Other";
        p[304] = "Not Modified"; p[305] = "Use Proxy"; p[306] = "(Unused)"; p[307] = "Temporary Redirect";
        p[308] = "Permanent Redirect";
        p[400] = "Bad Request"; p[401] = "Unauthorized"; p[402] = "Payment Required"; p[403] = "Forbidden";
        p[404] = "Not Found"; p[405] = "Method Not Allowed"; p[406] = "Not Acceptable";
        p[407] = "Proxy Authentication Required"; p[408] = "Request Timeout"; p[409] = "Conflict"; p[410] = "Gone";
        p[411] = "Length Required"; p[412] = "Precondition Failed"; p[413] = "Content Too Large";
        p[414] = "URI Too Long"; p[415] = "Unsupported Media Type"; p[416] = "Range Not Satisfiable";
        p[417] = "Expectation Failed"; p[418] = "(Unused)"; p[421] = "Misdirected Request";
        p[422] = "Unprocessable Content"; p[423] = "Locked"; p[424] = "Failed Dependency"; p[425] = "Too Early";
        p[426] = "Upgrade Required"; p[428] = "Precondition Required"; p[429] = "Too Many Requests";
        p[431] = "Request Header Fields Too Large"; p[451] = "Unavailable For Legal Reasons";
        p[500] = "Internal Server Error"; p[501] = "Not Implemented"; p[502] = "Bad Gateway";
        p[503] = "Service Unavailable"; p[504] = "Gateway Timeout"; p[505] = "HTTP Version Not Supported";
        p[506] = "Variant Also Negotiates"; p[507] = "Insufficient Storage"; p[508] = "Loop Detected";
        p[510] = "Not Extended (OBSOLETED)"; p[511] = "Network Authentication Required";
        return p;
    }
}

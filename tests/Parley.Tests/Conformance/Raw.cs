namespace Parley.Tests.Conformance;

/// <summary>Builders for the raw requests of the conformance tables (Latin-1 strings: one char per byte).</summary>
internal static class Raw
{
    public const string Host = "Host: x\r\n";

    /// <summary>A GET with Host and the given extra field lines (each ending in CRLF).</summary>
    public static string Get(string fields = "") => "GET / HTTP/1.1\r\n" + Host + fields + "\r\n";

    /// <summary>A request line followed by Host and an empty line.</summary>
    public static string Line(string requestLine) => requestLine + "\r\n" + Host + "\r\n";

    /// <summary>A POST with Host, the given field lines and the body bytes.</summary>
    public static string Post(string fields, string body) => "POST / HTTP/1.1\r\n" + Host + fields + "\r\n" + body;

    /// <summary>A POST with Content-Length set to the body's length.</summary>
    public static string PostLength(string body) => Post($"Content-Length: {body.Length}\r\n", body);

    /// <summary>A chunked POST whose body is given raw (chunk lines included).</summary>
    public static string Chunked(string body) => Post("Transfer-Encoding: chunked\r\n", body);

    /// <summary>A well-formed request hidden where a lenient parser would see a second request.</summary>
    public const string Smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

    public static string Ch(int b) => ((char)b).ToString();

    public static string Hex(int b) => $"0x{b:X2}";
}

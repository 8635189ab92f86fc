using System.Text;

namespace Parley.Benchmarks;

/// <summary>The request bytes every parser benchmark uses, identical for Parley and Kestrel.</summary>
public static class Samples
{
    /// <summary>What <c>curl http://127.0.0.1:8080/plaintext</c> sends.</summary>
    public static readonly byte[] Curl = Ascii(
        "GET /plaintext HTTP/1.1\r\n" +
        "Host: 127.0.0.1:8080\r\n" +
        "User-Agent: curl/7.88.1\r\n" +
        "Accept: */*\r\n" +
        "\r\n");

    /// <summary>A navigation request as Chromium 130 on Linux sends it (about 500 bytes; short cookie).</summary>
    public static readonly byte[] Chromium = Ascii(
        "GET /docs/intro?lang=en HTTP/1.1\r\n" +
        "Host: localhost:8080\r\n" +
        "Connection: keep-alive\r\n" +
        "sec-ch-ua: \"Chromium\";v=\"130\", \"Not?A_Brand\";v=\"99\"\r\n" +
        "sec-ch-ua-mobile: ?0\r\n" +
        "sec-ch-ua-platform: \"Linux\"\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36\r\n" +
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
        "Sec-Fetch-Site: none\r\n" +
        "Sec-Fetch-Mode: navigate\r\n" +
        "Sec-Fetch-User: ?1\r\n" +
        "Sec-Fetch-Dest: document\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-US,en;q=0.9\r\n" +
        "Cookie: sid=3f9a1c7e52b04d8e; theme=dark\r\n" +
        "\r\n");

    /// <summary>One request of TechEmpower's pipelined plaintext test.</summary>
    public static readonly byte[] TechEmpowerPlaintext = Ascii(
        "GET /plaintext HTTP/1.1\r\n" +
        "Host: localhost\r\n" +
        "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    /// <summary>Requests in <see cref="Pipelined"/>.</summary>
    public const int PipelineDepth = 16;

    /// <summary>16 TechEmpower plaintext requests back to back in one buffer, as one pipelined read delivers them.</summary>
    public static readonly byte[] Pipelined = Repeat(TechEmpowerPlaintext, PipelineDepth);

    /// <summary>Request samples by name, for parameterised benchmarks.</summary>
    public static byte[] ByName(string name) => name switch
    {
        "curl" => Curl,
        "chromium" => Chromium,
        _ => throw new ArgumentException($"unknown sample '{name}'", nameof(name)),
    };

    /// <summary>Header field lines in a sample (for checking that both parsers saw all of them).</summary>
    public static int FieldCount(byte[] request)
    {
        string text = Encoding.ASCII.GetString(request);
        int head = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return text[..head].Split("\r\n").Length - 1;
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Repeat(byte[] one, int times)
    {
        var all = new byte[one.Length * times];
        for (int i = 0; i < times; i++) one.CopyTo(all, i * one.Length);
        return all;
    }
}

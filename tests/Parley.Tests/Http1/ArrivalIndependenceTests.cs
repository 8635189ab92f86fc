using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>
/// Property: the outcome of parsing never depends on how the bytes arrive. Mutants of valid messages
/// (seeded, so failures reproduce) are parsed whole, byte by byte and split at every offset by the harness,
/// with small limits so that the limit checks on partial input are exercised too.
/// </summary>
public class ArrivalIndependenceTests
{
    private static readonly HeadLimits Small = new() { MaxTargetLength = 24, MaxHeadBytes = 96, MaxFieldCount = 4 };

    private static readonly byte[] Alphabet = Bytes(" \t\r\n:;,=\"/?#%@*0aA\u00e9\u0000\u007f-.");

    private static IEnumerable<byte[]> Mutants(string seedText, int seed, int count)
    {
        var random = new Random(seed);
        byte[] original = Bytes(seedText);
        for (int i = 0; i < count; i++)
        {
            var bytes = new List<byte>(original);
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(bytes.Count + 1);
                byte b = Alphabet[random.Next(Alphabet.Length)];
                switch (random.Next(4))
                {
                    case 0: bytes.Insert(at, b); break;
                    case 1: if (at < bytes.Count) bytes.RemoveAt(at); break;
                    case 2: if (at < bytes.Count) bytes[at] = b; break;
                    default: bytes.InsertRange(at, Enumerable.Repeat((byte)'a', random.Next(1, 100))); break;
                }
            }
            yield return bytes.ToArray();
        }
    }

    // Names the input in the failure message, escaped, so that a failing mutant can be turned into a test row.
    private static void Explained(byte[] input, Action check)
    {
        try
        {
            check();
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException)
        {
            string escaped = System.Text.RegularExpressions.Regex.Replace(Latin1(input), @"[^\x20-\x7e]", m => $"\\u{(int)m.Value[0]:x4}");
            throw new Xunit.Sdk.XunitException($"input \"{escaped}\"\n{e.Message}");
        }
    }

    [Theory]
    [InlineData("GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", 1)]
    [InlineData("POST / HTTP/1.1\r\nHost: x:80\r\nContent-Length: 5\r\nX: y\r\n\r\n", 2)]
    [InlineData("\r\nOPTIONS * HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 3)]
    [InlineData("CONNECT a:1 HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 4)]
    public void Request_heads_parse_the_same_however_the_bytes_arrive(string request, int seed) // STYLE.md, RFC 9112 §2
    {
        foreach (byte[] mutant in Mutants(request, seed, 150)) Explained(mutant, () => Request(mutant, Small));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\n", 7)]
    [InlineData("HTTP/1.0 404 Not Found\r\n\r\n", 8)]
    public void Response_heads_parse_the_same_however_the_bytes_arrive(string response, int seed) // STYLE.md, RFC 9112 §4
    {
        foreach (byte[] mutant in Mutants(response, seed, 150)) Explained(mutant, () => Response(Latin1(mutant), Small));
    }

    [Theory]
    [InlineData("5;a=\"b\"\r\nhello\r\n0\r\nX: y\r\n\r\n", 5)]
    [InlineData("a\r\n0123456789\r\n3 ; q\r\nabc\r\n0\r\n\r\n", 6)]
    public void Chunked_bodies_decode_the_same_however_the_bytes_arrive(string body, int seed) // STYLE.md, RFC 9112 §7.1
    {
        foreach (byte[] mutant in Mutants(body, seed, 150))
        {
            Explained(mutant, () => Chunked(mutant, d => { d.MaxTrailerBytes = 32; d.MaxTrailerFields = 2; d.MaxBodySize = 64; }));
        }
    }
}

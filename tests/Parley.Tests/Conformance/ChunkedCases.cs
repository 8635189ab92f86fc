using static Parley.Tests.Conformance.Raw;

namespace Parley.Tests.Conformance;

/// <summary>RFC 9112 §7.1 (chunked coding): chunk sizes, extensions (§7.1.1), trailers (§7.1.2), line ends.</summary>
internal static class ChunkedCases
{
    private const string Grammar = "RFC 9112 §7.1: chunked-body = *chunk last-chunk trailer-section CRLF; chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; chunk-size = 1*HEXDIG";
    private const string Overflow = "RFC 9112 §7.1: Recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing errors due to integer conversion overflows or precision loss";
    private const string Ext = "RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS chunk-ext-name [ BWS \"=\" BWS chunk-ext-val ] ); chunk-ext-name = token; chunk-ext-val = token / quoted-string";
    private const string ExtLimit = "RFC 9112 §7.1.1: A server ought to limit the total length of chunk extensions received in a request ... and generate an appropriate 4xx (Client Error) response if that amount is exceeded";
    private const string BareLf = "RFC 9112 §7.1: chunk lines end in CRLF (RFC 9112 §2.2: our choice is to never take a bare LF as a line end; cf. CVE-2025-55315)";
    private const string BareCr = "RFC 9112 §2.2: A recipient of such a bare CR MUST consider that element to be invalid";
    private const string Trailer = "RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), parsed with the same rules as header fields (RFC 9112 §5)";

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("9112-7.1 two chunks", Chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), 200, After.Open, Grammar, BodyLength: 11);
        yield return new("9112-7.1 upper-case hex size", Chunked("A\r\n0123456789\r\n0\r\n\r\n"), 200, After.Open, Grammar + " (HEXDIG is case-insensitive)", BodyLength: 10);
        yield return new("9112-7.1 lower-case hex size", Chunked("a\r\n0123456789\r\n0\r\n\r\n"), 200, After.Open, Grammar, BodyLength: 10);
        yield return new("9112-7.1 leading zeros in the chunk size", Chunked("0005\r\nhello\r\n0\r\n\r\n"), 200, After.Open, Grammar, BodyLength: 5);
        yield return new("9112-7.1 many leading zeros in the chunk size", Chunked(new string('0', 40) + "5\r\nhello\r\n0\r\n\r\n"), 200, After.Open, Grammar + "; " + Overflow, BodyLength: 5);
        yield return new("9112-7.1 last-chunk of several zeros", Chunked("5\r\nhello\r\n000\r\n\r\n"), 200, After.Open, "RFC 9112 §7.1: last-chunk = 1*(\"0\") [ chunk-ext ] CRLF", BodyLength: 5);
        yield return new("9112-7.1 empty chunked body", Chunked("0\r\n\r\n"), 200, After.Open, Grammar, BodyLength: 0);
        yield return new("9112-7.1 many one-byte chunks", Chunked(string.Concat(Enumerable.Repeat("1\r\nx\r\n", 200)) + "0\r\n\r\n"), 200, After.Open, Grammar, BodyLength: 200);

        foreach ((string name, string body) in new[]
        {
            ("plus sign", "+5\r\nhello\r\n0\r\n\r\n"), ("minus sign", "-5\r\nhello\r\n0\r\n\r\n"), ("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
            ("leading space", " 5\r\nhello\r\n0\r\n\r\n"), ("leading tab", "\t5\r\nhello\r\n0\r\n\r\n"), ("empty size", "\r\nhello\r\n0\r\n\r\n"),
            ("non-hex size", "g\r\nhello\r\n0\r\n\r\n"), ("space inside the size", "1 0\r\n0123456789abcdef\r\n0\r\n\r\n"),
            ("underscore inside the size", "1_0\r\n0123456789abcdef\r\n0\r\n\r\n"), ("fullwidth digit", "\xEF\xBC\x95\r\nhello\r\n0\r\n\r\n"),
            ("no last chunk, then a request", "5\r\nhello\r\n" + Smuggled),
            ("data longer than the size", "3\r\nhello\r\n0\r\n\r\n"), ("data shorter than the size", "7\r\nhello\r\n0\r\n\r\n"),
            ("data not followed by CRLF", "5\r\nhelloXX0\r\n\r\n"), ("last chunk without CRLF", "0\r\n" + Smuggled),
        })
        {
            yield return new($"9112-7.1 invalid chunk framing ({name})", Chunked(body), 400, After.Closed, Grammar);
        }
        foreach ((string name, string size) in new[]
        {
            ("16 hex digits (2^64-1)", "ffffffffffffffff"), ("17 hex digits (2^64)", "10000000000000000"), ("2^64+5 wraps to 5 in 64 bits", "10000000000000005"),
            ("2^63", "8000000000000000"), ("40 hex digits", new string('f', 40)),
        })
        {
            yield return new($"9112-7.1 chunk size overflow ({name})", Chunked(size + "\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, Overflow);
        }
        yield return new("9112-7.1 chunk size of 2^60-1 exceeds the body limit", Chunked("fffffffffffffff\r\nhello\r\n0\r\n\r\n"), 413, After.Closed,
            Overflow + "; RFC 9110 §15.5.14: 413 (Content Too Large)");

        // Line ends inside chunked framing
        yield return new("9112-7.1 bare LF ends the chunk size line", Chunked("5\nhello\r\n0\r\n\r\n"), 400, After.Closed, BareLf);
        yield return new("9112-7.1 bare LF ends the chunk data", Chunked("5\r\nhello\n0\r\n\r\n"), 400, After.Closed, BareLf);
        yield return new("9112-7.1 bare LF ends the last chunk line", Chunked("5\r\nhello\r\n0\n\r\n"), 400, After.Closed, BareLf);
        yield return new("9112-7.1 bare LF ends the chunked body", Chunked("5\r\nhello\r\n0\r\n\n"), 400, After.Closed, BareLf);
        yield return new("9112-7.1 bare CR ends the chunk size line", Chunked("5\rhello\r\n0\r\n\r\n"), 400, After.Closed, BareCr);
        yield return new("9112-7.1 bare CR ends the chunk data", Chunked("5\r\nhello\r0\r\n\r\n"), 400, After.Closed, BareCr);
        yield return new("9112-7.1 bare CR ends the chunked body", Chunked("5\r\nhello\r\n0\r\n\r"  + Smuggled), 400, After.Closed, BareCr);

        // §7.1.1 chunk extensions
        foreach ((string name, string ext) in new[]
        {
            ("a name", ";a"), ("a name and token value", ";a=b"), ("a quoted value", ";a=\"b c\""), ("a quoted-pair", ";a=\"b\\\"c\""),
            ("BWS around the parts", " ; a = b"), ("several extensions", ";a=1;b;c=\"x\""), ("obs-text in a quoted value", ";a=\"\xE9\""),
            ("100 short extensions", string.Concat(Enumerable.Repeat(";a=b", 100))),
        })
        {
            yield return new($"9112-7.1.1 chunk extension with {name} is ignored", Chunked($"5{ext}\r\nhello\r\n0{ext}\r\n\r\n"), 200, After.Open,
                Ext + "; A recipient MUST ignore unrecognized chunk extensions", BodyLength: 5);
        }
        foreach ((string name, string ext) in new[]
        {
            ("no name", ";"), ("no name but a value", ";=b"), ("no value after '='", ";a="), ("a delimiter in the name", ";a@b"),
            ("a space inside the name", ";a b"), ("a space inside the value", ";a=b c"), ("a delimiter in the value", ";a=b@c"),
            ("an unterminated quoted value", ";a=\"b"), ("no semicolon", "a=b"), ("a comma separator", ",a=b"),
            ("a bad quoted-pair", ";a=\"\\\x01\""), ("text after the quoted value", ";a=\"b\"c"),
        })
        {
            yield return new($"9112-7.1.1 invalid chunk extension ({name})", Chunked($"5{ext}\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, Ext);
        }
        foreach ((string name, string size) in new[]
        {
            ("a space after the size", "a "), ("a tab after the size", "a\t"), ("whitespace after an extension", "a ; x = y "),
            ("a space after the last chunk's size", "0 "),
        })
        {
            string body = size.StartsWith('0') ? "a\r\n0123456789\r\n" + size + "\r\n\r\n" : size + "\r\n0123456789\r\n0\r\n\r\n";
            yield return new($"9112-7.1 chunk-size line ending in whitespace ({name}) is refused", Chunked(body), 400, After.Closed,
                "RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF; BWS is allowed only before ';' (our choice: whitespace ending the line is refused, not skipped, so no two parsers read the line differently)");
        }
        for (int b = 0; b < 0x20; b++)
        {
            yield return new($"9112-7.1.1 control byte {Hex(b)} in a chunk extension", Chunked($"5;a{Ch(b)}b\r\nhello\r\n0\r\n\r\n"), 400, After.Closed,
                Ext + " (controls are neither tchar nor qdtext)");
        }
        yield return new("9112-7.1.1 DEL in a chunk extension", Chunked("5;a\x7F" + "b\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, Ext);
        yield return new("9112-7.1.1 NUL in a quoted extension value", Chunked("5;a=\"b\0c\"\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, Ext + " (qdtext excludes controls)");
        yield return new("9112-7.1.1 bare LF in a chunk extension hides a request (CVE-2025-55315 class)",
            Chunked("2;a\n" + Smuggled + "0\r\n\r\n"), 400, After.Closed, BareLf + "; " + Ext);
        yield return new("9112-7.1.1 bare LF in a quoted extension value", Chunked("5;a=\"x\ny\"\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, BareLf);
        yield return new("9112-7.1.1 bare CR in a chunk extension", Chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, BareCr);
        yield return new("9112-7.1.1 bare LF in the last chunk's extension hides a request",
            Chunked("5\r\nhello\r\n0;a\n" + Smuggled + "\r\n"), 400, After.Closed, BareLf);
        yield return new("9112-7.1.1 oversized chunk extension", Chunked("5;a=" + new string('b', 5000) + "\r\nhello\r\n0\r\n\r\n"), 400, After.Closed, ExtLimit);
        yield return new("9112-7.1.1 oversized chunk extension without its line end yet", Chunked("5;a=" + new string('b', 8000)), 400, After.Closed, ExtLimit);
        yield return new("9112-7.1.1 oversized chunk extension on the last chunk", Chunked("0;" + new string('a', 5000) + "\r\n\r\n"), 400, After.Closed, ExtLimit);

        // §7.1.2 trailer section
        yield return new("9112-7.1.2 trailer field is accepted", Chunked("5\r\nhello\r\n0\r\nX-Digest: abc\r\n\r\n"), 200, After.Open, Trailer, BodyLength: 5);
        yield return new("9112-7.1.2 several trailer fields", Chunked("5\r\nhello\r\n0\r\nA: 1\r\nB: 2\r\n\r\n"), 200, After.Open, Trailer, BodyLength: 5);
        yield return new("9110-6.5.1 a Content-Length trailer does not change framing", Chunked("5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"), 200, After.Open,
            "RFC 9110 §6.5.1: a recipient MUST NOT merge a received trailer field into the header section unless its definition permits it (framing fields never)", BodyLength: 5);
        foreach ((string name, string trailer) in new[]
        {
            ("bare LF after a field", "X: 1\n\r\n"), ("bare LF in a value", "X: 1\nY: 2\r\n\r\n"), ("bare CR in a value", "X: 1\rY\r\n\r\n"),
            ("obs-fold", "X: 1\r\n 2\r\n\r\n"), ("whitespace before the colon", "X : 1\r\n\r\n"), ("NUL in a value", "X: 1\0\r\n\r\n"),
            ("no colon", "X\r\n\r\n"), ("a request line instead of a field", Smuggled),
        })
        {
            yield return new($"9112-7.1.2 invalid trailer ({name})", Chunked("5\r\nhello\r\n0\r\n" + trailer), 400, After.Closed, Trailer);
        }
        yield return new("9112-7.1.2 oversized trailer section gets 431", Chunked("5\r\nhello\r\n0\r\nX: " + new string('a', 40 * 1024) + "\r\n\r\n"), 431, After.Closed,
            Trailer + "; RFC 6585 §5: 431");
        yield return new("9112-7.1.2 too many trailer fields get 431", Chunked("5\r\nhello\r\n0\r\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"T{i}: v\r\n")) + "\r\n"), 431, After.Closed,
            Trailer + "; RFC 6585 §5: 431");
    }
}

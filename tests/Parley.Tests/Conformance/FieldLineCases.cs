using static Parley.Tests.Conformance.Raw;

namespace Parley.Tests.Conformance;

/// <summary>RFC 9112 §5 (field lines, obs-fold) and RFC 9110 §5 (field names and values), plus the head limits.</summary>
internal static class FieldLineCases
{
    private const string ValueRule = "RFC 9110 §5.5: field-value = *field-content; field-vchar = VCHAR / obs-text; a recipient of CR, LF, or NUL within a field value MUST either reject the message or replace each of those characters with SP (we reject every CTL)";
    private const string NameRule = "RFC 9110 §5.1: field-name = token; RFC 9112 §5: field-line = field-name \":\" OWS field-value OWS";
    private const string ColonRule = "RFC 9112 §5.1: A server MUST reject, with a response status code of 400 (Bad Request), any received request message that contains whitespace between a header field name and colon";
    private const string FoldRule = "RFC 9112 §5.2: A server that receives an obs-fold in a request message ... MUST either reject the message by sending a 400 (Bad Request) ... or replace each received obs-fold with one or more SP octets (we reject)";

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("9112-5 OWS around the value is trimmed", Get("X-A: \t v \t\r\n"), 200, After.Open,
            "RFC 9112 §5: field-line = field-name \":\" OWS field-value OWS");
        yield return new("9112-5 empty field value", Get("X-A:\r\n"), 200, After.Open, "RFC 9110 §5.5: field-value = *field-content (may be empty)");
        yield return new("9110-5.5 obs-text in a value is accepted", Get("X-A: caf\xC3\xA9\r\n"), 200, After.Open,
            "RFC 9110 §5.5: field-vchar = VCHAR / obs-text");
        yield return new("9110-5.5 a colon inside the value is data", Get("X-A: a:b:c\r\n"), 200, After.Open, "RFC 9112 §5: the first colon ends the field name");
        yield return new("9110-5.1 field names are case-insensitive (Host in upper case)", "GET / HTTP/1.1\r\nHOST: x\r\n\r\n", 200, After.Open,
            "RFC 9110 §5.1: Field names are case-insensitive");

        // Whitespace before the colon (§5.1)
        foreach ((string name, string line) in new[]
        {
            ("SP before colon", "Host : x"), ("HTAB before colon", "Host\t: x"), ("SP before colon on another field", "X-A : 1"),
            ("SP before colon on Content-Length", "Content-Length : 0"), ("SP before colon on Transfer-Encoding", "Transfer-Encoding : chunked"),
        })
        {
            string request = line.StartsWith("Host", StringComparison.Ordinal) ? $"GET / HTTP/1.1\r\n{line}\r\n\r\n" : Get(line + "\r\n");
            yield return new($"9112-5.1 {name}", request, 400, After.Closed, ColonRule);
        }

        // obs-fold (§5.2)
        yield return new("9112-5.2 obs-fold with SP", Get("X-A: 1\r\n 2\r\n"), 400, After.Closed, FoldRule);
        yield return new("9112-5.2 obs-fold with HTAB", Get("X-A: 1\r\n\t2\r\n"), 400, After.Closed, FoldRule);
        yield return new("9112-5.2 obs-fold continuing Transfer-Encoding", Post("Transfer-Encoding: gzip,\r\n chunked\r\n", "0\r\n\r\n"), 400, After.Closed, FoldRule);
        yield return new("9112-5.2 obs-fold continuing Content-Length", Post("Content-Length:\r\n 3\r\n", "abc"), 400, After.Closed, FoldRule);

        // Field names
        yield return new("9112-5 field line without a colon", Get("NoColon\r\n"), 400, After.Closed, NameRule);
        yield return new("9112-5 empty field name", Get(": x\r\n"), 400, After.Closed, NameRule);
        foreach (char c in "()<>@,;\\\"/[]?={}")
        {
            yield return new($"9110-5.1 delimiter '{c}' in a field name", Get($"X{c}A: 1\r\n"), 400, After.Closed, NameRule);
        }
        foreach (int b in new[] { 0x00, 0x01, 0x0B, 0x0C, 0x1F, 0x7F, 0x80, 0xFF })
        {
            yield return new($"9110-5.1 byte {Hex(b)} in a field name", Get($"X{Ch(b)}A: 1\r\n"), 400, After.Closed, NameRule);
        }

        // Control bytes in values: every CTL but HTAB, and DEL
        for (int b = 0; b < 0x20; b++)
        {
            if (b == '\t') continue;
            yield return new($"9110-5.5 control byte {Hex(b)} in a field value", Get($"X-A: a{Ch(b)}b\r\n"), 400, After.Closed, ValueRule);
        }
        yield return new("9110-5.5 DEL in a field value", Get("X-A: a\x7F" + "b\r\n"), 400, After.Closed, ValueRule);
        yield return new("9110-5.5 NUL at the end of Host", "GET / HTTP/1.1\r\nHost: x\0\r\n\r\n", 400, After.Closed, ValueRule);

        // Limits (RFC 6585 §5: 431)
        yield return new("6585-5 header section too large gets 431", Get("X-Big: " + new string('a', 40 * 1024) + "\r\n"), 431, After.Closed,
            "RFC 6585 §5: 431 (Request Header Fields Too Large) ... the server is unwilling to process the request because its header fields are too large");
        yield return new("6585-5 too many fields get 431", Get(string.Concat(Enumerable.Range(0, 150).Select(i => $"X-{i}: v\r\n"))), 431, After.Closed,
            "RFC 6585 §5: 431 ... may be used both when the set of request header fields in total is too large, and when a single header field is at fault");
        yield return new("6585-5 100 fields are within the limit", Get(string.Concat(Enumerable.Range(0, 98).Select(i => $"X-{i}: v\r\n"))), 200, After.Open,
            "RFC 9110 §5.4: a server ... limits on field size (ours: 100 fields, 32 KiB)");
    }
}

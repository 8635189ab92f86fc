using static Parley.Tests.Conformance.Raw;

namespace Parley.Tests.Conformance;

/// <summary>RFC 9112 §2 (message format, line terminators) and §3 (request line, method, version).</summary>
internal static class MessageAndRequestLineCases
{
    private const string BadLine = "RFC 9112 §3: Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect";
    private const string BareLf = "RFC 9112 §2.2: a recipient MAY recognize a single LF as a line terminator (our choice: never, so no two parsers disagree on a line's end; 400 and close)";
    private const string BareCr = "RFC 9112 §2.2: A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with SP";

    public static IEnumerable<ConformanceCase> All()
    {
        // §2.2 line terminators and leading empty lines
        yield return new("9112-2.2 plain GET is answered and the connection persists", Get(), 200, After.Open,
            "RFC 9112 §9.3: If the received protocol is HTTP/1.1 (or later), the connection will persist after the current response");
        yield return new("9112-2.2 one empty line before the request line is ignored", "\r\n" + Get(), 200, After.Open,
            "RFC 9112 §2.2: a server that is expecting to receive and parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the request-line");
        yield return new("9112-2.2 four empty lines before the request line are ignored", "\r\n\r\n\r\n\r\n" + Get(), 200, After.Open,
            "RFC 9112 §2.2: SHOULD ignore at least one empty line (our limit: 4)");
        yield return new("9112-2.2 many empty lines before the request line are refused", string.Concat(Enumerable.Repeat("\r\n", 50)) + Get(), 400, After.Closed,
            "RFC 9112 §2.2: SHOULD ignore at least one empty line (our limit: 4, so a peer cannot feed us endless blank lines)");
        yield return new("9112-2.2 bare LF empty line before the request line", "\n" + Get(), 400, After.Closed, BareLf);
        yield return new("9112-2.2 bare LF ends the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400, After.Closed, BareLf);
        yield return new("9112-2.2 bare LF ends a field line", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400, After.Closed, BareLf);
        yield return new("9112-2.2 bare LF ends the head", "GET / HTTP/1.1\r\nHost: x\r\n\n", 400, After.Closed, BareLf);
        yield return new("9112-2.2 every line ends in bare LF", "GET / HTTP/1.1\nHost: x\n\n", 400, After.Closed, BareLf);
        yield return new("9112-2.2 bare CR ends the request line", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400, After.Closed, BareCr);
        yield return new("9112-2.2 bare CR inside the request line", "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", 400, After.Closed, BareCr);
        yield return new("9112-2.2 CR CR LF ends the request line", "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", 400, After.Closed, BareCr);
        yield return new("9112-2.2 bare CR ends a field line", "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400, After.Closed, BareCr);
        yield return new("9112-2.2 LF CR ends the head", "GET / HTTP/1.1\r\nHost: x\r\n\n\r", 400, After.Closed, BareLf);
        yield return new("9112-2.2 whitespace line between request line and first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, After.Closed,
            "RFC 9112 §2.2: A recipient that receives whitespace between the start-line and the first header field MUST either reject the message as invalid or consume each whitespace-preceded line");
        yield return new("9112-2.2 garbage instead of a request", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, After.Closed,
            "RFC 9112 §2.2: receives a sequence of octets that does not match the HTTP-message grammar ... the server SHOULD respond with a 400 (Bad Request) response and close the connection");

        // §2.3 version
        yield return new("9112-2.3 HTTP/1.0 request is answered and closed", "GET / HTTP/1.0\r\n\r\n", 200, After.Closed,
            "RFC 9112 §9.3: If the received protocol is HTTP/1.0 [and keep-alive is absent] ... the connection will close after the current response");
        yield return new("9110-2.5 HTTP/1.2 is processed as HTTP/1.1", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 200, After.Open,
            "RFC 9110 §2.5: a minor version number higher than what it implements SHOULD process the message as if it were in the highest minor version");
        yield return new("9112-2.3 HTTP/1.9 is processed as HTTP/1.1", "GET / HTTP/1.9\r\nHost: x\r\n\r\n", 200, After.Open,
            "RFC 9110 §2.5: process the message as if it were in the highest minor version within that major version");
        foreach ((string version, int status) in new[] { ("HTTP/2.0", 505), ("HTTP/3.0", 505), ("HTTP/0.9", 505), ("HTTP/9.9", 505) })
        {
            yield return new($"9110-15.6.6 version {version} gets 505", Line($"GET / {version}"), status, After.Closed,
                "RFC 9110 §15.6.6: 505 (HTTP Version Not Supported) ... the server does not support, or refuses to support, the major version of HTTP that was used");
        }
        foreach (string version in new[] { "http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1", "HTTP/1.x", "HTTPS/1.1", "HTTP /1.1", "HTTP/ 1.1", "HTTP/1.1 ", "HTTP\\1.1", "HTTP/01.1", "HTTP/1.1.1" })
        {
            yield return new($"9112-2.3 malformed version '{version}'", Line($"GET / {version}"), 400, After.Closed,
                "RFC 9112 §2.3: HTTP-version = HTTP-name \"/\" DIGIT \".\" DIGIT; HTTP-name = %s\"HTTP\" (case-sensitive)");
        }
        yield return new("9112-3 request line without a version (HTTP/0.9)", "GET /\r\n\r\n", 400, After.Closed,
            "RFC 9112 §3: request-line = method SP request-target SP HTTP-version");

        // §3 request line shape
        foreach ((string name, string line) in new[]
        {
            ("two spaces after the method", "GET  / HTTP/1.1"),
            ("two spaces before the version", "GET /  HTTP/1.1"),
            ("tab as separator", "GET\t/\tHTTP/1.1"),
            ("leading space", " GET / HTTP/1.1"),
            ("trailing space", "GET / HTTP/1.1 "),
            ("no target", "GET HTTP/1.1"),
            ("only a method", "GET"),
            ("vertical tab as separator", "GET\v/ HTTP/1.1"),
            ("form feed as separator", "GET\f/ HTTP/1.1"),
            ("NUL after the version", "GET / HTTP/1.1\0"),
            ("space inside the target", "GET /a b HTTP/1.1"),
        })
        {
            yield return new($"9112-3 request line with {name}", Line(line), 400, After.Closed,
                BadLine + " (request-line = method SP request-target SP HTTP-version; No whitespace is allowed in the request-target)");
        }

        // §3.1 method
        foreach (string method in new[] { "G@T", "GE(T", "GET:", "G\"T", "G/T", "GE[T]", "G\x7FT", "G\x01T", "G\xC3\xA9T", "G{T" })
        {
            yield return new($"9112-3.1 method with a non-token byte '{ResponseStream.Escape(method)}'", Line($"{method} / HTTP/1.1"), 400, After.Closed,
                "RFC 9112 §3.1: method = token (RFC 9110 §5.6.2: tchar excludes delimiters, controls and non-ASCII)");
        }
        yield return new("9112-3 a 100000-byte method gets 501, not 431", Line(new string('M', 100_000) + " / HTTP/1.1"), 501, After.Closed,
            "RFC 9112 §3: A server that receives a method longer than any that it implements SHOULD respond with a 501 (Not Implemented) status code");
        yield return new("9112-3 a method one byte over the limit gets 501", Line(new string('M', 33) + " / HTTP/1.1"), 501, After.Closed,
            "RFC 9112 §3: a method longer than any that it implements SHOULD get 501 (our limit: HeadLimits.MaxMethodLength, 32)");
        yield return new("9112-3 a method at the length limit is passed to the handler", Line(new string('M', 32) + " / HTTP/1.1"), 200, After.Open,
            "RFC 9110 §9.1: method = token; extension methods are allowed (our limit: 32 bytes)", BodyContains: "method=" + new string('M', 32) + " ");
        yield return new("9110-9.1 an extension method is passed to the handler", Line("PURGE / HTTP/1.1"), 200, After.Open,
            "RFC 9110 §9.1: method = token; extension methods are allowed", BodyContains: "method=PURGE");
        yield return new("9110-9.1 a lower-case method stays lower-case", Line("get / HTTP/1.1"), 200, After.Open,
            "RFC 9110 §9.1: The method token is case-sensitive", BodyContains: "method=get ");
        yield return new("9110-9.3.2 HEAD gets the head of the GET response and no body", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200, After.Open,
            "RFC 9110 §9.3.2: The HEAD method is identical to GET except that the server MUST NOT send content in the response", Head: true);
    }
}

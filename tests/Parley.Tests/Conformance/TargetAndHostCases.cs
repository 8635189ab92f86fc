using static Parley.Tests.Conformance.Raw;

namespace Parley.Tests.Conformance;

/// <summary>RFC 9112 §3.2 (request-target forms, Host) and RFC 9110 §4.2, §7.2.</summary>
internal static class TargetAndHostCases
{
    private const string NoWhitespace = "RFC 9112 §3.2: request-target = origin-form / absolute-form / authority-form / asterisk-form; No whitespace is allowed in the request-target";
    private const string HostRule = "RFC 9112 §3.2: A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value";

    private const string EmptyHost = "RFC 9112 §3.3: with no non-empty Host the authority is the server's configured default name; RFC 9112 §3.2: a Host with an invalid field value gets 400 (our choice: without HttpServerOptions.DefaultHost, an empty Host is refused)";

    public static IEnumerable<ConformanceCase> All()
    {
        // §3.2.1 origin-form
        yield return new("9112-3.2.1 origin-form with a query", Line("GET /a/b?c=d&e HTTP/1.1"), 200, After.Open,
            "RFC 9112 §3.2.1: origin-form = absolute-path [ \"?\" query ]", BodyContains: "form=Origin");
        yield return new("9112-3.2.1 origin-form with percent-encoding", Line("GET /a%20b HTTP/1.1"), 200, After.Open,
            "RFC 3986 §2.1: pct-encoded = \"%\" HEXDIG HEXDIG", BodyContains: "path=%2Fa%20b");
        foreach (string bad in new[] { "/a%2", "/a%zz", "/a%", "/%g0" })
        {
            yield return new($"9112-3.2.1 malformed percent-encoding '{bad}'", Line($"GET {bad} HTTP/1.1"), 400, After.Closed,
                "RFC 3986 §2.1: pct-encoded = \"%\" HEXDIG HEXDIG (anything else is not a URI)");
        }
        yield return new("9112-3.2 fragment in the target", Line("GET /a#frag HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2: origin-form = absolute-path [ \"?\" query ] has no fragment; RFC 9110 §7.1: fragments are not sent in requests");
        yield return new("9112-3.2 bare # in the target", Line("GET /# HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2: the request-target contains no fragment");
        yield return new("9112-3.2 percent-encoded overlong UTF-8 slash does not decode to '/'", Line("GET /a%C0%AFb HTTP/1.1"), 200, After.Open,
            "RFC 3629 §3: overlong sequences are invalid UTF-8 and MUST NOT be decoded as the character they alias", BodyContains: "path=%2Fa%EF%BF%BD%EF%BF%BDb");
        yield return new("9112-3.2 percent-encoded overlong UTF-8 dot does not decode to '.'", Line("GET /%C0%AE%C0%AE/x HTTP/1.1"), 200, After.Open,
            "RFC 3629 §3: overlong sequences are invalid UTF-8", BodyContains: "path=%2F%EF%BF%BD%EF%BF%BD%EF%BF%BD%EF%BF%BD%2Fx");

        // Raw bytes in the target: controls, DEL, non-ASCII (incl. raw overlong UTF-8)
        for (int b = 0; b < 0x20; b++)
        {
            yield return new($"9112-3.2 control byte {Hex(b)} in the target", Line($"GET /a{Ch(b)}b HTTP/1.1"), 400, After.Closed, NoWhitespace + " (RFC 3986 §2: a URI holds no control characters)");
        }
        foreach (int b in new[] { 0x7F, 0x80, 0xA0, 0xFF })
        {
            yield return new($"9112-3.2 raw byte {Hex(b)} in the target", Line($"GET /a{Ch(b)}b HTTP/1.1"), 400, After.Closed,
                "RFC 3986 §2: URI characters are a subset of US-ASCII; other octets must be percent-encoded");
        }
        yield return new("9112-3.2 raw UTF-8 in the target", Line("GET /caf\xC3\xA9 HTTP/1.1"), 400, After.Closed,
            "RFC 3986 §2: non-ASCII characters must be percent-encoded");
        yield return new("9112-3.2 raw overlong UTF-8 slash in the target", Line("GET /a\xC0\xAF..\xC0\xAFetc HTTP/1.1"), 400, After.Closed,
            "RFC 3986 §2 and RFC 3629 §3: raw non-ASCII is not a URI, and overlong UTF-8 is not UTF-8");
        yield return new("9112-3 request-target too long gets 414", Line("GET /" + new string('a', 9000) + " HTTP/1.1"), 414, After.Closed,
            "RFC 9112 §3: A server that receives a request-target longer than any URI it wishes to parse MUST respond with a 414 (URI Too Long) status code");
        yield return new("9112-3.2 target that is none of the four forms", Line("GET a/b HTTP/1.1"), 400, After.Closed, NoWhitespace);

        // §3.2.2 absolute-form
        yield return new("9112-3.2.2 absolute-form is accepted", Line("GET http://x/p?q HTTP/1.1"), 200, After.Open,
            "RFC 9112 §3.2.2: A server MUST accept the absolute-form in requests", BodyContains: "form=Absolute");
        yield return new("9112-3.2.2 absolute-form https is accepted", Line("GET https://x/p HTTP/1.1"), 200, After.Open,
            "RFC 9112 §3.2.2: A server MUST accept the absolute-form in requests", BodyContains: "form=Absolute");
        yield return new("9112-3.2.2 absolute-form authority wins over Host", "GET http://target.example/p HTTP/1.1\r\nHost: other.example\r\n\r\n", 200, After.Open,
            "RFC 9112 §3.2.2: the origin server MUST ignore the received Host header field (if any) and instead use the host information of the request-target", BodyContains: "host=target.example ");
        yield return new("9112-3.2.2 absolute-form with port and no path", Line("GET http://x:8080 HTTP/1.1"), 200, After.Open,
            "RFC 9112 §3.2.2: absolute-form = absolute-URI", BodyContains: "host=x:8080 ");
        yield return new("9112-3.2 absolute-form still needs a Host field in HTTP/1.1", "GET http://x/ HTTP/1.1\r\n\r\n", 400, After.Closed, HostRule);
        yield return new("9112-3.2.2 absolute-form with userinfo", Line("GET http://user:pw@x/ HTTP/1.1"), 400, After.Closed,
            "RFC 9110 §4.2.4: A recipient SHOULD parse for userinfo and treat its presence as an error");
        yield return new("9112-3.2.2 absolute-form with an empty authority", Line("GET http:///p HTTP/1.1"), 400, After.Closed,
            "RFC 9110 §4.2.1: A sender MUST NOT generate an \"http\" URI with an empty host identifier. A recipient that processes such a URI reference MUST reject it as invalid");
        yield return new("9112-3.2.2 absolute-form with a non-http scheme", Line("GET ftp://x/ HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2.2: absolute-form names the target URI; we are an origin for http and https only");
        yield return new("9112-3.2.2 absolute-form with an invalid port", Line("GET http://x:8a/ HTTP/1.1"), 400, After.Closed,
            "RFC 3986 §3.2.3: port = *DIGIT");

        // §3.2.3 authority-form, only for CONNECT
        yield return new("9112-3.2.3 CONNECT with authority-form reaches the handler", Line("CONNECT x:443 HTTP/1.1"), 405, After.Open,
            "RFC 9112 §3.2.3: authority-form = uri-host \":\" port (we are not a proxy: the handler answers 405)", BodyContains: "form=Authority");
        yield return new("9112-3.2.3 CONNECT without a port", Line("CONNECT x HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2.3: authority-form = uri-host \":\" port");
        yield return new("9112-3.2.3 CONNECT with origin-form", Line("CONNECT / HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2.3: The authority-form of request-target is only used for CONNECT requests (and CONNECT uses only it)");
        yield return new("9112-3.2.3 authority-form with GET", Line("GET x:443 HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2.3: The authority-form of request-target is only used for CONNECT requests");

        // §3.2.4 asterisk-form, only for OPTIONS
        yield return new("9112-3.2.4 OPTIONS * is accepted", Line("OPTIONS * HTTP/1.1"), 200, After.Open,
            "RFC 9112 §3.2.4: The asterisk-form of request-target is only used for a server-wide OPTIONS request", BodyContains: "form=Asterisk");
        foreach (string method in new[] { "GET", "POST", "HEAD", "DELETE" })
        {
            yield return new($"9112-3.2.4 asterisk-form with {method}", Line($"{method} * HTTP/1.1"), 400, After.Closed,
                "RFC 9112 §3.2.4: The asterisk-form of request-target is only used for a server-wide OPTIONS request");
        }
        yield return new("9112-3.2.4 OPTIONS *x is not asterisk-form", Line("OPTIONS *x HTTP/1.1"), 400, After.Closed,
            "RFC 9112 §3.2.4: asterisk-form = \"*\"");

        // §3.2 Host
        yield return new("9112-3.2 missing Host", "GET / HTTP/1.1\r\n\r\n", 400, After.Closed, HostRule);
        yield return new("9112-3.2 two Host fields", "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400, After.Closed, HostRule);
        yield return new("9112-3.2 two different Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, After.Closed, HostRule);
        yield return new("9112-3.2 Host with a comma list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, After.Closed, HostRule);
        foreach (string host in new[] { "a b", "a/b", "a@b", "x:8a", "x:123456", "[::1", "[zz]", "a\"b", "a?b", "a#b", "a\\b" })
        {
            yield return new($"9112-3.2 invalid Host value '{host}'", $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", 400, After.Closed,
                HostRule + " (RFC 9110 §7.2: Host = uri-host [ \":\" port ])");
        }
        foreach (string host in new[] { "example.com", "example.com:8080", "127.0.0.1", "[::1]", "[::1]:80", "x:" })
        {
            yield return new($"9110-7.2 valid Host value '{host}'", $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", 200, After.Open,
                "RFC 9110 §7.2: Host = uri-host [ \":\" port ]", BodyContains: $"host={host} ");
        }
        yield return new("9112-3.3 empty Host is refused without a default host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, After.Closed, EmptyHost);
        yield return new("9112-3.3 whitespace-only Host is refused without a default host", "GET / HTTP/1.1\r\nHost:  \r\n\r\n", 400, After.Closed, EmptyHost);
        yield return new("9112-3.3 empty Host with a body is refused without a default host", "POST / HTTP/1.1\r\nHost:\r\nContent-Length: 5\r\n\r\nhello", 400, After.Closed, EmptyHost);
        foreach (string target in new[] { "/%00", "/a%00b", "/file.txt%00.html", "http://x/%00" })
        {
            yield return new($"9112-3.2 percent-encoded NUL in the path '{target}' is refused", Line($"GET {target} HTTP/1.1"), 400, After.Closed,
                "RFC 3986 §7.3: decoded data may be misread by back ends (our choice: a %00 in the path, which would decode to a NUL that ends native strings, is refused with 400)");
        }
        yield return new("9112-3.2 percent-encoded NUL in the query is passed on", Line("GET /a?x=%00 HTTP/1.1"), 200, After.Open,
            "RFC 3986 §3.4: the query is not decoded into the path (our choice refuses %00 only in the path)", BodyContains: "path=%2Fa ");
        yield return new("9112-3.2 HTTP/1.0 without Host is accepted", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, After.Open,
            "RFC 9112 §3.2: the 400 for a missing Host applies to HTTP/1.1 request messages");
    }
}

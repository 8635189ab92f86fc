using static Parley.Tests.Conformance.Raw;

namespace Parley.Tests.Conformance;

/// <summary>RFC 9112 §9 (persistence, pipelining, close) and RFC 9110 §10.1.1 (Expect), §15 (status codes).</summary>
internal static class ConnectionCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("9112-9.6 Connection: close closes after the response", Get("Connection: close\r\n"), 200, After.Closed,
            "RFC 9112 §9.6: A server that receives a \"close\" connection option MUST initiate closure of the connection after it sends the final response");
        yield return new("9112-9.6 Connection: CLOSE is case-insensitive", Get("Connection: CLOSE\r\n"), 200, After.Closed,
            "RFC 9110 §7.6.1: Connection options are case-insensitive");
        yield return new("9112-9.6 close among other options", Get("Connection: keep-alive, close\r\n"), 200, After.Closed,
            "RFC 9112 §9.6: a \"close\" connection option ... MUST initiate closure");
        yield return new("9112-9.6 close in a second Connection field", Get("Connection: foo\r\nConnection: close\r\n"), 200, After.Closed,
            "RFC 9110 §5.3: repeated field lines form one comma-separated list");
        yield return new("9112-9.3 HTTP/1.0 with keep-alive persists", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, After.Open,
            "RFC 9112 §9.3: If the received protocol is HTTP/1.0, the \"keep-alive\" connection option is present ... the connection will persist");
        yield return new("9112-9.3 HTTP/1.0 with keep-alive and close closes", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 200, After.Closed,
            "RFC 9112 §9.3: the connection persists unless the \"close\" connection option is present");
        yield return new("9112-9.3 Connection: keep-alive on HTTP/1.1 persists", Get("Connection: keep-alive\r\n"), 200, After.Open,
            "RFC 9112 §9.3: HTTP/1.1 persists by default");
        yield return new("9112-9.3.2 two pipelined requests are answered in order", Get() + Get(), 200, After.Open,
            "RFC 9112 §9.3.2: A server MAY process a sequence of pipelined requests ... MUST send the corresponding responses in the same order", Responses: 2);
        yield return new("9112-9.3.2 a POST pipelined after its body", PostLength("abc") + Get("Connection: close\r\n"), 200, After.Closed,
            "RFC 9112 §9.3.2: pipelined requests are answered in order; §9.6: close after the response to the request with \"close\"", BodyLength: 3, Responses: 2);
        yield return new("9110-10.1.1 Expect: 100-continue with the body already sent", Post("Expect: 100-continue\r\nContent-Length: 5\r\n", "hello"), 200, After.Open,
            "RFC 9110 §10.1.1: A server MAY omit sending a 100 (Continue) response if it has already received some or all of the content", BodyLength: 5);
        yield return new("9110-10.1.1 Expect: 100-CONTINUE is case-insensitive", Post("Expect: 100-CONTINUE\r\nContent-Length: 5\r\n", "hello"), 200, After.Open,
            "RFC 9110 §10.1.1: The expectation \"100-continue\" is case-insensitive", BodyLength: 5);
        foreach (string expect in new[] { "something", "100-continue, foo", "200-ok", "" })
        {
            yield return new($"9110-10.1.1 Expect: '{expect}' gets 417", Get($"Expect: {expect}\r\n"), 417, After.Closed,
                "RFC 9110 §10.1.1: A server that receives an Expect field value containing a member other than 100-continue MAY respond with a 417 (Expectation Failed) status code");
        }
        yield return new("9110-15.6.2 unknown coding gets 501", Post("Transfer-Encoding: br, chunked\r\n", "0\r\n\r\n"), 501, After.Closed,
            "RFC 9112 §6.1: SHOULD respond with 501 (Not Implemented); RFC 9110 §15.6.2");
        yield return new("9112-9.3 a GET with an empty body line pipelined (extra CRLF) is tolerated", Get() + "\r\n" + Get(), 200, After.Open,
            "RFC 9112 §2.2: SHOULD ignore at least one empty line (CRLF) received prior to the request-line", Responses: 2);
    }
}

using static Parley.Tests.Conformance.Raw;

namespace Parley.Tests.Conformance;

/// <summary>
/// RFC 9112 §6 (message body length: Content-Length, Transfer-Encoding) and RFC 9110 §8.6: the request
/// smuggling matrix. Every ambiguous framing ends with one error response and a closed connection.
/// </summary>
internal static class FramingCases
{
    private const string ClAndTe = "RFC 9112 §6.3: a server MAY reject a request that contains both Content-Length and Transfer-Encoding ... Regardless, the server MUST close the connection after responding to such a request (we reject: 400)";
    private const string InvalidCl = "RFC 9112 §6.3: If a message is received without Transfer-Encoding and with an invalid Content-Length header field ... the server MUST respond with a 400 (Bad Request) status code and then close the connection";
    private const string ListCl = "RFC 9110 §8.6: a recipient of a list or repeated field of identical Content-Length values MAY either reject the message as invalid or replace it with a single instance (our choice: reject, 400 and close, so no front end that reads it otherwise is desynchronised)";
    private const string NotFinal = "RFC 9112 §6.3: If a Transfer-Encoding header field is present in a request and the chunked transfer coding is not the final encoding, the message body length cannot be determined reliably; the server MUST respond with the 400 (Bad Request) status code and then close the connection";
    private const string Unknown = "RFC 9112 §6.1: A server that receives a request message with a transfer coding it does not understand SHOULD respond with 501 (Not Implemented)";
    private const string Twice = "RFC 9112 §6.1: A sender MUST NOT apply the chunked transfer coding more than once to a message body";
    private const string ChunkedOk = "RFC 9112 §7: transfer-coding names are case-insensitive; chunked is the final coding; RFC 9110 §5.6.1: a recipient MUST parse and ignore a reasonable number of empty list elements";
    private const string FiveHello = "5\r\nhello\r\n0\r\n\r\n";

    public static IEnumerable<ConformanceCase> All()
    {
        // Content-Length alone
        yield return new("9112-6.3 Content-Length body is read exactly", PostLength("hello"), 200, After.Open,
            "RFC 9112 §6.3: If a valid Content-Length header field is present without Transfer-Encoding, its decimal value defines the expected message body length in octets", BodyLength: 5);
        yield return new("9112-6.3 Content-Length 0", Post("Content-Length: 0\r\n", ""), 200, After.Open,
            "RFC 9112 §6.3: its decimal value defines the expected message body length", BodyLength: 0);
        yield return new("9112-6.3 no framing fields means no body", Get(), 200, After.Open,
            "RFC 9112 §6.3: If this is a request message and none of the above are true, then the message body length is zero", BodyLength: 0);
        yield return new("9110-9.3.1 GET with a Content-Length body is framed by it", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 200, After.Open,
            "RFC 9112 §6: The presence of a message body in a request is signaled by a Content-Length or Transfer-Encoding header field", BodyLength: 3);
        yield return new("9110-8.6 leading zeros in Content-Length", Post("Content-Length: 0005\r\n", "hello"), 200, After.Open,
            "RFC 9110 §8.6: Content-Length = 1*DIGIT (leading zeros are digits)", BodyLength: 5);
        yield return new("9110-8.6 OWS around Content-Length", Post("Content-Length: \t5 \t\r\n", "hello"), 200, After.Open,
            "RFC 9112 §5: field-line = field-name \":\" OWS field-value OWS", BodyLength: 5);
        foreach ((string name, string value) in new[]
        {
            ("plus sign", "+5"), ("minus sign", "-5"), ("hex", "0x5"), ("decimal point", "5.0"), ("exponent", "5e0"), ("empty", ""),
            ("inner space", "5 5"), ("trailing letters", "5abc"), ("fullwidth digit", "\xEF\xBC\x95"), ("vertical tab", "5\x0B"),
            ("form feed", "\x0C" + "5"), ("NUL", "5\0"), ("trailing comma", "5,"), ("leading comma", ",5"), ("only commas", ",,"),
            ("2^63 overflows a long", "9223372036854775808"), ("2^64 overflows 64 bits", "18446744073709551616"),
            ("2^64+5 wraps to 5 in 64 bits", "18446744073709551621"), ("40 digits", new string('9', 40)), ("negative zero", "-0"),
            ("quoted", "\"5\""), ("semicolon parameter", "5;x=y"),
        })
        {
            yield return new($"9110-8.6 invalid Content-Length ({name})", Post($"Content-Length: {value}\r\n", "hello"), 400, After.Closed,
                InvalidCl + " (RFC 9110 §8.6: Content-Length = 1*DIGIT; a recipient MUST anticipate potentially large decimal numerals and prevent parsing errors due to integer conversion overflows)");
        }
        yield return new("9110-8.6 largest long Content-Length gets 413", Post("Content-Length: 9223372036854775807\r\n", "hello"), 413, After.Closed,
            "RFC 9110 §15.5.14: 413 (Content Too Large) ... the server MAY terminate the request, if the protocol version in use allows it; otherwise, the server MAY close the connection");
        yield return new("9110-15.5.14 body over the server limit gets 413", Post("Content-Length: 40000000\r\n", "hello"), 413, After.Closed,
            "RFC 9110 §15.5.14: the request content is larger than the server is willing or able to process");
        yield return new("9110-15.5.14 body over the handler's limit gets 413", Post("Content-Length: 2000000\r\n", "hello"), 413, After.Closed,
            "RFC 9110 §15.5.14: 413; the unread body leaves the framing unknown, so the connection closes");

        // Duplicate and comma-listed Content-Length
        foreach ((string name, string fields) in new[]
        {
            ("duplicate equal Content-Length fields", "Content-Length: 5\r\nContent-Length: 5\r\n"),
            ("comma-listed equal Content-Length", "Content-Length: 5, 5\r\n"),
            ("comma-listed equal Content-Length without space", "Content-Length: 5,5,5\r\n"),
            ("equal Content-Length differing by leading zeros", "Content-Length: 5, 05\r\n"),
            ("duplicate equal Content-Length fields differing by leading zeros", "Content-Length: 5\r\nContent-Length: 005\r\n"),
        })
        {
            yield return new($"9110-8.6 {name} is refused", Post(fields, "hello"), 400, After.Closed, ListCl);
        }
        yield return new("9112-6.3 duplicate different Content-Length fields", Post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400, After.Closed, InvalidCl);
        yield return new("9112-6.3 duplicate different Content-Length fields, smaller second", Post("Content-Length: 6\r\nContent-Length: 5\r\n", "hello!"), 400, After.Closed, InvalidCl);
        yield return new("9112-6.3 comma-listed different Content-Length", Post("Content-Length: 5, 6\r\n", "hello!"), 400, After.Closed, InvalidCl);
        yield return new("9112-6.3 comma-listed with an invalid member", Post("Content-Length: 5, x\r\n", "hello"), 400, After.Closed, InvalidCl);
        yield return new("9112-6.3 Content-Length 0 then 5", Post("Content-Length: 0\r\nContent-Length: 5\r\n", "hello"), 400, After.Closed, InvalidCl);

        // Content-Length with Transfer-Encoding, in every order
        yield return new("9112-6.3 Content-Length then Transfer-Encoding", Post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", FiveHello), 400, After.Closed, ClAndTe);
        yield return new("9112-6.3 Transfer-Encoding then Content-Length", Post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", FiveHello), 400, After.Closed, ClAndTe);
        yield return new("9112-6.3 Content-Length between two Transfer-Encoding fields", Post("Transfer-Encoding: gzip\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", FiveHello), 400, After.Closed, ClAndTe);
        yield return new("9112-6.3 Transfer-Encoding between two Content-Length fields", Post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n", FiveHello), 400, After.Closed, ClAndTe);
        yield return new("9112-6.3 Content-Length 0 with Transfer-Encoding", Post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", FiveHello), 400, After.Closed, ClAndTe);
        yield return new("9112-6.3 Content-Length with an invalid Transfer-Encoding", Post("Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n", "hello"), 400, After.Closed, ClAndTe);
        yield return new("9112-6.3 Content-Length with an empty Transfer-Encoding", Post("Content-Length: 5\r\nTransfer-Encoding:\r\n", "hello"), 400, After.Closed, ClAndTe);
        yield return new("9112-6.1 HTTP/1.0 with Transfer-Encoding", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + FiveHello, 400, After.Closed,
            "RFC 9112 §6.1: A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding header field MUST treat the message as if the framing is faulty ... and close the connection");
        yield return new("9112-6.1 HTTP/1.0 with Transfer-Encoding and Content-Length", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", 400, After.Closed,
            "RFC 9112 §6.1: ... MUST treat the message as if the framing is faulty, even if a Content-Length is present, and close the connection");

        // Transfer-Encoding variants
        foreach ((string name, string value) in new[]
        {
            ("chunked", "chunked"), ("upper case CHUNKED", "CHUNKED"), ("mixed case cHuNkEd", "cHuNkEd"), ("leading comma", ", chunked"),
            ("trailing comma", "chunked,"), ("commas around", ",,chunked,,"), ("HTAB around", "\tchunked\t"), ("SP around", "  chunked  "),
        })
        {
            yield return new($"9112-6.1 Transfer-Encoding '{ResponseStream.Escape(value)}' ({name}) is chunked", Post($"Transfer-Encoding: {value}\r\n", FiveHello), 200, After.Open, ChunkedOk, BodyLength: 5);
        }
        yield return new("9112-6.1 Transfer-Encoding split over two fields, chunked last, other coding first", Post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", FiveHello), 501, After.Closed, Unknown);
        yield return new("9112-6.1 Transfer-Encoding split over two fields, chunked twice", Post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", FiveHello), 400, After.Closed, Twice);
        yield return new("9112-6.1 Transfer-Encoding split over two fields, chunked first", Post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", FiveHello), 400, After.Closed, NotFinal);
        yield return new("9112-6.1 Transfer-Encoding split with an empty second field", Post("Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", FiveHello), 200, After.Open, ChunkedOk + " (an empty field line adds no element)", BodyLength: 5);
        yield return new("9112-6.1 Transfer-Encoding chunked, chunked", Post("Transfer-Encoding: chunked, chunked\r\n", FiveHello), 400, After.Closed, Twice);
        yield return new("9112-6.3 Transfer-Encoding chunked, gzip", Post("Transfer-Encoding: chunked, gzip\r\n", FiveHello), 400, After.Closed, NotFinal);
        yield return new("9112-6.1 Transfer-Encoding gzip, chunked", Post("Transfer-Encoding: gzip, chunked\r\n", FiveHello), 501, After.Closed, Unknown);
        yield return new("9112-6.1 Transfer-Encoding identity, chunked", Post("Transfer-Encoding: identity, chunked\r\n", FiveHello), 501, After.Closed, Unknown + " (identity is no longer a transfer coding)");
        foreach ((string name, string value) in new[]
        {
            ("xchunked", "xchunked"), ("chunkedx", "chunkedx"), ("chunk", "chunk"), ("gzip", "gzip"), ("identity", "identity"),
            ("chunked with a parameter", "chunked;x=y"), ("chunked with a space parameter", "chunked ; x=y"), ("empty value", ""), ("only commas", ", ,"),
            ("quoted chunked", "\"chunked\""), ("chunked with inner space", "chun ked"), ("chunked with VT", "chunked\x0B"), ("chunked with FF", "\x0C" + "chunked"),
            ("chunked with NUL", "chunked\0"), ("chunked with CR", "chunked\rx"), ("chunked with DEL", "chunked\x7F"), ("chunked with obs-text", "chunked\xA0"),
            ("chunked in non-ASCII look-alike", "ch\xC3\xBCnked"), ("chunked, slash", "chunked/1"),
        })
        {
            yield return new($"9112-6.3 Transfer-Encoding '{ResponseStream.Escape(value)}' ({name})", Post($"Transfer-Encoding: {value}\r\n", FiveHello), 400, After.Closed,
                NotFinal + " (an invalid or empty coding is not chunked; CTLs in a value are invalid per RFC 9110 §5.5)");
        }

        // A request hidden in a body is only body
        string hidden = Smuggled;
        yield return new("9112-6.3 a request inside a Content-Length body is body", PostLength(hidden), 200, After.Open,
            "RFC 9112 §6.3: Content-Length defines the expected message body length in octets; those octets are body, whatever they look like", BodyLength: hidden.Length);
        yield return new("9112-7.1 a request inside chunk data is body", Chunked($"{hidden.Length:x}\r\n{hidden}\r\n0\r\n\r\n"), 200, After.Open,
            "RFC 9112 §7.1: chunk-data = 1*OCTET ; a sequence of chunk-size octets", BodyLength: hidden.Length);
        yield return new("9112-6.3 Content-Length shorter than a pipelined body splits where it says", Post("Content-Length: 0\r\n", ""), 200, After.Open,
            "RFC 9112 §6.3: the decimal value defines the expected message body length (0: the next bytes are the next request)", BodyLength: 0);
    }
}

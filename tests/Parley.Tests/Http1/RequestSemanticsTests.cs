using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Host, Content-Length, Transfer-Encoding, Connection and Expect (RFC 9112 §3.2, §6, §9.3; RFC 9110 §7-§10).</summary>
public class RequestSemanticsTests
{
    // ---- Host ----

    [Fact]
    public void Rejects_an_HTTP11_request_without_Host_with_400() => Rejects("GET / HTTP/1.1\r\n\r\n", 400); // RFC 9112 §3.2

    [Fact]
    public void Accepts_an_HTTP10_request_without_Host() // RFC 9112 §3.2: the MUST applies to HTTP/1.1
    {
        RequestHead head = Accepts("GET / HTTP/1.0\r\n\r\n");
        Assert.Equal(HttpVersion.Http10, head.Version);
        Assert.Equal("", Latin1(head.Host));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n")]
    public void Rejects_more_than_one_Host_line_with_400(string request) => Rejects(request, 400); // RFC 9112 §3.2

    [Theory]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a@b")]
    [InlineData("x:80a")]
    [InlineData("x:123456")]
    [InlineData("a:b:80")]
    [InlineData(":80")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("a, b")]
    [InlineData("caf\u00e9")]
    [InlineData("a%zz")]         // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG
    [InlineData("a%2")]
    [InlineData("%")]
    public void Rejects_an_invalid_Host_with_400(string host) => Rejects($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", 400); // RFC 9112 §3.2

    [Theory]
    [InlineData("example.com")]
    [InlineData("example.com:8080")]
    [InlineData("127.0.0.1:80")]
    [InlineData("[::1]:8080")]
    [InlineData("[::1]")]
    [InlineData("x:")]                  // RFC 3986 §3.2.3: an empty port means the default
    [InlineData("xn--caf-dma.example")]
    [InlineData("a%2Db.example")]       // RFC 3986 §3.2.2: reg-name may be percent-encoded
    public void Accepts_a_valid_Host(string host) // RFC 9110 §7.2
    {
        RequestHead head = Accepts($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.Equal(host, Latin1(head.Host));
    }

    [Fact]
    public void Rejects_an_empty_Host_with_400_when_the_server_has_no_default() // RFC 9112 §3.3: reject or use a default
    {
        Rejects("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
        Rejects("GET / HTTP/1.1\r\nHost: \r\n\r\n", 400);
        Rejects("POST / HTTP/1.1\r\nHost:\r\nContent-Length: 1\r\n\r\nx", 400);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost:\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost:\r\nContent-Length: 1\r\n\r\n")]
    public void Accepts_an_empty_Host_when_the_server_has_a_default(string request) // RFC 9112 §3.3
    {
        var head = new RequestHead { EmptyHostAllowed = true };
        head.Reset();
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.Parse(Bytes(request), head, HeadLimits.Default, out _));
        Assert.Equal("", Latin1(head.Host));
        Assert.True(head.EmptyHostAllowed);
    }

    // ---- Content-Length ----

    [Theory]
    [InlineData("0", 0, BodyFraming.None)]
    [InlineData("5", 5, BodyFraming.ContentLength)]
    [InlineData("007", 7, BodyFraming.ContentLength)]                  // 1*DIGIT: leading zeros are digits
    [InlineData("9223372036854775807", long.MaxValue, BodyFraming.ContentLength)]
    public void Accepts_a_valid_Content_Length(string value, long length, object framingValue) // RFC 9110 §8.6 (object: BodyFraming is internal)
    {
        var framing = (BodyFraming)framingValue;
        RequestHead head = Accepts($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\n");
        Assert.Equal(length, head.ContentLength);
        Assert.Equal(framing, head.Framing);
    }

    [Theory]
    [InlineData("Content-Length: 5, 5")]
    [InlineData("Content-Length: 42,42,42")]
    [InlineData("Content-Length: 5\r\nContent-Length: 5")]
    [InlineData("Content-Length: 3\r\ncontent-length: 003")]
    [InlineData("Content-Length: 0\r\nContent-Length: 0")]
    public void Rejects_a_list_or_repetition_of_identical_Content_Length_values_with_400(string lines) => // RFC 9110 §8.6: MAY reject; we do
        Rejects($"POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n\r\n", 400);

    [Theory]
    [InlineData("Content-Length: 1\r\nContent-Length: 2")]
    [InlineData("Content-Length: 42, 43")]
    [InlineData("Content-Length: +1")]
    [InlineData("Content-Length: -1")]
    [InlineData("Content-Length: 1 2")]
    [InlineData("Content-Length: 0x10")]
    [InlineData("Content-Length: a")]
    [InlineData("Content-Length: 1x")]
    [InlineData("Content-Length: 1.0")]
    [InlineData("Content-Length: 9223372036854775808")]   // one past long.MaxValue
    [InlineData("Content-Length: 99999999999999999999")]
    [InlineData("Content-Length:")]
    [InlineData("Content-Length: 42,")]
    [InlineData("Content-Length: ,42")]
    public void Rejects_an_invalid_or_conflicting_Content_Length_with_400(string lines) => // RFC 9110 §8.6, RFC 9112 §6.3 (5)
        Rejects($"POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n\r\n", 400);

    [Fact]
    public void A_request_without_Content_Length_or_Transfer_Encoding_has_no_body() // RFC 9112 §6.3 (7)
    {
        RequestHead head = Accepts("POST / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.Equal(-1, head.ContentLength);
    }

    // ---- Transfer-Encoding ----

    [Theory]
    [InlineData("chunked")]
    [InlineData("CHUNKED")]            // RFC 9112 §7: transfer-coding names are case-insensitive
    [InlineData("Chunked")]
    [InlineData(", chunked")]          // RFC 9110 §5.6.1: empty list elements are ignored
    [InlineData("chunked ,")]
    [InlineData(" , ,chunked")]
    public void Accepts_chunked_as_the_only_transfer_coding(string value) // RFC 9112 §6.1
    {
        RequestHead head = Accepts($"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {value}\r\n\r\n");
        Assert.Equal(BodyFraming.Chunked, head.Framing);
        Assert.Equal(-1, head.ContentLength);
    }

    [Fact]
    public void Rejects_Transfer_Encoding_with_Content_Length_with_400() => // RFC 9112 §6.3 (3): MAY reject; we do
        Rejects("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400);

    [Fact]
    public void Rejects_Content_Length_after_Transfer_Encoding_with_400() => // RFC 9112 §6.3 (3)
        Rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400);

    [Fact]
    public void Rejects_Transfer_Encoding_in_an_HTTP10_request_with_400() => // RFC 9112 §6.1: faulty framing
        Rejects("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);

    [Theory]
    [InlineData("Transfer-Encoding: chunked, chunked")]          // RFC 9112 §7: MUST NOT apply chunked more than once
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: chunked, gzip")]             // RFC 9112 §6.3 (4): final coding not chunked
    [InlineData("Transfer-Encoding: gzip")]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip")]
    [InlineData("Transfer-Encoding: xchunked")]
    [InlineData("Transfer-Encoding: chunkedx")]
    [InlineData("Transfer-Encoding: chunked;x=y")]              // no parameters are defined for chunked
    [InlineData("Transfer-Encoding: chunked ;x=y")]
    [InlineData("Transfer-Encoding: \"chunked\"")]
    [InlineData("Transfer-Encoding:")]                           // empty
    [InlineData("Transfer-Encoding: ,")]
    [InlineData("Transfer-Encoding: chunked\u000b")]
    public void Rejects_a_Transfer_Encoding_that_does_not_end_in_exactly_one_chunked_with_400(string lines) => // RFC 9112 §6.1, §6.3, §7
        Rejects($"POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n\r\n", 400);

    [Theory]
    [InlineData("Transfer-Encoding: gzip, chunked")]
    [InlineData("Transfer-Encoding: deflate,chunked")]
    [InlineData("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked")]   // one list split over two lines (RFC 9110 §5.3)
    public void Answers_501_to_a_transfer_coding_we_do_not_implement_before_chunked(string lines) => // RFC 9112 §6.1
        Rejects($"POST / HTTP/1.1\r\nHost: x\r\n{lines}\r\n\r\n", 501);

    // ---- Connection ----

    [Theory]
    [InlineData("HTTP/1.1", "", true)]                           // RFC 9112 §9.3: 1.1 persists by default
    [InlineData("HTTP/1.1", "Connection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: CLOSE\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.1", "Connection: upgrade, close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: x\r\nConnection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: closed\r\n", true)]     // a different option, not "close"
    [InlineData("HTTP/1.0", "", false)]                          // 1.0 closes unless asked
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: Keep-Alive\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: keep-alive, close\r\n", false)]
    [InlineData("HTTP/1.0", "Connection: close\r\n", false)]
    public void Decides_keep_alive_from_version_and_Connection(string version, string fields, bool keepAlive) // RFC 9112 §9.3
    {
        RequestHead head = Accepts($"GET / {version}\r\nHost: x\r\n{fields}\r\n");
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    // ---- Expect ----

    [Theory]
    [InlineData("100-continue")]
    [InlineData("100-Continue")]
    public void Notes_Expect_100_continue_in_HTTP11(string value) // RFC 9110 §10.1.1
    {
        RequestHead head = Accepts($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: {value}\r\n\r\n");
        Assert.True(head.ExpectContinue);
    }

    [Fact]
    public void Ignores_Expect_100_continue_in_HTTP10() // RFC 9110 §10.1.1: MUST ignore in an HTTP/1.0 request
    {
        RequestHead head = Accepts("POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        Assert.False(head.ExpectContinue);
    }

    [Fact]
    public void Does_not_expect_continue_without_Expect() // RFC 9110 §10.1.1
    {
        Assert.False(Accepts("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n").ExpectContinue);
    }

    [Theory]
    [InlineData("Expect: something")]
    [InlineData("Expect: 100-continue, foo")]
    [InlineData("Expect: 200-ok")]
    [InlineData("Expect:")]                      // our choice: an empty expectation is not 100-continue either
    public void Answers_417_to_an_expectation_other_than_100_continue(string line) => // RFC 9110 §10.1.1: MAY answer 417
        Rejects($"POST / HTTP/1.1\r\nHost: x\r\n{line}\r\n\r\n", 417);
}

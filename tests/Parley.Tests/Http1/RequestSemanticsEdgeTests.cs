using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>
/// The head rules on both of their paths: requests without body fields, and requests with Content-Length,
/// Transfer-Encoding or Expect (RFC 9112 §3.2, §6.1-§6.3, §9.3; RFC 9110 §7.2, §8.6).
/// </summary>
public class RequestSemanticsEdgeTests
{
    [Theory]
    [InlineData("HTTP/1.1", "", true)]
    [InlineData("HTTP/1.1", "Connection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.0", "", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: foo, keep-alive\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: foo, bar\r\n", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive, close\r\n", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\nConnection: close\r\n", false)]
    public void Decides_keep_alive_the_same_with_a_body(string version, string fields, bool keepAlive) // RFC 9112 §9.3
    {
        Assert.Equal(keepAlive, Accepts($"POST / {version}\r\nHost: x\r\n{fields}Content-Length: 0\r\n\r\n").KeepAlive);
        Assert.Equal(keepAlive, Accepts($"GET / {version}\r\nHost: x\r\n{fields}\r\n").KeepAlive);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Content-Length: 0\r\n")]
    public void Reads_a_Connection_field_on_the_first_line(string body) => // RFC 9112 §9.6
        Assert.False(Accepts($"GET / HTTP/1.1\r\nConnection: close\r\nHost: x\r\n{body}\r\n").KeepAlive);

    [Theory] // RFC 9112 §3.2: 400 for a missing, repeated or invalid Host, with a body as without
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "more than one Host field")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "missing Host field")]
    [InlineData("POST / HTTP/1.1\r\nHost: a b\r\nContent-Length: 0\r\n\r\n", "invalid Host field")]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", "Content-Length is a list")] // RFC 9110 §8.6
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", "invalid Content-Length")]
    public void Rejections_with_a_body_name_what_was_wrong(string request, string reason)
    {
        Rejects(request, 400);
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Invalid, RequestHeadParser.Parse(Bytes(request), head, HeadLimits.Default, out HttpError error));
        Assert.Equal(reason, error.Reason);
    }

    [Fact]
    public void Expect_without_a_body_field_frames_no_body() // RFC 9112 §6.3 (7)
    {
        RequestHead head = Accepts("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.True(head.ExpectContinue);
        Assert.True(head.KeepAlive);
    }

    [Fact]
    public void Reads_a_Transfer_Encoding_field_on_the_first_line() => // RFC 9112 §6.1
        Assert.Equal(BodyFraming.Chunked, Accepts("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: x\r\n\r\n").Framing);

    [Theory] // RFC 9112 §6.1: a coding we do not implement before chunked gets 501, however many there are
    [InlineData("gzip, chunked")]
    [InlineData("gzip, deflate, chunked")]
    [InlineData("gzip\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked")]
    public void Unsupported_codings_before_chunked_get_501(string value) =>
        Rejects($"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {value}\r\n\r\n", 501);
}

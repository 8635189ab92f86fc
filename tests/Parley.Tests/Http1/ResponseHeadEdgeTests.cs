using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>The status line at its limits, the reasons its rejections name, and framing edges (RFC 9112 §4, §6.3).</summary>
public class ResponseHeadEdgeTests
{
    private static (ParseStatus Status, string? Reason, ResponseHead Head) Parse(string response, HeadLimits? limits = null)
    {
        var head = new ResponseHead();
        head.Reset();
        ParseStatus status = ResponseHeadParser.Parse(Bytes(response), head, limits ?? HeadLimits.Default, out HttpError error);
        return (status, status == ParseStatus.Invalid ? error.Reason : null, head);
    }

    [Fact]
    public void A_status_line_may_be_as_long_as_the_head_limit()
    {
        var limits = new HeadLimits { MaxHeadBytes = 15 };
        Assert.Equal(ParseStatus.NeedMoreData, Parse("HTTP/1.1 200 OK", limits).Status);
        var (status, reason, _) = Parse("HTTP/1.1 200 OKX", limits);
        Assert.Equal((ParseStatus.Invalid, "status line too long"), (status, reason));
    }

    [Theory]
    [InlineData("HTTP/2 \r\n\r\n", "unsupported HTTP version in the status line")]
    [InlineData("HTTP/2.0 \r\n\r\n", "unsupported HTTP version in the status line")]
    [InlineData("XTTP/2 200 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/2xy 200 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/2.x 200 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/2x0 200 OK\r\n\r\n", "malformed status line")]   // no '.' after the major digit
    [InlineData("HTTP/2.0\r\n\r\n", "malformed status line")]          // no SP after the version
    [InlineData("HTTP/1.1 1000 OK\r\n\r\n", "malformed status code")]
    public void Status_line_rejections_name_what_was_wrong(string response, string reason) // RFC 9112 §2.3, §4
    {
        var (status, actual, _) = Parse(response);
        Assert.Equal((ParseStatus.Invalid, reason), (status, actual));
    }

    [Fact]
    public void Accepts_status_999() // RFC 9112 §4: status-code = 3DIGIT
    {
        var (status, _, head) = Parse("HTTP/1.1 999 X\r\n\r\n");
        Assert.Equal(ParseStatus.Complete, status);
        Assert.Equal(999, head.StatusCode);
    }

    private static (bool Ok, BodyFraming Framing, long Length) Framing(string response, string method = "GET")
    {
        var (status, _, head) = Parse(response);
        Assert.Equal(ParseStatus.Complete, status);
        bool ok = ResponseHeadParser.TryGetFraming(head, System.Text.Encoding.ASCII.GetBytes(method), out BodyFraming framing, out long length, out _);
        return (ok, framing, length);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", "GET")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD")]
    public void A_response_without_a_body_has_no_length(string response, string method) => // RFC 9112 §6.3 (1)
        Assert.Equal((true, BodyFraming.None, -1L), Framing(response, method));

    [Fact]
    public void A_300_answer_to_CONNECT_is_framed_as_usual() => // RFC 9112 §6.3 (2): only 2xx makes a tunnel
        Assert.Equal((true, BodyFraming.ContentLength, 5L), Framing("HTTP/1.1 300 X\r\nContent-Length: 5\r\n\r\n", "CONNECT"));

    [Fact]
    public void Content_length_before_transfer_encoding_is_refused() => // RFC 9112 §6.3 (3)
        Assert.False(Framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").Ok);

    [Fact]
    public void A_transfer_encoding_of_empty_elements_reads_until_close() => // RFC 9110 §5.6.1; RFC 9112 §6.3 (4)
        Assert.Equal((true, BodyFraming.UntilClose, -1L), Framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n"));

    [Fact]
    public void A_zero_content_length_conflicting_with_another_is_refused() => // RFC 9112 §6.3 (5)
        Assert.False(Framing("HTTP/1.1 200 OK\r\nContent-Length: 0, 5\r\n\r\n").Ok);

    [Fact]
    public void Reset_forgets_the_fields()
    {
        var (_, _, head) = Parse("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n");
        Assert.Equal(1, head.Fields.Count);
        head.Reset();
        Assert.Equal(0, head.Fields.Count);
    }

    [Fact]
    public void A_new_request_head_has_no_content_length() => Assert.Equal(-1, new RequestHead().ContentLength);

    [Fact]
    public void An_extension_method_string_is_made_once()
    {
        RequestHead head = Accepts("PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Same(head.Method, head.Method);
    }

    [Fact]
    public void An_authority_form_target_has_no_query() // RFC 9112 §3.2.3
    {
        RequestHead head = Accepts("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Assert.Equal("", Latin1(head.RawQuery));
        Assert.Equal("", Latin1(head.RawPath));
    }
}

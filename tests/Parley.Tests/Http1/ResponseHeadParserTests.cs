using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Response heads as a client reads them (RFC 9112 §4) and the framing of their bodies (RFC 9112 §6.3).</summary>
public class ResponseHeadParserTests
{
    private static ResponseHead AcceptsResponse(string response)
    {
        var (outcome, head) = Response(response);
        Assert.True(outcome.Status == ParseStatus.Complete, $"expected Complete, got {outcome}");
        return head;
    }

    private static void RejectsResponse(string response)
    {
        var (outcome, _) = Response(response);
        Assert.True(outcome.Status == ParseStatus.Invalid, $"expected Invalid, got {outcome}");
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", HttpVersion.Http11, 200, "OK")]
    [InlineData("HTTP/1.0 404 Not Found\r\n\r\n", HttpVersion.Http10, 404, "Not Found")]
    [InlineData("HTTP/1.1 599 Whatever You Like\r\n\r\n", HttpVersion.Http11, 599, "Whatever You Like")]
    [InlineData("HTTP/1.1 200 \r\n\r\n", HttpVersion.Http11, 200, "")]         // empty reason phrase
    [InlineData("HTTP/1.1 200\r\n\r\n", HttpVersion.Http11, 200, "")]          // missing SP and reason: accepted leniently
    [InlineData("HTTP/1.1 200 caf\u00e9\tok\r\n\r\n", HttpVersion.Http11, 200, "caf\u00e9\tok")] // obs-text and HTAB
    [InlineData("HTTP/1.2 200 OK\r\n\r\n", HttpVersion.Http11, 200, "OK")]    // RFC 9110 §2.5: higher minor as 1.1
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", HttpVersion.Http11, 100, "Continue")]
    public void Parses_status_line_variants(string response, object version, int status, string reason) // RFC 9112 §4 (object: HttpVersion is internal)
    {
        ResponseHead head = AcceptsResponse(response);
        Assert.Equal((HttpVersion)version, head.Version);
        Assert.Equal(status, head.StatusCode);
        Assert.Equal(reason, Latin1(head.ReasonPhrase));
        Assert.Equal(response.Length, head.HeadLength);
    }

    [Theory]
    [InlineData("\r\nHTTP/1.1 200 OK\r\n\r\n", 1)]
    [InlineData("\r\n\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 4)]
    public void Skips_up_to_four_empty_lines_before_the_status_line(string response, int emptyLines) // RFC 9112 §2.2 robustness
    {
        ResponseHead head = AcceptsResponse(response);
        Assert.Equal(response.Length, head.HeadLength);
        Assert.Equal(response[(2 * emptyLines + 13)..response.IndexOf('\r', 2 * emptyLines)], Latin1(head.ReasonPhrase));
    }

    [Fact]
    public void Rejects_a_fifth_empty_line_before_the_status_line() => // bounded, as before a request line
        RejectsResponse("\r\n\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");

    [Theory]
    [InlineData("HTTP/0.9 200 OK\r\n\r\n")]
    [InlineData("HTTP/2.0 200 OK\r\n\r\n")]
    [InlineData("HTTP/2 200 OK\r\n\r\n")]
    public void Reports_another_major_version_as_unsupported_not_malformed(string response) // RFC 9112 §2.3
    {
        var head = new ResponseHead();
        Assert.Equal(ParseStatus.Invalid, ResponseHeadParser.Parse(Bytes(response), head, HeadLimits.Default, out HttpError error));
        Assert.Equal("unsupported HTTP version in the status line", error.Reason);
    }

    [Theory]
    [InlineData("HTTP/2.0 200 OK\r\n\r\n")]
    [InlineData("http/1.1 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1  200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n")]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 O\u0001K\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\nX: y\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX : y\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX: y\r\n folded\r\n\r\n")]
    [InlineData("ICY 200 OK\r\n\r\n")]
    public void Rejects_a_malformed_response_head(string response) => RejectsResponse(response); // RFC 9112 §4, §5

    [Theory]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n")]                   // status line
    [InlineData("HTTP/1.1 200 OK\r\nX : y\r\n\r\n")]          // field line (rules shared with requests)
    public void A_response_error_is_an_error_a_gateway_answers_with_502(string response) // RFC 9110 §15.6.3
    {
        var head = new ResponseHead();
        Assert.Equal(ParseStatus.Invalid, ResponseHeadParser.Parse(Bytes(response), head, HeadLimits.Default, out HttpError error));
        Assert.True(error.IsError);
        Assert.Equal(502, error.StatusCode);
        Assert.NotEmpty(error.Reason);
    }

    [Fact]
    public void Parses_response_fields_with_the_request_rules() // RFC 9112 §5: one field parser for both roles
    {
        ResponseHead head = AcceptsResponse("HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
        Assert.Equal(3, head.Fields.Count);
        Assert.Equal("text/plain", head.Fields.GetValue("content-type"));
        Assert.Equal(["a=1", "b=2"], head.Fields.GetValues("Set-Cookie"));
    }

    [Fact]
    public void Rejects_a_never_ending_status_line() // bounded buffering
    {
        var limits = new HeadLimits { MaxHeadBytes = 64 };
        var head = new ResponseHead();
        Assert.Equal(ParseStatus.Invalid, ResponseHeadParser.Parse(Bytes("HTTP/1.1 200 " + new string('x', 80)), head, limits, out _));
        head.Reset();
        Assert.Equal(ParseStatus.NeedMoreData, ResponseHeadParser.Parse(Bytes("HTTP/1.1 200 " + new string('x', 40)), head, limits, out _));
    }

    [Fact]
    public void Every_strict_prefix_of_a_valid_response_needs_more_data() // RFC 9112 §2.1
    {
        byte[] input = Bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Empty:\r\n\r\n");
        for (int length = 0; length < input.Length; length++)
        {
            var head = new ResponseHead();
            Assert.Equal(ParseStatus.NeedMoreData, ResponseHeadParser.Parse(input[..length], head, HeadLimits.Default, out _));
        }
    }

    // ---- framing, RFC 9112 §6.3 ----

    private static (BodyFraming Framing, long Length) Framing(string response, bool requestWasHead = false)
    {
        ResponseHead head = AcceptsResponse(response);
        Assert.True(ResponseHeadParser.TryGetFraming(head, requestWasHead, out BodyFraming framing, out long length, out HttpError error), error.Reason);
        return (framing, length);
    }

    private static void FramingFails(string response)
    {
        ResponseHead head = AcceptsResponse(response);
        Assert.False(ResponseHeadParser.TryGetFraming(head, false, out _, out _, out HttpError error));
        Assert.NotEmpty(error.Reason);
        Assert.Equal(502, error.StatusCode);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(204)]
    public void A_2xx_answer_to_CONNECT_starts_a_tunnel_and_has_no_body(int status) // RFC 9112 §6.3 (2)
    {
        // Its Content-Length and Transfer-Encoding MUST be ignored, even when they contradict each other.
        ResponseHead head = AcceptsResponse($"HTTP/1.1 {status} X\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n");
        Assert.True(ResponseHeadParser.TryGetFraming(head, "CONNECT"u8, out BodyFraming framing, out _, out HttpError error), error.Reason);
        Assert.Equal(BodyFraming.None, framing);
    }

    [Fact]
    public void A_refused_CONNECT_is_framed_like_any_response() // RFC 9112 §6.3: only 2xx makes a tunnel
    {
        ResponseHead head = AcceptsResponse("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 10\r\n\r\n");
        Assert.True(ResponseHeadParser.TryGetFraming(head, "CONNECT"u8, out BodyFraming framing, out long length, out _));
        Assert.Equal((BodyFraming.ContentLength, 10L), (framing, length));
    }

    [Fact]
    public void A_response_to_HEAD_has_no_body_whatever_its_fields_say() => // RFC 9112 §6.3 (1)
        Assert.Equal(BodyFraming.None, Framing("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", requestWasHead: true).Framing);

    [Theory]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(103)]
    [InlineData(204)]
    [InlineData(304)]
    public void Informational_204_and_304_responses_have_no_body(int status) => // RFC 9112 §6.3 (1)
        Assert.Equal(BodyFraming.None, Framing($"HTTP/1.1 {status} X\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n").Framing);

    [Theory]
    [InlineData("Transfer-Encoding: chunked", BodyFraming.Chunked)]
    [InlineData("Transfer-Encoding: gzip, chunked", BodyFraming.Chunked)]
    [InlineData("Transfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED", BodyFraming.Chunked)]
    [InlineData("Transfer-Encoding: chunked, gzip", BodyFraming.UntilClose)]   // §6.3 (4): not chunked last: read until close
    [InlineData("Transfer-Encoding: gzip", BodyFraming.UntilClose)]
    [InlineData("Transfer-Encoding: chunked,", BodyFraming.Chunked)]          // RFC 9110 §5.6.1: empty list elements are ignored
    [InlineData("Transfer-Encoding: chunked , ", BodyFraming.Chunked)]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding:", BodyFraming.Chunked)]
    public void Transfer_Encoding_decides_the_framing_of_a_response(string field, object expected) => // RFC 9112 §6.3 (4) (object: BodyFraming is internal)
        Assert.Equal((BodyFraming)expected, Framing($"HTTP/1.1 200 OK\r\n{field}\r\n\r\n").Framing);

    [Fact]
    public void Rejects_a_response_with_both_Transfer_Encoding_and_Content_Length() => // RFC 9112 §6.3 (3): smuggling defence
        FramingFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");

    [Theory]
    [InlineData("Transfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5")]
    public void Rejects_Transfer_Encoding_in_an_HTTP10_response_as_faulty_framing(string field) => // RFC 9112 §6.1: MUST treat as faulty
        FramingFails($"HTTP/1.0 200 OK\r\n{field}\r\n\r\n");

    [Theory]
    [InlineData("Content-Length: 5", BodyFraming.ContentLength, 5)]
    [InlineData("Content-Length: 5, 5\r\nContent-Length: 5", BodyFraming.ContentLength, 5)] // RFC 9110 §8.6
    [InlineData("Content-Length: 0", BodyFraming.None, 0)]
    public void Content_Length_frames_a_response(string field, object framing, long length) // RFC 9112 §6.3 (6) (object: BodyFraming is internal)
    {
        Assert.Equal(((BodyFraming)framing, length), Framing($"HTTP/1.1 200 OK\r\n{field}\r\n\r\n"));
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 6")]
    [InlineData("Content-Length: 5, 6")]
    [InlineData("Content-Length: -5")]
    [InlineData("Content-Length: abc")]
    [InlineData("Content-Length:")]
    public void Rejects_an_invalid_Content_Length_in_a_response(string field) => // RFC 9112 §6.3 (5): unrecoverable
        FramingFails($"HTTP/1.1 200 OK\r\n{field}\r\n\r\n");

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n")]
    public void A_response_without_framing_fields_runs_until_close(string response) => // RFC 9112 §6.3 (8)
        Assert.Equal(BodyFraming.UntilClose, Framing(response).Framing);
}

using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>
/// The request-line parser's two paths: the one-pass path for well-formed lines and the careful path, with
/// the limits at their edges and the reasons each rejection names (RFC 9112 §2-§3).
/// </summary>
public class RequestHeadParserTests
{
    // ---- the one-pass path ----

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n", 32, 8192, 32768, "GET", "/", "/", 11, RequestTargetForm.Origin)]
    [InlineData("GET /a?b HTTP/1.0\r\nHost: x\r\n", 32, 8192, 32768, "GET", "/a?b", "/a", 10, RequestTargetForm.Origin)]
    [InlineData("POST /x HTTP/1.1\r\n", 4, 8192, 32768, "POST", "/x", "/x", 11, RequestTargetForm.Origin)]   // method exactly at the limit
    [InlineData("GET /ab HTTP/1.1\r\n", 32, 3, 32768, "GET", "/ab", "/ab", 11, RequestTargetForm.Origin)]    // target exactly at the limit
    [InlineData("GET / HTTP/1.1\r\n", 32, 8192, 14, "GET", "/", "/", 11, RequestTargetForm.Origin)]          // line (without CRLF) exactly at the head limit
    [InlineData("GET http://a/p HTTP/1.1\r\n", 32, 8192, 32768, "GET", "http://a/p", "/p", 11, RequestTargetForm.Absolute)]
    [InlineData("GET /%41 HTTP/1.1\r\n", 32, 8192, 32768, "GET", "/%41", "/%41", 11, RequestTargetForm.Origin)]
    public void One_pass_path_takes_a_well_formed_line(string input, int maxMethod, int maxTarget, int maxHead,
        string method, string target, string path, int version, RequestTargetForm form) // RFC 9112 §3
    {
        byte[] buffer = Bytes(input);
        var head = new RequestHead();
        head.Reset();
        head.Rebind(buffer);
        var limits = new HeadLimits { MaxMethodLength = maxMethod, MaxTargetLength = maxTarget, MaxHeadBytes = maxHead };

        Assert.True(RequestHeadParser.TryParseWellFormedRequestLine(buffer, head, limits, out int lineEnd, out ParseStatus status, out _));
        Assert.Equal(ParseStatus.Complete, status);
        Assert.Equal(input.IndexOf('\n') + 1, lineEnd);
        Assert.Equal(method, head.Method);
        Assert.Equal(target, Latin1(head.Target));
        Assert.Equal(path, Latin1(head.RawPath));
        Assert.Equal((HttpVersion)version, head.Version);
        Assert.Equal(form, head.TargetForm);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n", 32, 8192, 13)]   // the line passes the head limit
    [InlineData("POST / HTTP/1.1\r\n", 3, 8192, 32768)] // the method passes its limit
    [InlineData("GET /ab HTTP/1.1\r\n", 32, 2, 32768)]  // the target passes its limit
    [InlineData("GET / HTTP/1.1\rX", 32, 8192, 32768)]  // bare CR
    [InlineData("GET / HTTP/1.1X\n", 32, 8192, 32768)]
    [InlineData("GET / HTTP/1.1\r", 32, 8192, 32768)]   // not all there yet
    [InlineData("GET / HTTP/1.2\r\n", 32, 8192, 32768)]
    [InlineData("GET /\tHTTP/1.1\r\n", 32, 8192, 32768)]
    public void One_pass_path_leaves_anything_unusual_to_the_careful_path(string input, int maxMethod, int maxTarget, int maxHead)
    {
        byte[] buffer = Bytes(input);
        var head = new RequestHead();
        head.Reset();
        var limits = new HeadLimits { MaxMethodLength = maxMethod, MaxTargetLength = maxTarget, MaxHeadBytes = maxHead };
        Assert.False(RequestHeadParser.TryParseWellFormedRequestLine(buffer, head, limits, out _, out _, out _));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\rXHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1X\nHost: x\r\n\r\n")]
    public void A_request_line_not_ended_by_CRLF_gets_400(string request) => Rejects(request, 400); // RFC 9112 §2.2

    // ---- the careful path (a leading empty line or an unusual version sends the line there) ----

    [Fact]
    public void Careful_path_gives_standard_methods_their_shared_instance() // RFC 9112 §2.2: an empty line before the request line is ignored
    {
        RequestHead head = Accepts("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Same(HttpMethods.Intern("GET"u8), head.Method);
    }

    [Fact]
    public void Careful_path_reads_HTTP_1_0() // RFC 9112 §2.3
    {
        RequestHead head = Accepts("\r\nGET / HTTP/1.0\r\nHost: x\r\n\r\n");
        Assert.Equal(HttpVersion.Http10, head.Version);
        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void Careful_path_accepts_a_target_exactly_at_the_limit() // a higher minor version takes the careful path (RFC 9110 §2.5)
    {
        RequestHead head = Accepts("GET /ab HTTP/1.2\r\nHost: x\r\n\r\n", new HeadLimits { MaxTargetLength = 3 });
        Assert.Equal("/ab", Latin1(head.Target));
        Assert.Equal(HttpVersion.Http11, head.Version);
    }

    [Fact]
    public void An_empty_target_is_a_400_even_when_the_rest_passes_the_target_limit() =>
        Rejects("GET  /abcdef HTTP/1.1\r\nHost: x\r\n\r\n", 400, new HeadLimits { MaxTargetLength = 3 }); // RFC 9112 §3

    [Fact]
    public void The_limit_broken_first_in_the_byte_stream_names_the_error() =>
        // The line passes MaxHeadBytes at byte 13, before the target passes its limit at byte 14: 431, not 414.
        Rejects("GET /0123456789abcdef HTTP/1.1\r\nHost: x\r\n\r\n", 431, new HeadLimits { MaxTargetLength = 10, MaxHeadBytes = 13 });

    [Fact]
    public void A_leading_space_fails_at_once() // RFC 9112 §3: the line starts with a method token
    {
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Invalid, RequestHeadParser.Parse(Bytes(" "), head, HeadLimits.Default, out HttpError error));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("request line starts with whitespace", error.Reason);
    }

    [Theory]
    [InlineData(" GET / HTTP/1.1\r\n\r\n", 400, "request line starts with whitespace")]
    [InlineData("G@T / HTTP/1.1\r\n\r\n", 400, "invalid character in method")]
    [InlineData("GET\r\n\r\n", 400, "malformed request line")]
    [InlineData("GET /\r\n\r\n", 400, "request line has no HTTP version")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n", 400, "empty request-target or repeated whitespace")]
    [InlineData("GET /  HTTP/1.1\r\n\r\n", 400, "repeated whitespace in request line")]
    [InlineData("GET / HTTP/1.1 \r\n\r\n", 400, "repeated whitespace in request line")]
    [InlineData("GET / HTTP/1.x\r\n\r\n", 400, "malformed HTTP version")]
    [InlineData("GET / HTTP/2.0\r\n\r\n", 505, "HTTP version not supported")]
    public void Rejections_name_what_was_wrong(string request, int status, string reason)
    {
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Invalid, RequestHeadParser.Parse(Bytes(request), head, HeadLimits.Default, out HttpError error));
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(reason, error.Reason);
    }
}

using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Token, hex and percent-encoding rules, request-target reasons, and what the message writer refuses.</summary>
public class SyntaxEdgeTests
{
    [Fact]
    public void An_empty_span_is_no_token() => Assert.False(HttpSyntax.IsToken(ReadOnlySpan<byte>.Empty)); // RFC 9110 §5.6.2: token = 1*tchar

    [Theory]
    [InlineData('0', 0)] [InlineData('9', 9)] [InlineData('a', 10)] [InlineData('f', 15)] [InlineData('A', 10)] [InlineData('F', 15)]
    [InlineData('g', -1)] [InlineData('/', -1)] [InlineData(':', -1)]
    public void Hex_digits_have_their_values(char digit, int value) => Assert.Equal(value, HttpSyntax.HexValue((byte)digit));

    [Theory] // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG, every one of them
    [InlineData("%41%42", true)]
    [InlineData("%41%zz", false)]
    [InlineData("%41x%4", false)]
    [InlineData("a%41b%42c", true)]
    public void Every_percent_sign_starts_a_valid_escape(string value, bool valid) =>
        Assert.Equal(valid, HttpSyntax.HasValidPercentEncoding(Bytes(value)));

    [Theory] // RFC 9112 §3.2; the careful path (a leading empty line) checks the target's bytes itself
    [InlineData("\r\nGET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", "fragment in request-target")]
    [InlineData("\r\nGET /a\u007f HTTP/1.1\r\nHost: x\r\n\r\n", "invalid character in request-target")]
    [InlineData("GET http:// HTTP/1.1\r\nHost: x\r\n\r\n", "request-target is neither origin-form nor absolute-form")]
    [InlineData("GET https:// HTTP/1.1\r\nHost: x\r\n\r\n", "request-target is neither origin-form nor absolute-form")]
    public void Target_rejections_name_what_was_wrong(string request, string reason)
    {
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Invalid, RequestHeadParser.Parse(Bytes(request), head, HeadLimits.Default, out HttpError error));
        Assert.Equal((400, reason), (error.StatusCode, error.Reason));
    }

    [Theory] // RFC 9112 §3.2.1: a seven-letter method other than CONNECT takes an origin-form target
    [InlineData("\r\nOPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("OPTIONS /%41 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("CONNECX / HTTP/1.1\r\nHost: x\r\n\r\n")]
    public void Only_CONNECT_needs_an_authority_form_target(string request) =>
        Assert.Equal(RequestTargetForm.Origin, Accepts(request).TargetForm);

    private static ArgumentException WriterRefuses(Action<ByteBuffer> write)
    {
        using var buffer = new ByteBuffer(64);
        return Assert.Throws<ArgumentException>(() => write(buffer));
    }

    [Fact]
    public void The_writer_names_what_it_refuses()
    {
        Assert.StartsWith("invalid method 'G T'", WriterRefuses(b => MessageWriter.WriteRequestLine(b, "G T", "/")).Message);
        Assert.StartsWith("empty request-target", WriterRefuses(b => MessageWriter.WriteRequestLine(b, "GET", "")).Message);
        Assert.StartsWith("invalid character in request-target '/a\u007f'", WriterRefuses(b => MessageWriter.WriteRequestLine(b, "GET", "/a\u007f")).Message);
        Assert.StartsWith("invalid field name 'a b'", WriterRefuses(_ => MessageWriter.ValidateField("a b", "v")).Message);
        Assert.StartsWith("invalid character U+0001 in the value of field 'X'", WriterRefuses(_ => MessageWriter.ValidateField("X", "a\u0001")).Message);
    }
}

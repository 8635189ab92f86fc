using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Head size limits: 414 and 431, detected before the whole head has arrived (RFC 9110 §15.5.15, RFC 6585 §5).</summary>
public class HeadLimitsTests
{
    private static readonly HeadLimits Small = new() { MaxMethodLength = 16, MaxTargetLength = 32, MaxHeadBytes = 128, MaxFieldCount = 4 };

    // Methods longer than the head itself: the request line's size limit is what stops an endless line.
    private static readonly HeadLimits LongMethods = Small with { MaxMethodLength = 1000 };

    [Fact]
    public void Accepts_a_target_exactly_at_the_limit() // RFC 9112 §3: servers choose a limit
    {
        string target = "/" + new string('a', 31);
        Assert.Equal(target, Latin1(Accepts($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", Small).Target));
    }

    [Fact]
    public void Rejects_a_target_longer_than_the_limit_with_414() => // RFC 9112 §3, RFC 9110 §15.5.15
        Rejects($"GET /{new string('a', 32)} HTTP/1.1\r\nHost: x\r\n\r\n", 414, Small);

    [Fact]
    public void Rejects_a_never_ending_target_with_414_once_it_passes_the_limit() // RFC 9112 §3: bounded buffering
    {
        byte[] prefix = Bytes($"GET /{new string('a', 32)}");
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Invalid, RequestHeadParser.Parse(prefix, head, Small, out HttpError error));
        Assert.Equal(414, error.StatusCode);
        Rejects(prefix, 414, Small);
    }

    [Fact]
    public void Waits_for_a_target_that_is_still_within_the_limit() // RFC 9112 §3
    {
        var (outcome, _) = Request($"GET /{new string('a', 31)}", Small);
        Assert.Equal(ParseStatus.NeedMoreData, outcome.Status);
    }

    [Fact]
    public void Accepts_a_method_exactly_at_the_limit() // RFC 9112 §3: servers choose a limit
    {
        string method = new('M', 16);
        Assert.Equal(method, Accepts($"{method} / HTTP/1.1\r\nHost: x\r\n\r\n", Small).Method);
    }

    [Fact]
    public void Rejects_a_method_longer_than_the_limit_with_501_not_431() => // RFC 9112 §3: SHOULD 501
        Rejects($"{new string('M', 17)} / HTTP/1.1\r\nHost: x\r\n\r\n", 501, Small);

    [Fact]
    public void Rejects_a_never_ending_method_with_501_once_it_passes_the_limit() // RFC 9112 §3: bounded buffering
    {
        Rejects(new string('G', 17), 501, Small);
        Rejects(new string('G', 1000), 501);
        // Longer than the default head limit as well, whole: 501 still, not 431. (Not at every split: each
        // parse of a prefix longer than the method limit ends the same way, and 100,000 of them took 14 s.)
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Invalid, RequestHeadParser.Parse(Bytes(new string('G', 100_000)), head, HeadLimits.Default, out HttpError error));
        Assert.Equal(501, error.StatusCode);
        var (outcome, _) = Request(new string('G', 16), Small);
        Assert.Equal(ParseStatus.NeedMoreData, outcome.Status);
    }

    [Theory]
    [InlineData("GE@T", 400)]                        // an invalid byte within the limit is seen first
    [InlineData("MMMMMMMMMMMMMMMM@", 400)]           // the 17th byte is no token byte: invalid, not long
    [InlineData("MMMMMMMMMMMMMMMMM@", 501)]          // the 17th byte makes it too long before the '@' arrives
    public void Reports_whichever_method_rule_breaks_first_in_the_byte_stream(string method, int status) // STYLE.md
    {
        Rejects($"{method} /{new string('a', 40)} HTTP/1.1\r\nHost: x\r\n\r\n", status, Small);
    }

    [Fact]
    public void A_too_long_target_keeps_414() => // RFC 9112 §3: MUST 414
        Rejects($"GET /{new string('a', 100)} HTTP/1.1\r\nHost: x\r\n\r\n", 414, Small);

    [Fact]
    public void Rejects_a_never_ending_method_with_431_once_the_line_passes_the_head_limit() // RFC 6585 §5
    {
        Rejects(new string('G', 129), 431, LongMethods);
        var (outcome, _) = Request(new string('G', 128), LongMethods);
        Assert.Equal(ParseStatus.NeedMoreData, outcome.Status);
    }

    [Theory]
    [InlineData("G@T /")]
    [InlineData(" /")]
    [InlineData("GET\t/")]
    public void Reports_an_invalid_method_before_an_overlong_target_however_the_bytes_arrive(string start) // RFC 9110 §9.1, STYLE.md
    {
        Rejects($"{start}{new string('a', 40)} HTTP/1.1\r\nHost: x\r\n\r\n", 400, Small);
    }

    [Fact]
    public void Rejects_bytes_that_cannot_begin_a_method_without_waiting_for_the_line_end() // RFC 9112 §3: method = token
    {
        // A TLS ClientHello sent to a plain-text port: nothing in it will ever end the line.
        byte[] clientHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
        Rejects(clientHello, 400);
    }

    [Fact]
    public void Accepts_a_head_exactly_at_the_byte_limit() // RFC 6585 §5
    {
        string start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
        string request = start + new string('v', 128 - start.Length - 4) + "\r\n\r\n";
        Assert.Equal(128, request.Length);
        Assert.Equal(128, Accepts(request, Small).HeadLength);
    }

    [Fact]
    public void Rejects_a_head_one_byte_over_the_limit_with_431() // RFC 6585 §5
    {
        string start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
        Rejects(start + new string('v', 128 - start.Length - 3) + "\r\n\r\n", 431, Small);
    }

    [Fact]
    public void Rejects_a_never_ending_field_line_with_431_once_it_passes_the_limit() // RFC 6585 §5
    {
        Rejects("GET / HTTP/1.1\r\nHost: x\r\nX: " + new string('v', 200), 431, Small);
    }

    [Fact]
    public void Counts_leading_empty_lines_in_the_head_length() // RFC 9112 §2.2
    {
        string request = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nX: ";
        request += new string('v', 128 - request.Length - 4) + "\r\n\r\n";
        Assert.Equal(128, Accepts(request, Small).HeadLength);
        Rejects("\r\n" + request, 431, Small);
    }

    [Fact]
    public void Reports_431_for_an_overlong_request_line_whatever_else_is_wrong_with_it() // RFC 6585 §5, STYLE.md
    {
        // A trickling sender is stopped by the size limit before the bad version arrives; so is everyone.
        Rejects(new string('a', 200) + "GET / TTP/1.1\r\nHost: x\r\n\r\n", 431, LongMethods);
        Rejects(new string('a', 200) + "GET / HTTP/1.1\nHost: x\r\n\r\n", 431, LongMethods);
    }

    [Fact]
    public void Reports_431_for_an_overlong_field_line_even_when_a_bare_LF_follows() // RFC 6585 §5, STYLE.md
    {
        Rejects("GET / HTTP/1.1\r\nHost: x\r\nX: " + new string('v', 200) + "\nY: z\r\n\r\n", 431, Small);
    }

    [Fact]
    public void Accepts_exactly_the_maximum_number_of_fields() // RFC 6585 §5
    {
        Assert.Equal(4, Accepts("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", Small).Fields.Count);
    }

    [Fact]
    public void Rejects_one_field_more_than_the_maximum_with_431() => // RFC 6585 §5
        Rejects("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431, Small);

    [Fact]
    public void Rejects_too_many_fields_before_the_head_ends() // RFC 6585 §5: bounded buffering
    {
        Rejects("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", 431, Small);
    }

    [Fact]
    public void Uses_the_documented_defaults() // our choice, as nginx: 8 KiB target, 32 KiB head, 100 fields
    {
        Assert.Equal(32, HeadLimits.Default.MaxMethodLength);
        Assert.Equal(8 * 1024, HeadLimits.Default.MaxTargetLength);
        Assert.Equal(32 * 1024, HeadLimits.Default.MaxHeadBytes);
        Assert.Equal(100, HeadLimits.Default.MaxFieldCount);
    }
}

using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>The request line: method, single spaces, request-target forms and version (RFC 9112 §2-§3).</summary>
public class RequestLineTests
{
    [Theory] // RFC 9110 §9: the standard methods, shared instances
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    [InlineData("PATCH")]
    public void Accepts_standard_methods_as_shared_instances(string method) // RFC 9110 §9.1
    {
        RequestHead head = Accepts($"{method} / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Same(HttpMethods.Intern(System.Text.Encoding.ASCII.GetBytes(method)), head.Method);
        Assert.Equal(method, head.Method);
    }

    [Theory]
    [InlineData("PROPFIND")]
    [InlineData("get")]        // methods are case-sensitive: "get" is an extension method, not GET
    [InlineData("X-Custom!#$%&'*+.^_`|~")]
    public void Accepts_any_token_as_an_extension_method(string method) // RFC 9110 §9.1: method = token
    {
        RequestHead head = Accepts($"{method} / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(method, head.Method);
        Assert.False(HttpMethods.IsStandard(head.Method));
    }

    [Theory]
    [InlineData("G@T / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("G\u00c9T / HTTP/1.1\r\nHost: x\r\n\r\n")]
    public void Rejects_a_method_that_is_not_a_token_with_400(string request) => Rejects(request, 400); // RFC 9110 §9.1

    [Theory]
    [InlineData("GET  / HTTP/1.1\r\nHost: x\r\n\r\n")]    // two spaces after the method
    [InlineData("GET /  HTTP/1.1\r\nHost: x\r\n\r\n")]    // two spaces before the version
    [InlineData(" GET / HTTP/1.1\r\nHost: x\r\n\r\n")]    // leading space
    [InlineData("GET / HTTP/1.1 \r\nHost: x\r\n\r\n")]    // trailing space
    [InlineData("GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n")]   // tabs as separators
    [InlineData("GET / \tHTTP/1.1\r\nHost: x\r\n\r\n")]
    public void Requires_exactly_one_SP_between_request_line_parts_and_rejects_others_with_400(string request) =>
        Rejects(request, 400); // RFC 9112 §3: method SP request-target SP HTTP-version (lenient whitespace parsing not done)

    [Theory]
    [InlineData("GET /\r\nHost: x\r\n\r\n")]       // HTTP/0.9-style: no version
    [InlineData("GET\r\nHost: x\r\n\r\n")]
    [InlineData("GET  HTTP/1.1\r\nHost: x\r\n\r\n")] // empty target
    public void Rejects_a_request_line_with_missing_parts_with_400(string request) => Rejects(request, 400); // RFC 9112 §3

    [Fact]
    public void Parses_origin_form_into_path_and_query() // RFC 9112 §3.2.1
    {
        RequestHead head = Accepts("GET /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Assert.Equal(RequestTargetForm.Origin, head.TargetForm);
        Assert.Equal("/a/b%20c?x=1&y=%2F", Latin1(head.Target));
        Assert.Equal("/a/b%20c", Latin1(head.RawPath));
        Assert.Equal("x=1&y=%2F", Latin1(head.RawQuery));
        Assert.Equal("", Latin1(head.TargetAuthority));
    }

    [Fact]
    public void Parses_an_empty_query_after_a_question_mark() // RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ]
    {
        RequestHead head = Accepts("GET /p? HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("/p", Latin1(head.RawPath));
        Assert.Equal("", Latin1(head.RawQuery));
    }

    [Theory]
    [InlineData("http://example.com/a?b", "example.com", "/a", "b")]
    [InlineData("HTTP://example.com:8080/", "example.com:8080", "/", "")]
    [InlineData("https://[::1]:443/x", "[::1]:443", "/x", "")]
    [InlineData("http://example.com", "example.com", "", "")]
    [InlineData("http://example.com?q", "example.com", "", "q")]
    public void Accepts_absolute_form_and_exposes_its_authority(string target, string authority, string path, string query) // RFC 9112 §3.2.2
    {
        RequestHead head = Accepts($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(RequestTargetForm.Absolute, head.TargetForm);
        Assert.Equal(authority, Latin1(head.TargetAuthority));
        Assert.Equal(path, Latin1(head.RawPath));
        Assert.Equal(query, Latin1(head.RawQuery));
    }

    [Theory]
    [InlineData("http://user@example.com/")]        // RFC 9110 §4.2.4: userinfo is deprecated
    [InlineData("http://user:pass@example.com/")]
    [InlineData("http:///path")]                     // empty authority
    [InlineData("http://exa mple.com/")]             // space ends the target early: bad version
    [InlineData("http://example.com:80a/")]          // non-digit port
    [InlineData("ftp://example.com/")]               // not an origin we could be
    [InlineData("example.com/path")]                 // neither origin-form nor absolute-form
    [InlineData("http://")]
    public void Rejects_an_invalid_absolute_form_target_with_400(string target) =>
        Rejects($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", 400); // RFC 9112 §3.2.2, RFC 9110 §4.2.4

    [Theory]
    [InlineData("example.com:443")]
    [InlineData("[2001:db8::1]:8443")]
    [InlineData("127.0.0.1:80")]
    public void Accepts_authority_form_for_CONNECT(string target) // RFC 9112 §3.2.3
    {
        RequestHead head = Accepts($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        Assert.Equal(RequestTargetForm.Authority, head.TargetForm);
        Assert.Equal(target, Latin1(head.TargetAuthority));
        Assert.Same(HttpMethods.Connect, head.Method);
    }

    [Theory]
    [InlineData("CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n")]      // port is required
    [InlineData("CONNECT example.com: HTTP/1.1\r\nHost: x\r\n\r\n")]     // empty port
    [InlineData("CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n")]                // origin-form with CONNECT
    [InlineData("CONNECT http://example.com:443/ HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("CONNECT * HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")]      // authority-form without CONNECT
    public void Accepts_authority_form_only_with_CONNECT_and_CONNECT_only_with_it(string request) => Rejects(request, 400); // RFC 9112 §3.2.3

    [Fact]
    public void Accepts_asterisk_form_for_OPTIONS() // RFC 9112 §3.2.4
    {
        RequestHead head = Accepts("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(RequestTargetForm.Asterisk, head.TargetForm);
        Assert.Equal("*", Latin1(head.Target));
    }

    [Theory]
    [InlineData("GET * HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("POST * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n")]
    public void Rejects_asterisk_form_for_other_methods_with_400(string request) => Rejects(request, 400); // RFC 9112 §3.2.4

    [Theory]
    [InlineData("/a#frag")]
    [InlineData("/#")]
    [InlineData("http://example.com/#x")]
    public void Rejects_a_fragment_in_the_target_with_400(string target) =>
        Rejects($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", 400); // RFC 9112 §3.2: targets carry no fragment

    [Theory]
    [InlineData("/a\u0001b")]
    [InlineData("/a\u007fb")]
    [InlineData("/caf\u00e9")]     // raw non-ASCII (Latin-1 0xE9)
    [InlineData("/\u0080")]
    [InlineData("/a\u0000b")]
    public void Rejects_control_and_non_ASCII_bytes_in_the_target_with_400(string target) =>
        Rejects($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", 400); // RFC 3986 §2, RFC 9112 §3.2

    [Theory]
    [InlineData("/{a}")]
    [InlineData("/a|b")]
    [InlineData("/a^b")]
    [InlineData("/a\\b")]
    [InlineData("/a`b")]
    [InlineData("/\"q\"")]
    [InlineData("/<a>")]
    [InlineData("/?q={\"k\":[1]}")]
    public void Accepts_the_raw_characters_browsers_send_in_targets(string target) // our choice: unambiguous without whitespace
    {
        RequestHead head = Accepts($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(target, Latin1(head.Target));
    }

    [Theory]
    [InlineData("/a%20b")]
    [InlineData("/%2f%2F")]
    [InlineData("/%ff?x=%00")]
    public void Accepts_valid_percent_encoding(string target) => Accepts($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"); // RFC 3986 §2.1

    [Theory]
    [InlineData("/%00")]
    [InlineData("/a%00b")]
    [InlineData("/file.txt%00.jpg")]
    [InlineData("/a/%00?x=1")]
    [InlineData("http://x/a%00")]
    public void Rejects_a_percent_encoded_NUL_in_the_path_with_400(string target) => // our choice: a decoded NUL ends native strings
        Rejects($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", 400);

    [Theory]
    [InlineData("/%000")]   // "%00" then '0': still a NUL
    public void Rejects_a_percent_encoded_NUL_followed_by_digits_with_400(string target) =>
        Rejects($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", 400);

    [Theory]
    [InlineData("/%")]
    [InlineData("/%2")]
    [InlineData("/%zz")]
    [InlineData("/%2g")]
    [InlineData("/a?b=%")]
    [InlineData("/%%41")]
    public void Rejects_malformed_percent_encoding_with_400(string target) =>
        Rejects($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", 400); // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG

    [Theory]
    [InlineData("HTTP/1.0", HttpVersion.Http10)]
    [InlineData("HTTP/1.1", HttpVersion.Http11)]
    [InlineData("HTTP/1.2", HttpVersion.Http11)] // RFC 9110 §2.5: a higher minor version is treated as the highest we speak
    [InlineData("HTTP/1.9", HttpVersion.Http11)]
    public void Accepts_HTTP_1_x_versions(string version, object expectedValue) // RFC 9112 §2.3 (object: HttpVersion is internal)
    {
        var expected = (HttpVersion)expectedValue;
        RequestHead head = Accepts($"GET / {version}\r\nHost: x\r\n\r\n");
        Assert.Equal(expected, head.Version);
    }

    [Theory]
    [InlineData("HTTP/2.0")]
    [InlineData("HTTP/3.0")]
    [InlineData("HTTP/0.9")]
    public void Rejects_another_major_version_with_505(string version) =>
        Rejects($"GET / {version}\r\nHost: x\r\n\r\n", 505); // RFC 9110 §15.6.6

    [Theory]
    [InlineData("http/1.1")]     // RFC 9112 §2.3: HTTP-name is case-sensitive
    [InlineData("Http/1.1")]
    [InlineData("HTTP/1")]
    [InlineData("HTTP/1.")]
    [InlineData("HTTP/11")]
    [InlineData("HTTP/1.10")]
    [InlineData("HTTP/10.0")]
    [InlineData("HTTP/a.b")]
    [InlineData("HTTP 1.1")]
    [InlineData("HTTP/2")]
    public void Rejects_a_malformed_version_with_400(string version) =>
        Rejects($"GET / {version}\r\nHost: x\r\n\r\n", 400); // RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Ignores_up_to_four_empty_lines_before_the_request_line(int emptyLines) // RFC 9112 §2.2: SHOULD ignore at least one
    {
        string prefix = string.Concat(Enumerable.Repeat("\r\n", emptyLines));
        const string request = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";
        RequestHead head = Accepts(prefix + request);
        Assert.Equal("/x", Latin1(head.Target));
        Assert.Equal(prefix.Length + request.Length, head.HeadLength);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(20)]
    public void Rejects_more_than_four_empty_lines_before_the_request_line_with_400(int emptyLines) => // RFC 9112 §2.2
        Rejects(string.Concat(Enumerable.Repeat("\r\n", emptyLines)) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400);

    [Fact]
    public void Rejects_endless_empty_lines_without_waiting_for_a_request_line() // RFC 9112 §2.2, bounded buffering
    {
        var (outcome, _) = Request(string.Concat(Enumerable.Repeat("\r\n", 10)));
        Assert.Equal(ParseStatus.Invalid, outcome.Status);
        Assert.Equal(400, outcome.ErrorCode);
    }

    [Theory]
    [InlineData("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\n")]
    [InlineData("GET / HTTP/1.1\nHost: x\n\n")]
    [InlineData("GET /a\nb HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX: a\nb\r\n\r\n")]
    public void Rejects_a_bare_LF_anywhere_in_the_head_with_400(string request) => Rejects(request, 400); // RFC 9112 §2.2 (MAY accept; we do not)

    [Theory]
    [InlineData("\rGET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /\r HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHo\rst: x\r\n\r\n")]
    public void Rejects_a_bare_CR_anywhere_in_the_head_with_400(string request) => Rejects(request, 400); // RFC 9112 §2.2

    [Fact]
    public void Counts_the_head_length_through_the_blank_line_and_leaves_the_body() // RFC 9112 §2.1
    {
        const string head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
        RequestHead parsed = Accepts(head + "hello");
        Assert.Equal(head.Length, parsed.HeadLength);
    }

    [Fact]
    public void A_reset_head_parses_the_next_pipelined_request() // RFC 9112 §9.3.2: pipelining
    {
        byte[] two = Bytes("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: b\r\n\r\n");
        var head = new RequestHead();
        head.Reset();
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.Parse(two, head, HeadLimits.Default, out _));
        Assert.Equal("/one", Latin1(head.Target));
        int first = head.HeadLength;
        head.Reset();
        Assert.Equal(ParseStatus.Complete, RequestHeadParser.Parse(two.AsMemory(first), head, HeadLimits.Default, out _));
        Assert.Equal("/two", Latin1(head.Target));
        Assert.Equal("b", Latin1(head.Host));
        Assert.Equal(1, head.Fields.Count);
    }
}

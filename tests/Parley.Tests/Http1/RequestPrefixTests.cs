using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>
/// Property: for every valid request head, every strict prefix is "need more data" — never an error and
/// never complete — and the whole head is complete (RFC 9112 §2.1: a message is not complete before its blank line).
/// </summary>
public class RequestPrefixTests
{
    public static TheoryData<string> ValidRequests => new()
    {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a/b?c=d%20e HTTP/1.0\r\n\r\n",
        "POST /form HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 42\r\nContent-Type: text/plain\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nX-Empty:\r\nX-Obs: caf\u00e9\r\n\r\n",
        "GET / HTTP/1.2\r\nHost: h\r\nX:\ta\tb\t\r\n\r\n",
    };

    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void Every_strict_prefix_of_a_valid_request_needs_more_data(string request) // RFC 9112 §2.1
    {
        byte[] input = Bytes(request);
        for (int length = 0; length < input.Length; length++)
        {
            var head = new RequestHead();
            head.Reset();
            ParseStatus status = RequestHeadParser.Parse(input[..length], head, HeadLimits.Default, out HttpError error);
            Assert.True(status == ParseStatus.NeedMoreData && !error.IsError, $"prefix of {length} bytes: {status} {error}");
        }
    }

    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void Every_valid_request_parses_the_same_whole_byte_by_byte_and_split(string request) // STYLE.md: three ways
    {
        var (outcome, head) = Request(request);
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal(request.Length, head.HeadLength);
    }
}

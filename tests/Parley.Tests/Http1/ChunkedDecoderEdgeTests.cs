using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Chunked decoding at its limits and the reasons its rejections name (RFC 9112 §7.1).</summary>
public class ChunkedDecoderEdgeTests
{
    // A size line of exactly the longest length accepted: "1;a=bbb…" (4096 bytes before the CRLF).
    private static readonly string LongestSizeLine = "1;a=" + new string('b', ChunkedDecoder.MaxChunkLineLength - 4);

    [Fact]
    public void A_size_line_of_the_longest_length_is_accepted_whole_and_while_it_arrives()
    {
        var decoder = new ChunkedDecoder();
        Assert.Equal(ParseStatus.NeedMoreData, decoder.Decode(Bytes(LongestSizeLine), out int consumed, out _, out _, out HttpError error));
        Assert.False(error.IsError);
        Assert.Equal(0, consumed);
        Assert.Equal(ParseStatus.Complete, decoder.Decode(Bytes(LongestSizeLine + "\r\nx"), out consumed, out int dataStart, out int dataLength, out error));
        Assert.Equal((LongestSizeLine.Length + 2, 1), (dataStart, dataLength));
        Assert.Equal(LongestSizeLine.Length + 3, consumed);
    }

    [Theory]
    [InlineData("b")]       // one byte too many, still arriving
    [InlineData("b\r\nx")]  // one byte too many, complete
    public void A_longer_size_line_gets_400(string more) =>
        AssertRejected(LongestSizeLine + more, 400, "chunk-size line too long");

    [Theory] // RFC 9112 §7.1: chunk-size = 1*HEXDIG, read as hexadecimal
    [InlineData("10\r\n0123456789abcdef\r\n0\r\n\r\n", "0123456789abcdef")]
    [InlineData("1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", "abcdefghijklmnopqrstuvwxyz")]
    [InlineData("00003\r\nabc\r\n0\r\n\r\n", "abc")]
    public void Reads_sizes_of_several_hex_digits(string body, string data)
    {
        var (outcome, decoder) = Chunked(body);
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Equal(data.Length, decoder.TotalDataLength);
        Assert.StartsWith($"body=<{data}>", outcome.Values);
    }

    [Fact]
    public void Data_followed_by_a_byte_other_than_CR_fails_at_once() // RFC 9112 §7.1: chunk-data CRLF
    {
        var (outcome, _) = Chunked("3\r\nabcX");
        Assert.Equal((ParseStatus.Invalid, 400), (outcome.Status, outcome.ErrorCode));
        AssertRejected("3\r\nabcX", 400, "chunk data not followed by CRLF");
        AssertRejected("3\r\nabc\rX", 400, "chunk data not followed by CRLF");
    }

    [Fact]
    public void The_CRLF_after_data_is_consumed_as_soon_as_it_arrives()
    {
        var decoder = new ChunkedDecoder();
        Assert.Equal(ParseStatus.Complete, decoder.Decode(Bytes("3\r\nabc"), out int consumed, out _, out _, out _));
        Assert.Equal(6, consumed);
        Assert.Equal(ParseStatus.NeedMoreData, decoder.Decode(Bytes("\r\n"), out consumed, out _, out _, out _));
        Assert.Equal(2, consumed);
    }

    [Theory]
    [InlineData("\r\n", 400, "missing or invalid chunk size")]
    [InlineData("1000000000000000\r\n", 400, "chunk size overflows")]
    public void Bad_sizes_name_what_was_wrong(string body, int status, string reason) => AssertRejected(body, status, reason);

    [Fact]
    public void A_body_over_the_limit_gets_413() // RFC 9110 §15.5.14
    {
        var decoder = new ChunkedDecoder { MaxBodySize = 4 };
        Assert.Equal(ParseStatus.Invalid, decoder.Decode(Bytes("5\r\nhello"), out _, out _, out _, out HttpError error));
        Assert.Equal((413, "chunked body too large"), (error.StatusCode, error.Reason));
    }

    // Decodes as one buffer, call after call, until the decoder fails; asserts the status and reason.
    private static void AssertRejected(string body, int status, string reason)
    {
        var decoder = new ChunkedDecoder();
        byte[] input = Bytes(body);
        int offset = 0;
        for (int calls = 0; calls < 10; calls++)
        {
            ParseStatus result = decoder.Decode(input.AsSpan(offset), out int consumed, out _, out _, out HttpError error);
            offset += consumed;
            if (result == ParseStatus.Invalid)
            {
                Assert.Equal((status, reason), (error.StatusCode, error.Reason));
                return;
            }
            if (result == ParseStatus.NeedMoreData && consumed == 0) break;
        }
        Assert.Fail($"'{body}' was not rejected");
    }
}

using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>The chunked transfer coding (RFC 9112 §7.1), decoded whole, byte by byte and split at every offset.</summary>
public class ChunkedDecoderTests
{
    private static string Decodes(string body, string expected, string rest = "")
    {
        var (outcome, _) = Chunked(body);
        Assert.True(outcome.Status == ParseStatus.Complete, $"expected Complete, got {outcome}");
        Assert.StartsWith($"body=<{expected}> total={expected.Length} rest=<{rest}>", outcome.Values);
        return outcome.Values;
    }

    private static void RejectsBody(string body, int status, Action<ChunkedDecoder>? configure = null)
    {
        var (outcome, _) = Chunked(body, configure);
        Assert.True(outcome.Status == ParseStatus.Invalid && outcome.ErrorCode == status, $"expected Invalid {status}, got {outcome}");
    }

    [Fact]
    public void Decodes_chunks_until_the_last_chunk_and_leaves_what_follows() // RFC 9112 §7.1
    {
        Decodes("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "hello world", "GET / HTTP/1.1\r\n");
    }

    [Fact]
    public void Decodes_an_empty_body() => Decodes("0\r\n\r\n", ""); // RFC 9112 §7.1: last-chunk = 1*("0") [ chunk-ext ] CRLF

    [Theory]
    [InlineData("a\r\n0123456789\r\n0\r\n\r\n")]
    [InlineData("A\r\n0123456789\r\n0\r\n\r\n")]      // HEXDIG is case-insensitive (RFC 5234 §2.3)
    [InlineData("00000a\r\n0123456789\r\n000\r\n\r\n")] // leading zeros
    [InlineData("0000000000000000000000a\r\n0123456789\r\n0\r\n\r\n")] // many leading zeros do not overflow
    public void Reads_chunk_sizes_in_hexadecimal(string body) => Decodes(body, "0123456789"); // RFC 9112 §7.1: chunk-size = 1*HEXDIG

    [Fact]
    public void Reads_a_large_chunk_size() // RFC 9112 §7.1: recipients MUST anticipate large sizes
    {
        var decoder = new ChunkedDecoder();
        Assert.Equal(ParseStatus.NeedMoreData, decoder.Decode(Bytes("fffffffffffffff\r\n"), out int consumed, out _, out _, out _));
        Assert.Equal(17, consumed);
    }

    [Theory]
    [InlineData("1000000000000000\r\n")]     // 16 significant hex digits: beyond what we accept
    [InlineData("ffffffffffffffffff\r\n")]
    public void Rejects_a_chunk_size_that_overflows_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §7.1: guard against overflow

    [Theory]
    [InlineData("zz\r\n")]
    [InlineData("\r\n")]
    [InlineData(";a\r\n")]
    [InlineData("-1\r\n")]
    [InlineData("+5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("0x5\r\nhello\r\n0\r\n\r\n")]
    [InlineData(" 5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5x\r\nhello\r\n0\r\n\r\n")]
    public void Rejects_a_missing_or_invalid_chunk_size_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §7.1

    [Theory]
    [InlineData("5;name\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;name=value\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=1;b;c=\"q\"\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\"quoted \\\" pair; and ;=\"\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5 ; a = 1 ;\tb\r\nhello\r\n0\r\n\r\n")]   // BWS around ';' and '='
    [InlineData("5;a=\"\"\r\nhello\r\n0;last=yes\r\n\r\n")]
    [InlineData("5;a=\"caf\u00e9\"\r\nhello\r\n0\r\n\r\n")]  // obs-text in qdtext
    public void Accepts_and_ignores_well_formed_chunk_extensions(string body) => Decodes(body, "hello"); // RFC 9112 §7.1.1

    [Theory]
    [InlineData("a \r\n0123456789\r\n0\r\n\r\n")]
    [InlineData("5 \r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\t\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0 \r\n\r\n")]
    [InlineData("5;a \r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=b\t\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\"b\" \r\nhello\r\n0\r\n\r\n")]
    public void Rejects_whitespace_at_the_end_of_a_chunk_size_line_with_400(string body) => // RFC 9112 §7.1: BWS only before ';'
        RejectsBody(body, 400);

    [Theory]
    [InlineData("5;\r\nhello\r\n0\r\n\r\n")]              // no name
    [InlineData("5;=x\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\r\nhello\r\n0\r\n\r\n")]            // no value after '='
    [InlineData("5;a=b c\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\"open\r\nhello\r\n0\r\n\r\n")]      // unterminated quoted-string
    [InlineData("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=\"\u0001\"\r\nhello\r\n0\r\n\r\n")]  // CTL in quoted-string
    [InlineData("5;a@b\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=b=c\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a\u0000\r\nhello\r\n0\r\n\r\n")]
    public void Rejects_a_malformed_chunk_extension_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §7.1.1

    [Theory]
    [InlineData("2;a\nGET /smuggled HTTP/1.1\r\n\r\n0\r\n\r\n")]
    [InlineData("5\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0\n\r\n")]
    [InlineData("5\r\nhello\r\n0\r\n\n")]
    public void Rejects_a_bare_LF_in_chunked_framing_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §2.2, §7.1

    [Theory]
    [InlineData("5;a\rb\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\r\n0\r\n\r\n")]
    public void Rejects_a_bare_CR_in_chunked_framing_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §2.2

    [Fact]
    public void Accepts_a_chunk_line_of_exactly_the_maximum_length() // our limit: 4096 bytes
    {
        string line = "5;a=" + new string('v', ChunkedDecoder.MaxChunkLineLength - 4);
        Assert.Equal(ChunkedDecoder.MaxChunkLineLength, line.Length);
        var decoder = new ChunkedDecoder();
        Assert.Equal(ParseStatus.Complete, decoder.Decode(Bytes(line + "\r\nhello\r\n0\r\n\r\n"), out _, out _, out int length, out _));
        Assert.Equal(5, length);
    }

    [Fact]
    public void Rejects_a_chunk_line_longer_than_4096_bytes_with_400() => // our limit on a line with extensions
        RejectsBody("5;a=" + new string('v', ChunkedDecoder.MaxChunkLineLength - 3) + "\r\nhello\r\n0\r\n\r\n", 400);

    [Fact]
    public void Rejects_a_never_ending_chunk_line_without_waiting_for_its_end() // bounded buffering
    {
        RejectsBody("5;a=" + new string('v', ChunkedDecoder.MaxChunkLineLength), 400);
    }

    [Theory]
    [InlineData("5\r\nhelloXX0\r\n\r\n")]
    [InlineData("5\r\nhello0\r\n\r\n")]
    [InlineData("5\r\nhelloo\r\n0\r\n\r\n")]   // more data than the size says
    [InlineData("5\r\nhello\rX0\r\n\r\n")]
    [InlineData("5\r\nhello\n\r0\r\n\r\n")]
    public void Requires_CRLF_right_after_the_chunk_data_and_rejects_others_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §7.1

    [Fact]
    public void Waits_for_the_CRLF_after_the_chunk_data() // RFC 9112 §7.1
    {
        var (outcome, _) = Chunked("5\r\nhello\r");
        Assert.Equal(ParseStatus.NeedMoreData, outcome.Status);
        Assert.Equal("body=<hello>", outcome.Values);
    }

    [Fact]
    public void Parses_the_trailer_section_and_exposes_it() // RFC 9112 §7.1.2
    {
        var (outcome, decoder) = Chunked("5\r\nhello\r\n0\r\nX-Checksum: abc \r\nServer-Timing: db;dur=53\r\n\r\nNEXT");
        Assert.Equal(ParseStatus.Complete, outcome.Status);
        Assert.Contains("rest=<NEXT>", outcome.Values);
        Assert.True(decoder.IsComplete);
        FieldTable trailers = Assert.IsType<FieldTable>(decoder.Trailers);
        Assert.Equal(2, trailers.Count);
        Assert.Equal("abc", trailers.GetValue("x-checksum"));
        Assert.Equal("db;dur=53", trailers.GetValue("Server-Timing"));
    }

    [Fact]
    public void Has_no_trailers_when_none_were_sent() // RFC 9112 §7.1.2
    {
        var (_, decoder) = Chunked("0\r\n\r\n");
        Assert.Null(decoder.Trailers);
    }

    [Theory]
    [InlineData("0\r\nX : y\r\n\r\n")]
    [InlineData("0\r\n folded\r\n\r\n")]
    [InlineData("0\r\nX: a\u0000b\r\n\r\n")]
    [InlineData("0\r\nno colon\r\n\r\n")]
    [InlineData("0\r\nX: y\n\r\n")]
    public void Rejects_malformed_trailer_fields_with_400(string body) => RejectsBody(body, 400); // RFC 9112 §7.1.2, §5

    [Fact]
    public void Bounds_the_trailer_section_in_bytes_with_431() // RFC 6585 §5
    {
        RejectsBody("0\r\nX: " + new string('v', 64) + "\r\n\r\n", 431, d => d.MaxTrailerBytes = 32);
        RejectsBody("0\r\nX: " + new string('v', 64), 431, d => d.MaxTrailerBytes = 32); // before the section ends
    }

    [Fact]
    public void Bounds_the_trailer_section_in_fields_with_431() // RFC 6585 §5
    {
        RejectsBody("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, d => d.MaxTrailerFields = 2);
        var (outcome, _) = Chunked("0\r\nA: 1\r\nB: 2\r\n\r\n", d => d.MaxTrailerFields = 2);
        Assert.Equal(ParseStatus.Complete, outcome.Status);
    }

    [Fact]
    public void Refuses_a_body_beyond_MaxBodySize_with_413() // RFC 9110 §15.5.14
    {
        RejectsBody("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 413, d => d.MaxBodySize = 10);
        RejectsBody("b\r\n", 413, d => d.MaxBodySize = 10); // at the chunk size, before the data arrives
        var (outcome, _) = Chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", d => d.MaxBodySize = 10);
        Assert.Equal(ParseStatus.Complete, outcome.Status);
    }

    [Fact]
    public void Reports_data_inside_the_consumed_range_and_can_be_reset() // API contract
    {
        var decoder = new ChunkedDecoder();
        byte[] input = Bytes("3\r\nabc\r\n0\r\n\r\n");
        Assert.Equal(ParseStatus.Complete, decoder.Decode(input, out int consumed, out int start, out int length, out _));
        Assert.Equal((3, 3, 6), (start, length, consumed));
        decoder.Reset();
        Assert.False(decoder.IsComplete);
        Assert.Equal(0, decoder.TotalDataLength);
        Assert.Equal(ParseStatus.Complete, decoder.Decode(input, out _, out _, out length, out _));
        Assert.Equal(3, length);
    }
}

using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>Writing heads and chunked framing (RFC 9112 §3, §4, §5, §7.1): what we send is valid by construction.</summary>
public class MessageWriterTests
{
    private static string Written(Action<ByteBuffer> write)
    {
        using var buffer = new ByteBuffer(16);
        write(buffer);
        return Encoding.Latin1.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Writes_the_status_line_with_its_reason_phrase() // RFC 9112 §4
    {
        Assert.Equal("HTTP/1.1 200 OK\r\n", Written(b => MessageWriter.WriteStatusLine(b, 200)));
        Assert.Equal("HTTP/1.1 431 Request Header Fields Too Large\r\n", Written(b => MessageWriter.WriteStatusLine(b, 431)));
    }

    [Fact]
    public void Writes_an_unregistered_status_with_an_empty_reason_phrase() => // RFC 9112 §4: status-code SP [ reason-phrase ]
        Assert.Equal("HTTP/1.1 299 \r\n", Written(b => MessageWriter.WriteStatusLine(b, 299)));

    [Theory]
    [InlineData(99)]
    [InlineData(600)]
    [InlineData(-1)]
    public void Refuses_a_status_code_outside_100_599(int status) => // RFC 9110 §15: three digits
        Assert.Throws<ArgumentOutOfRangeException>(() => Written(b => MessageWriter.WriteStatusLine(b, status)));

    [Fact]
    public void Writes_a_request_line() => // RFC 9112 §3
        Assert.Equal("GET /a?b HTTP/1.1\r\n", Written(b => MessageWriter.WriteRequestLine(b, "GET", "/a?b")));

    [Theory]
    [InlineData("G T", "/")]
    [InlineData("", "/")]
    [InlineData("GET", "")]
    [InlineData("GET", "/a b")]
    [InlineData("GET", "/a#f")]
    [InlineData("GET", "/a\r\nX: y")]
    [InlineData("GET", "/caf\u00e9")]
    public void Refuses_an_invalid_method_or_target(string method, string target) => // RFC 9112 §3
        Assert.Throws<ArgumentException>(() => Written(b => MessageWriter.WriteRequestLine(b, method, target)));

    [Theory]
    [InlineData("X-A", "1", "X-A: 1\r\n")]
    [InlineData("X-A", "", "X-A: \r\n")]
    [InlineData("X-A", "a\tb ~", "X-A: a\tb ~\r\n")]
    public void Writes_a_field_line(string name, string value, string expected) => // RFC 9112 §5
        Assert.Equal(expected, Written(b => MessageWriter.WriteField(b, name, value)));

    [Theory]
    [InlineData("X-A", "a\r\nSet-Cookie: evil")]  // response splitting
    [InlineData("X-A", "a\rb")]
    [InlineData("X-A", "a\nb")]
    [InlineData("X-A", "a\u0000b")]
    [InlineData("X-A", "a\u007fb")]
    [InlineData("X-A", "caf\u00e9")]             // non-ASCII: we send ASCII only
    [InlineData("X-A", "\u4e2d")]
    [InlineData("X A", "1")]
    [InlineData("X:A", "1")]
    [InlineData("", "1")]
    [InlineData("X-\u00e9", "1")]
    [InlineData("X\r\nY", "1")]
    public void Refuses_CR_LF_controls_and_non_ASCII_in_fields(string name, string value) // RFC 9110 §5.1, §5.5
    {
        using var buffer = new ByteBuffer();
        Assert.Throws<ArgumentException>(() => MessageWriter.WriteField(buffer, name, value));
        Assert.Equal(0, buffer.Length);
    }

    [Theory]
    [InlineData(0, "0\r\n")]
    [InlineData(1, "1\r\n")]
    [InlineData(10, "a\r\n")]
    [InlineData(255, "ff\r\n")]
    [InlineData(4096, "1000\r\n")]
    [InlineData(int.MaxValue, "7fffffff\r\n")]
    public void Writes_chunk_sizes_in_hexadecimal(int length, string expected) => // RFC 9112 §7.1: chunk-size = 1*HEXDIG
        Assert.Equal(expected, Written(b => MessageWriter.WriteChunkHeader(b, length)));

    [Fact]
    public void Writes_a_chunked_body_the_decoder_reads_back() // RFC 9112 §7.1
    {
        using var buffer = new ByteBuffer();
        MessageWriter.WriteChunkHeader(buffer, 11);
        buffer.Write("hello world"u8);
        MessageWriter.WriteChunkTrailer(buffer);
        MessageWriter.WriteLastChunk(buffer);
        Assert.Equal("b\r\nhello world\r\n0\r\n\r\n", Encoding.ASCII.GetString(buffer.WrittenSpan));
        var (outcome, _) = ParseHarness.Chunked(buffer.WrittenSpan.ToArray());
        Assert.StartsWith("body=<hello world> total=11 rest=<>", outcome.Values);
    }

    [Theory]
    [InlineData(0L, "Content-Length: 0\r\n")]
    [InlineData(long.MaxValue, "Content-Length: 9223372036854775807\r\n")]
    public void Writes_Content_Length_in_decimal(long length, string expected) => // RFC 9110 §8.6
        Assert.Equal(expected, Written(b => MessageWriter.WriteContentLength(b, length)));
    private static KeyValuePair<string, string>[] Fields(params string[] nameValues) =>
        Enumerable.Range(0, nameValues.Length / 2).Select(i => new KeyValuePair<string, string>(nameValues[2 * i], nameValues[2 * i + 1])).ToArray();

    [Fact]
    public void Writes_the_last_chunk_with_an_empty_trailer_section_when_there_are_no_trailers() => // RFC 9112 §7.1
        Assert.Equal("0\r\n\r\n", Written(b => MessageWriter.WriteLastChunk(b, [])));

    [Fact]
    public void Writes_the_last_chunk_then_the_trailer_fields_then_the_empty_line() => // RFC 9112 §7.1, §7.1.2
        Assert.Equal("0\r\nX-Checksum: abc\r\nX-Part: 1\r\nX-Part: 2\r\n\r\n",
            Written(b => MessageWriter.WriteLastChunk(b, Fields("X-Checksum", "abc", "X-Part", "1", "X-Part", "2"))));

    [Fact]
    public void A_trailer_section_written_is_read_back_by_the_decoder() // RFC 9112 §7.1.2
    {
        using var buffer = new ByteBuffer();
        MessageWriter.WriteChunkHeader(buffer, 5);
        buffer.Write("hello"u8);
        MessageWriter.WriteChunkTrailer(buffer);
        MessageWriter.WriteLastChunk(buffer, Fields("Server-Timing", "total;dur=12", "X-Empty", ""));
        var (outcome, decoder) = ParseHarness.Chunked(buffer.WrittenSpan.ToArray());
        Assert.StartsWith("body=<hello> total=5 rest=<>", outcome.Values);
        FieldTable trailers = Assert.IsType<FieldTable>(decoder.Trailers);
        Assert.Equal("total;dur=12", trailers.GetValue("server-timing"));
        Assert.Equal("", trailers.GetValue("X-Empty"));
    }

    [Theory]
    [InlineData("Content-Length")]       // framing (RFC 9112 §6)
    [InlineData("TRANSFER-ENCODING")]
    [InlineData("Trailer")]
    [InlineData("Host")]                 // routing
    [InlineData("Proxy-Authorization")]  // authentication
    [InlineData("If-None-Match")]        // request modifiers
    [InlineData("Cache-Control")]        // response controls
    [InlineData("Content-Type")]         // content format
    public void Refuses_a_field_that_must_not_be_a_trailer_and_writes_nothing(string name) // RFC 9110 §6.5.1
    {
        using var buffer = new ByteBuffer(16);
        var error = Assert.Throws<ArgumentException>(() => MessageWriter.WriteLastChunk(buffer, Fields("X-Ok", "1", name, "2")));
        Assert.Contains(name, error.Message);
        Assert.Equal(0, buffer.Length);
    }

    [Theory]
    [InlineData("X-A", "a\r\nX-Evil: 1")]
    [InlineData("X A", "1")]
    [InlineData("", "1")]
    [InlineData("X-A", "caf\u00e9")]
    public void Refuses_an_invalid_trailer_field_like_a_head_field(string name, string value) => // RFC 9110 §5.1, §5.5
        Assert.Throws<ArgumentException>(() => Written(b => MessageWriter.WriteLastChunk(b, Fields(name, value))));

    [Theory]
    [InlineData("Server-Timing")]
    [InlineData("Authentication-Info")]  // RFC 9110 §11.6.3 allows it in trailers
    [InlineData("X-Checksum")]
    [InlineData("Digest")]
    public void Allows_fields_whose_definition_permits_trailers(string name) =>
        Assert.Equal($"0\r\n{name}: v\r\n\r\n", Written(b => MessageWriter.WriteLastChunk(b, Fields(name, "v"))));
}

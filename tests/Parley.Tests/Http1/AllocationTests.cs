using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>DESIGN.md: parsing a request head and decoding a chunked body allocate nothing once the objects are warm.</summary>
public class AllocationTests
{
    // Measures the second run of a warm action; the action must not assert (assertions allocate).
    private static long AllocatedBy(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Theory]
    [InlineData("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")]
    [InlineData("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("PUT http://example.com/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n")]
    [InlineData("PROPFIND /dav HTTP/1.1\r\nHost: x\r\nDepth: 1\r\n\r\n")]          // an extension method, too
    [InlineData("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")]
    public void Parses_a_request_head_without_allocating(string request)
    {
        byte[] input = Bytes(request);
        var head = new RequestHead();
        ParseStatus status = default;
        long allocated = AllocatedBy(() =>
        {
            head.Reset();
            status = RequestHeadParser.Parse(input, head, HeadLimits.Default, out _);
        });
        Assert.Equal(ParseStatus.Complete, status);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Parses_a_head_arriving_in_pieces_without_allocating()
    {
        byte[] input = Bytes("GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
        var head = new RequestHead();
        long allocated = AllocatedBy(() =>
        {
            head.Reset();
            for (int end = 1; end <= input.Length; end++)
            {
                RequestHeadParser.Parse(input.AsMemory(0, end), head, HeadLimits.Default, out _);
            }
        });
        Assert.Equal(input.Length, head.HeadLength);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Rejects_a_bad_request_without_allocating()
    {
        byte[] input = Bytes("GET / HTTP/1.1\r\nHost : x\r\n\r\n");
        var head = new RequestHead();
        ParseStatus status = default;
        long allocated = AllocatedBy(() =>
        {
            head.Reset();
            status = RequestHeadParser.Parse(input, head, HeadLimits.Default, out _);
        });
        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Decodes_a_chunked_body_without_trailers_without_allocating()
    {
        byte[] input = Bytes("5;ext=\"v\"\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        var decoder = new ChunkedDecoder();
        int offset = 0;
        long allocated = AllocatedBy(() =>
        {
            decoder.Reset();
            offset = 0;
            while (!decoder.IsComplete && offset < input.Length)
            {
                if (decoder.Decode(input.AsSpan(offset), out int consumed, out _, out _, out _) == ParseStatus.Invalid) break;
                offset += consumed;
            }
        });
        Assert.True(decoder.IsComplete);
        Assert.Equal(input.Length, offset);
        Assert.Equal(11, decoder.TotalDataLength);
        Assert.Equal(0, allocated);
    }

    // Past its 256-byte stack buffer the decoder borrows from ArrayPool<byte>.Shared and must give the
    // array back: a warm second run then borrows the same array again.
    [Fact]
    public void Compares_a_long_escaped_route_segment_without_allocating()
    {
        byte[] encoded = Bytes(string.Concat(Enumerable.Repeat("%41", 100)));
        byte[] decoded = Bytes(new string('A', 100));
        bool equal = false;
        long allocated = AllocatedBy(() => equal = PercentEncoding.DecodesTo(encoded, decoded));
        Assert.True(equal);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Decodes_a_long_escaped_path_allocating_only_its_string()
    {
        byte[] encoded = Bytes(string.Concat(Enumerable.Repeat("%41", 100)));
        byte[] decoded = Bytes(new string('A', 100));
        string? text = null;
        long allocated = AllocatedBy(() => text = PercentEncoding.DecodeToString(encoded, plusAsSpace: false));
        long stringOnly = AllocatedBy(() => text = System.Text.Encoding.UTF8.GetString(decoded));
        Assert.Equal(new string('A', 100), text);
        Assert.Equal(stringOnly, allocated);
    }
}

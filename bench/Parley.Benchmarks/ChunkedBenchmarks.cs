using System.Text;
using BenchmarkDotNet.Attributes;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// Decoding a 64 KiB chunked body sent as 16 chunks of 4 KiB, each size line carrying an extension
/// (<c>1000;name=value</c>), then the last chunk and an empty trailer section. The whole body is in one
/// buffer (<c>Whole</c>) or arrives in 1,500-byte reads as from a socket (<c>Reads1500</c>).
/// </summary>
[Config(typeof(BenchConfig))]
public class ChunkedBenchmarks
{
    private const int ChunkSize = 4096;
    private const int Chunks = 16;
    private readonly ChunkedDecoder _decoder = new();
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        var body = new MemoryStream();
        byte[] data = new byte[ChunkSize];
        new Random(42).NextBytes(data);
        for (int i = 0; i < Chunks; i++)
        {
            body.Write(Encoding.ASCII.GetBytes($"{ChunkSize:x};name=value\r\n"));
            body.Write(data);
            body.Write("\r\n"u8);
        }
        body.Write("0\r\n\r\n"u8);
        _encoded = body.ToArray();
        if (Whole() != ChunkSize * Chunks || Reads1500() != ChunkSize * Chunks) throw new InvalidOperationException("decoder check failed");
    }

    [Benchmark(Baseline = true)]
    public long Whole() => Decode(_encoded.Length);

    [Benchmark]
    public long Reads1500() => Decode(1500);

    // Feeds the decoder windows of at most readSize new bytes, carrying unconsumed bytes over as a connection does.
    private long Decode(int readSize)
    {
        ChunkedDecoder decoder = _decoder;
        decoder.Reset();
        ReadOnlySpan<byte> all = _encoded;
        int position = 0;
        int available = Math.Min(readSize, all.Length);
        long data = 0;
        while (!decoder.IsComplete)
        {
            ParseStatus status = decoder.Decode(all[position..available], out int consumed, out _, out int dataLength, out _);
            if (status == ParseStatus.Invalid) throw new InvalidOperationException("invalid");
            position += consumed;
            data += dataLength;
            if (status == ParseStatus.NeedMoreData || position == available)
            {
                if (available == all.Length && status == ParseStatus.NeedMoreData) throw new InvalidOperationException("truncated");
                available = Math.Min(available + readSize, all.Length);
            }
        }
        return data;
    }
}

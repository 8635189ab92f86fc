using System.Text;
using BenchmarkDotNet.Attributes;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// Serializing the plaintext response into a <see cref="ByteBuffer"/>: status line, Date, Server,
/// Content-Type, Content-Length, blank line, 13-byte body. <c>EncodedPerResponse</c> validates and
/// encodes the Content-Type field from its strings on every response; <c>PreEncoded</c> copies the line
/// from bytes, as the server's <c>WriteHead</c> does when a handler sets the same strings again (see
/// <c>ResponseHeaders.EncodedFieldLines</c>).
/// </summary>
[Config(typeof(BenchConfig))]
public class WriterBenchmarks
{
    private static readonly byte[] Body = "Hello, World!"u8.ToArray();
    private static readonly byte[] ServerLine = Encoding.ASCII.GetBytes("Server: Parley\r\n");
    private static readonly byte[] ContentTypeLine = Encoding.ASCII.GetBytes("Content-Type: text/plain\r\n");
    private readonly ByteBuffer _output = new(4096);

    [Benchmark(Baseline = true)]
    public int EncodedPerResponse()
    {
        ByteBuffer output = _output;
        output.Clear();
        MessageWriter.WriteStatusLine(output, 200);
        output.Write(DateField.CurrentLine);
        output.Write(ServerLine);
        MessageWriter.WriteField(output, "Content-Type", "text/plain");
        MessageWriter.WriteContentLength(output, Body.Length);
        output.Write("\r\n"u8);
        output.Write(Body);
        return output.Length;
    }

    [Benchmark]
    public int PreEncoded()
    {
        ByteBuffer output = _output;
        output.Clear();
        MessageWriter.WriteStatusLine(output, 200);
        output.Write(DateField.CurrentLine);
        output.Write(ServerLine);
        MessageWriter.WriteFieldLine(output, ContentTypeLine);
        MessageWriter.WriteContentLength(output, Body.Length);
        output.Write("\r\n"u8);
        output.Write(Body);
        return output.Length;
    }
}

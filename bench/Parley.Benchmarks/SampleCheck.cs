using System.Buffers;
using Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http;
using Microsoft.Extensions.Primitives;
using HttpMethod = Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpMethod;
using HttpVersion = Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpVersion;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// Before anything is timed: both parsers must accept each sample completely, see every header line and
/// consume the same number of bytes, so the comparison is over the same validated work.
/// </summary>
public static class SampleCheck
{
    public static void Run()
    {
        Check("curl", Samples.Curl);
        Check("chromium", Samples.Chromium);
        Check("pipelined (one)", Samples.TechEmpowerPlaintext);
        CheckPipelined();
        Console.WriteLine($"sample check ok: curl {Samples.Curl.Length} B, chromium {Samples.Chromium.Length} B, " +
            $"pipelined {Samples.PipelineDepth} x {Samples.TechEmpowerPlaintext.Length} B");
    }

    private static void Check(string name, byte[] bytes)
    {
        int expectedFields = Samples.FieldCount(bytes);

        var head = new RequestHead();
        head.Reset();
        ParseStatus status = RequestHeadParser.Parse(bytes, head, HeadLimits.Default, out HttpError error);
        if (status != ParseStatus.Complete) throw new InvalidOperationException($"{name}: Parley says {status} {error}");
        if (head.HeadLength != bytes.Length || head.Fields.Count != expectedFields)
        {
            throw new InvalidOperationException($"{name}: Parley consumed {head.HeadLength}/{bytes.Length} B, {head.Fields.Count}/{expectedFields} fields");
        }

        var result = new KestrelParseResult();
        var parser = new HttpParser<KestrelCountingHandler>(showErrorDetails: true);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        if (!KestrelParsing.ParseOne(parser, new KestrelCountingHandler(result), ref reader) || !result.Complete)
        {
            throw new InvalidOperationException($"{name}: Kestrel did not complete");
        }
        if (reader.Consumed != bytes.Length || result.HeaderCount != expectedFields)
        {
            throw new InvalidOperationException($"{name}: Kestrel consumed {reader.Consumed}/{bytes.Length} B, {result.HeaderCount}/{expectedFields} fields");
        }
        if (result.Method != HttpMethod.Get || result.Version != HttpVersion.Http11)
        {
            throw new InvalidOperationException($"{name}: Kestrel saw {result.Method} {result.Version}");
        }

        // With its header collection: every sample's names are distinct, so the collection holds one
        // entry per line, and the same again after a reset and a second parse (values reused).
        var collecting = new KestrelCollectingHandler(new KestrelParseResult(), KestrelRequestHeaders.Create());
        var collectingParser = new HttpParser<KestrelCollectingHandler>(showErrorDetails: true);
        var headers = (IDictionary<string, StringValues>)collecting.Headers;
        for (int pass = 0; pass < 2; pass++)
        {
            collecting.Reset();
            var again = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            if (!KestrelParsing.ParseOne(collectingParser, collecting, ref again) || again.Consumed != bytes.Length
                || headers.Count != expectedFields)
            {
                throw new InvalidOperationException($"{name}: Kestrel's header collection holds {headers.Count}/{expectedFields} fields (pass {pass + 1})");
            }
        }
    }

    private static void CheckPipelined()
    {
        var bench = new ParserBenchmarks();
        bench.Setup();
        if (bench.Parley_Pipelined16() != Samples.PipelineDepth || bench.Kestrel_Pipelined16() != Samples.PipelineDepth)
        {
            throw new InvalidOperationException("pipelined: a parser did not find 16 heads");
        }
    }
}

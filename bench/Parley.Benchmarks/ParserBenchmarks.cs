using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// Parley's request-head parser against Kestrel's <c>HttpParser&lt;T&gt;</c> on the same bytes: one curl
/// request, one Chromium navigation request, and a pipelined batch of 16 requests parsed from one buffer.
/// Kestrel's parser alone is the baseline of each category, so the Ratio column reads "Parley time /
/// Kestrel time"; <c>KestrelHeaders_X</c> adds Kestrel's own header collection to its parser (see
/// <see cref="KestrelCollectingHandler"/>).
/// </summary>
[Config(typeof(BenchConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ParserBenchmarks
{
    private readonly RequestHead _head = new();
    private readonly HeadLimits _limits = HeadLimits.Default;
    private readonly HttpParser<KestrelCountingHandler> _kestrel = new(showErrorDetails: false);
    private readonly KestrelParseResult _kestrelResult = new();
    private KestrelCountingHandler _handler;
    private readonly HttpParser<KestrelCollectingHandler> _kestrelCollecting = new(showErrorDetails: false);
    private KestrelCollectingHandler _collecting;
    private ReadOnlyMemory<byte> _curl, _chromium, _pipelined;
    private ReadOnlySequence<byte> _curlSeq, _chromiumSeq, _pipelinedSeq;

    [GlobalSetup]
    public void Setup()
    {
        _handler = new KestrelCountingHandler(_kestrelResult);
        _collecting = new KestrelCollectingHandler(new KestrelParseResult(), KestrelRequestHeaders.Create());
        _curl = Samples.Curl;
        _chromium = Samples.Chromium;
        _pipelined = Samples.Pipelined;
        _curlSeq = new ReadOnlySequence<byte>(Samples.Curl);
        _chromiumSeq = new ReadOnlySequence<byte>(Samples.Chromium);
        _pipelinedSeq = new ReadOnlySequence<byte>(Samples.Pipelined);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("curl")]
    public int Kestrel_Curl() => KestrelOne(_curlSeq);

    [Benchmark, BenchmarkCategory("curl")]
    public int Parley_Curl() => ParleyOne(_curl);

    [Benchmark, BenchmarkCategory("curl")]
    public int KestrelHeaders_Curl() => KestrelOne(_kestrelCollecting, _collecting, _curlSeq);

    [Benchmark(Baseline = true), BenchmarkCategory("chromium")]
    public int Kestrel_Chromium() => KestrelOne(_chromiumSeq);

    [Benchmark, BenchmarkCategory("chromium")]
    public int Parley_Chromium() => ParleyOne(_chromium);

    [Benchmark, BenchmarkCategory("chromium")]
    public int KestrelHeaders_Chromium() => KestrelOne(_kestrelCollecting, _collecting, _chromiumSeq);

    [Benchmark(Baseline = true, OperationsPerInvoke = Samples.PipelineDepth), BenchmarkCategory("pipelined16")]
    public int Kestrel_Pipelined16() => KestrelAll(_kestrel, _handler, _pipelinedSeq);

    [Benchmark(OperationsPerInvoke = Samples.PipelineDepth), BenchmarkCategory("pipelined16")]
    public int KestrelHeaders_Pipelined16() => KestrelAll(_kestrelCollecting, _collecting, _pipelinedSeq);

    [Benchmark(OperationsPerInvoke = Samples.PipelineDepth), BenchmarkCategory("pipelined16")]
    public int Parley_Pipelined16()
    {
        ReadOnlyMemory<byte> rest = _pipelined;
        int heads = 0;
        while (!rest.IsEmpty)
        {
            _head.Reset();
            if (RequestHeadParser.Parse(rest, _head, _limits, out _) != ParseStatus.Complete) throw new InvalidOperationException("incomplete");
            rest = rest[_head.HeadLength..];
            heads++;
        }
        return heads;
    }

    private int KestrelOne(ReadOnlySequence<byte> request) => KestrelOne(_kestrel, _handler, request);

    private static int KestrelOne<THandler>(HttpParser<THandler> parser, THandler handler, ReadOnlySequence<byte> request)
        where THandler : struct, IHttpRequestLineHandler, IHttpHeadersHandler, IKestrelBenchHandler
    {
        handler.Reset();
        var reader = new SequenceReader<byte>(request);
        if (!KestrelParsing.ParseOne(parser, handler, ref reader)) throw new InvalidOperationException("incomplete");
        return (int)reader.Consumed;
    }

    private static int KestrelAll<THandler>(HttpParser<THandler> parser, THandler handler, ReadOnlySequence<byte> requests)
        where THandler : struct, IHttpRequestLineHandler, IHttpHeadersHandler, IKestrelBenchHandler
    {
        var reader = new SequenceReader<byte>(requests);
        int heads = 0;
        while (!reader.End)
        {
            handler.Reset();
            if (!KestrelParsing.ParseOne(parser, handler, ref reader)) throw new InvalidOperationException("incomplete");
            heads++;
        }
        return heads;
    }

    private int ParleyOne(ReadOnlyMemory<byte> request)
    {
        _head.Reset();
        if (RequestHeadParser.Parse(request, _head, _limits, out _) != ParseStatus.Complete) throw new InvalidOperationException("incomplete");
        return _head.Fields.Count;
    }
}

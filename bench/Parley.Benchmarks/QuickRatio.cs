using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// <c>-- quick [batches]</c>: a steadier check than BenchmarkDotNet on a loaded machine. Runs batches of
/// 2,000 parses of each sample with both parsers, interleaved in one process, and reports the minimum
/// ns per request over all batches of each (the least-disturbed batch) and the ratio of the minima.
/// The same work as <see cref="ParserBenchmarks"/>: nothing on Kestrel's side is changed.
/// </summary>
public static class QuickRatio
{
    private const int PerBatch = 2000;

    /// <summary><c>-- spin sample seconds</c>: Parley's parse alone in a loop, for a sampling profiler.</summary>
    public static void Spin(string sample, double seconds)
    {
        var head = new RequestHead();
        byte[] bytes = sample == "pipelined16" ? Samples.Pipelined : Samples.ByName(sample);
        var memory = new ReadOnlyMemory<byte>(bytes);
        var clock = Stopwatch.StartNew();
        long n = 0;
        // A negative duration means a fixed number of rounds of 10,000 (for instruction counts).
        for (long round = 0; seconds < 0 ? round < -seconds : clock.Elapsed.TotalSeconds < seconds; round++)
        {
            for (int i = 0; i < 10000; i++)
            {
                ReadOnlyMemory<byte> rest = memory;
                while (!rest.IsEmpty)
                {
                    head.Reset();
                    if (RequestHeadParser.Parse(rest, head, HeadLimits.Default, out _) != ParseStatus.Complete) throw new InvalidOperationException("incomplete");
                    rest = rest[head.HeadLength..];
                    n++;
                }
            }
        }
        Console.WriteLine($"{n} heads, {clock.Elapsed.TotalNanoseconds / n:F1} ns each");
    }

    public static void Run(int batches)
    {
        var head = new RequestHead();
        var limits = HeadLimits.Default;
        var result = new KestrelParseResult();
        var handler = new KestrelCountingHandler(result);
        var kestrel = new HttpParser<KestrelCountingHandler>(showErrorDetails: false);
        (string Name, byte[] Bytes, int Heads)[] samples =
        [
            ("curl", Samples.Curl, 1), ("chromium", Samples.Chromium, 1), ("pipelined16", Samples.Pipelined, Samples.PipelineDepth),
        ];
        foreach (var (name, bytes, heads) in samples)
        {
            var memory = new ReadOnlyMemory<byte>(bytes);
            var sequence = new ReadOnlySequence<byte>(bytes);
            double bestParley = double.MaxValue, bestKestrel = double.MaxValue;
            for (int b = 0; b < batches; b++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < PerBatch; i++)
                {
                    var reader = new SequenceReader<byte>(sequence);
                    while (!reader.End)
                    {
                        result.Reset();
                        if (!KestrelParsing.ParseOne(kestrel, handler, ref reader)) throw new InvalidOperationException("incomplete");
                    }
                }
                long t1 = Stopwatch.GetTimestamp();
                for (int i = 0; i < PerBatch; i++)
                {
                    ReadOnlyMemory<byte> rest = memory;
                    while (!rest.IsEmpty)
                    {
                        head.Reset();
                        if (RequestHeadParser.Parse(rest, head, limits, out _) != ParseStatus.Complete) throw new InvalidOperationException("incomplete");
                        rest = rest[head.HeadLength..];
                    }
                }
                long t2 = Stopwatch.GetTimestamp();
                double scale = 1e9 / Stopwatch.Frequency / PerBatch / heads;
                bestKestrel = Math.Min(bestKestrel, (t1 - t0) * scale);
                bestParley = Math.Min(bestParley, (t2 - t1) * scale);
            }
            Console.WriteLine($"{name,-12} kestrel {bestKestrel,7:F1} ns  parley {bestParley,7:F1} ns  ratio {bestParley / bestKestrel:F2}");
        }
    }
}

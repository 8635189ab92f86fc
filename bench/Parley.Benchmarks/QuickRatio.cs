using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// <c>-- quick [batches]</c>: a steadier check than BenchmarkDotNet on a loaded machine. Runs batches of
/// 2,000 parses of each sample with both parsers, interleaved in one process, and reports the minimum
/// ns per request over all batches of each (the least-disturbed batch) and the ratio of the minima, then
/// the medians and their ratio. An unreported pass over every sample runs first. Kestrel runs twice:
/// its parser alone (<see cref="KestrelCountingHandler"/>, the comparison) and its parser with
/// its own header collection (<see cref="KestrelCollectingHandler"/>), each against the same Parley times.
/// The same work as <see cref="ParserBenchmarks"/>: nothing on Kestrel's side is changed. Each batch is
/// a method of its own, called many times, so both run as ordinary tier-1 code, as under
/// BenchmarkDotNet, rather than as a loop compiled on stack replacement with other inlining choices.
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
            n += ParleyBatch(memory, head, HeadLimits.Default, 10000);
        }
        Console.WriteLine($"{n} heads, {clock.Elapsed.TotalNanoseconds / n:F1} ns each (vectors {Vector128.IsHardwareAccelerated}/{Vector256.IsHardwareAccelerated}/{Vector512.IsHardwareAccelerated})");
    }

    public static void Run(int batches)
    {
        var head = new RequestHead();
        var limits = HeadLimits.Default;
        var counting = new KestrelCountingHandler(new KestrelParseResult());
        var collecting = new KestrelCollectingHandler(new KestrelParseResult(), KestrelRequestHeaders.Create());
        var kestrel = new HttpParser<KestrelCountingHandler>(showErrorDetails: false);
        var kestrelCollecting = new HttpParser<KestrelCollectingHandler>(showErrorDetails: false);
        (string Name, byte[] Bytes, int Heads)[] samples =
        [
            ("curl", Samples.Curl, 1), ("chromium", Samples.Chromium, 1), ("pipelined16", Samples.Pipelined, Samples.PipelineDepth),
        ];
        // A first pass unreported, so every method involved runs as tier-1 code before the measured one.
        foreach (var (_, bytes, _) in samples)
        {
            for (int b = 0; b < Math.Max(batches / 4, 50); b++)
            {
                KestrelBatch(new ReadOnlySequence<byte>(bytes), kestrel, counting, PerBatch);
                KestrelBatch(new ReadOnlySequence<byte>(bytes), kestrelCollecting, collecting, PerBatch);
                ParleyBatch(bytes, head, limits, PerBatch);
            }
        }
        foreach (var (name, bytes, heads) in samples)
        {
            var memory = new ReadOnlyMemory<byte>(bytes);
            var sequence = new ReadOnlySequence<byte>(bytes);
            var parleyTimes = new double[batches];
            var kestrelTimes = new double[batches];
            var collectingTimes = new double[batches];
            for (int b = 0; b < batches; b++)
            {
                long t0 = Stopwatch.GetTimestamp();
                KestrelBatch(sequence, kestrel, counting, PerBatch);
                long t1 = Stopwatch.GetTimestamp();
                ParleyBatch(memory, head, limits, PerBatch);
                long t2 = Stopwatch.GetTimestamp();
                KestrelBatch(sequence, kestrelCollecting, collecting, PerBatch);
                long t3 = Stopwatch.GetTimestamp();
                double scale = 1e9 / Stopwatch.Frequency / PerBatch / heads;
                kestrelTimes[b] = (t1 - t0) * scale;
                parleyTimes[b] = (t2 - t1) * scale;
                collectingTimes[b] = (t3 - t2) * scale;
            }
            Report(name, "kestrel", kestrelTimes, parleyTimes);
            Report(name, "kestrel+headers", collectingTimes, parleyTimes);
        }
    }

    // The minima (least-disturbed batches) and their ratio, then the medians and theirs.
    private static void Report(string sample, string kestrelCase, double[] kestrelTimes, double[] parleyTimes)
    {
        double[] kestrel = [.. kestrelTimes], parley = [.. parleyTimes];
        Array.Sort(kestrel);
        Array.Sort(parley);
        double medianKestrel = kestrel[kestrel.Length / 2], medianParley = parley[parley.Length / 2];
        Console.WriteLine($"{sample,-12} {kestrelCase,-15} {kestrel[0],7:F1} ns  parley {parley[0],7:F1} ns  ratio {parley[0] / kestrel[0]:F2}" +
            $"  (medians {medianKestrel:F1} / {medianParley:F1} ns, ratio {medianParley / medianKestrel:F2})");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int KestrelBatch<THandler>(ReadOnlySequence<byte> sequence, HttpParser<THandler> kestrel, THandler handler, int count)
        where THandler : struct, IHttpRequestLineHandler, IHttpHeadersHandler, IKestrelBenchHandler
    {
        int heads = 0;
        for (int i = 0; i < count; i++)
        {
            var reader = new SequenceReader<byte>(sequence);
            while (!reader.End)
            {
                handler.Reset();
                if (!KestrelParsing.ParseOne(kestrel, handler, ref reader)) throw new InvalidOperationException("incomplete");
                heads++;
            }
        }
        return heads;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ParleyBatch(ReadOnlyMemory<byte> memory, RequestHead head, HeadLimits limits, int count)
    {
        int heads = 0;
        for (int i = 0; i < count; i++)
        {
            ReadOnlyMemory<byte> rest = memory;
            while (!rest.IsEmpty)
            {
                head.Reset();
                if (RequestHeadParser.Parse(rest, head, limits, out _) != ParseStatus.Complete) throw new InvalidOperationException("incomplete");
                rest = rest[head.HeadLength..];
                heads++;
            }
        }
        return heads;
    }
}

using System.Diagnostics;
using System.Runtime.CompilerServices;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// <c>-- stages [batches]</c>: Parley's parse of each sample cut into stages, each timed alone, as the
/// minimum ns per head over all batches: <c>reset</c>, the <c>whole</c> parse, the same calls made one by
/// one (<c>pieces</c>: request line, field section, semantics, without the incremental parse's
/// bookkeeping), the well-formed request <c>line</c>, the field section (<c>fields</c>) and its parts:
/// classifying the sample's 64-byte blocks (<c>classify</c>), <c>scan</c> (the masks and their rules) and
/// <c>add</c> (walking the marks into the table), then <c>semantics</c>. For finding which stage to attack;
/// the stages do not add up exactly.
/// </summary>
public static class Stages
{
    private const int PerBatch = 2000;

    public static void Run(int batches)
    {
        foreach (var (name, bytes) in new[] { ("curl", Samples.Curl), ("chromium", Samples.Chromium), ("te", Samples.TechEmpowerPlaintext) })
        {
            var head = new RequestHead();
            var parsed = new RequestHead();
            parsed.Reset();
            RequestHeadParser.Parse(bytes, parsed, HeadLimits.Default, out _);
            int fieldsStart = Array.IndexOf(bytes, (byte)'\n') + 1;
            var fields = new FieldTable();
            var memory = new ReadOnlyMemory<byte>(bytes);
            (string, Func<int>)[] stages =
            [
                ("reset", () => ResetBatch(head)),
                ("whole", () => WholeBatch(memory, head)),
                ("fields", () => FieldsBatch(bytes, fields, fieldsStart)),
                ("pieces", () => PiecesBatch(bytes, head)),
                ("line", () => LineBatch(bytes, head)),
                ("classify", () => ClassifyBatch(bytes)),
                ("scan", () => ScanBatch(bytes, fieldsStart)),
                ("add", () => AddBatch(bytes, fields, fieldsStart)),
                ("semantics", () => SemanticsBatch(parsed, bytes)),
            ];
            var best = new double[stages.Length];
            Array.Fill(best, double.MaxValue);
            for (int b = 0; b < batches; b++)
            {
                for (int s = 0; s < stages.Length; s++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    stages[s].Item2();
                    long t1 = Stopwatch.GetTimestamp();
                    best[s] = Math.Min(best[s], (t1 - t0) * 1e9 / Stopwatch.Frequency / PerBatch);
                }
            }
            Console.WriteLine($"{name,-9} " + string.Join("  ", stages.Select((s, i) => $"{s.Item1} {best[i]:F1}")));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ResetBatch(RequestHead head)
    {
        for (int i = 0; i < PerBatch; i++) head.Reset();
        return head.ParseOffset;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int WholeBatch(ReadOnlyMemory<byte> memory, RequestHead head)
    {
        int n = 0;
        for (int i = 0; i < PerBatch; i++)
        {
            head.Reset();
            RequestHeadParser.Parse(memory, head, HeadLimits.Default, out _);
            n += head.HeadLength;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FieldsBatch(byte[] bytes, FieldTable fields, int fieldsStart)
    {
        int n = 0;
        for (int i = 0; i < PerBatch; i++)
        {
            fields.Reset(bytes);
            int offset = fieldsStart;
            FieldLineParser.ParseSection(bytes, ref offset, fields, int.MaxValue, 100, out _);
            n += offset;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int PiecesBatch(byte[] bytes, RequestHead head)
    {
        int n = 0;
        var limits = HeadLimits.Default;
        for (int i = 0; i < PerBatch; i++)
        {
            head.Reset();
            head.Fields.Rebind(bytes);
            RequestHeadParser.TryParseWellFormedRequestLine(bytes, head, limits, out int end, out _, out _);
            FieldLineParser.ParseSection(bytes, ref end, head.Fields, limits.MaxHeadBytes, limits.MaxFieldCount, out _);
            head.HeadLength = end;
            RequestSemantics.Apply(head, bytes, out _);
            n += end;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ClassifyBatch(byte[] bytes)
    {
        ulong all = 0;
        ref byte start = ref bytes[0];
        for (int i = 0; i < PerBatch; i++)
        {
            for (int at = 0; at + 64 <= bytes.Length; at += 64)
            {
                WellFormedHead.Classify(ref Unsafe.Add(ref start, at), out ulong cr, out ulong name, out ulong control);
                all += cr ^ name ^ control;
            }
        }
        return (int)all;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int AddBatch(byte[] bytes, FieldTable fields, int fieldsStart)
    {
        Unsafe.SkipInit(out LineMarks marks);
        int lines = WellFormedHead.Scan(bytes, fieldsStart, ref marks, out _);
        int n = 0;
        for (int i = 0; i < PerBatch; i++)
        {
            fields.Reset(bytes);
            n += WellFormedHead.AddFieldLines(bytes, fieldsStart, lines, ref marks, fields) ? 1 : 0;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int LineBatch(byte[] bytes, RequestHead head)
    {
        int n = 0;
        for (int i = 0; i < PerBatch; i++)
        {
            RequestHeadParser.TryParseWellFormedRequestLine(bytes, head, HeadLimits.Default, out int end, out _, out _);
            n += end;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ScanBatch(byte[] bytes, int fieldsStart)
    {
        int n = 0;
        Unsafe.SkipInit(out LineMarks marks);
        for (int i = 0; i < PerBatch; i++) n += WellFormedHead.Scan(bytes, fieldsStart, ref marks, out _);
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SemanticsBatch(RequestHead parsed, byte[] bytes)
    {
        int n = 0;
        for (int i = 0; i < PerBatch; i++) n += RequestSemantics.Apply(parsed, bytes, out _) ? 1 : 0;
        return n;
    }
}

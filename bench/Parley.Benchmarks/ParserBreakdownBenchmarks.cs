using BenchmarkDotNet.Attributes;
using Parley.Http1;

namespace Parley.Benchmarks;

/// <summary>
/// Where Parley's parse of the Chromium request spends its time, stage by stage (internals are visible
/// to this assembly): resetting the head, the CRLF search alone, the field-line loop alone, the semantic pass
/// alone, and the whole parse. The stages do not add up exactly (calls, bounds checks), but show which one to attack.
/// </summary>
[Config(typeof(BenchConfig))]
public class ParserBreakdownBenchmarks
{
    private readonly RequestHead _head = new();
    private readonly RequestHead _parsed = new();
    private readonly FieldTable _fields = new();
    private readonly byte[] _request = Samples.Chromium;
    private int _fieldsStart;

    [GlobalSetup]
    public void Setup()
    {
        _parsed.Reset();
        if (RequestHeadParser.Parse(_request, _parsed, HeadLimits.Default, out _) != ParseStatus.Complete) throw new InvalidOperationException("sample");
        _fieldsStart = Array.IndexOf(_request, (byte)'\n') + 1;
    }

    [Benchmark(Baseline = true)]
    public int WholeParse()
    {
        _head.Reset();
        RequestHeadParser.Parse(_request, _head, HeadLimits.Default, out _);
        return _head.HeadLength;
    }

    [Benchmark]
    public int ResetOnly()
    {
        _head.Reset();
        return _head.ParseOffset;
    }

    [Benchmark]
    public int FieldLinesOnly()
    {
        _fields.Reset(_request);
        int offset = _fieldsStart;
        FieldLineParser.ParseSection(_request, ref offset, _fields, int.MaxValue, 100, out _);
        return offset;
    }

    [Benchmark]
    public int LineEndsOnly()
    {
        // Only the CRLF search of every line, as the careful path does it (LineReader); the one-pass path
        // for well-formed lines does the whole field-line loop in less.
        int offset = 0, lines = 0;
        while (LineReader.TryReadLine(_request, offset, out int length, out _) == ParseStatus.Complete && length > 0)
        {
            offset += length + 2;
            lines++;
        }
        return lines;
    }

    [Benchmark]
    public bool SemanticsOnly() => RequestSemantics.Apply(_parsed, out _);
}

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Text;

namespace Parley.Bench;

/// <summary>
/// Optional (BENCH_ALLOC_SAMPLING=1): listens to the runtime's GCAllocationTick events, raised about once
/// per 100 KB allocated with the type of the object that crossed the mark, and tallies them by type, so
/// <c>GET /alloc-types</c> shows what a server allocates per request without a profiler. Sampling costs
/// CPU; leave it off for measured runs.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const long GcKeyword = 0x1;
    private readonly ConcurrentDictionary<string, (long Samples, long Bytes)> _byType = new();
    private long _total;

    public static AllocationSampler? StartIfRequested() =>
        Environment.GetEnvironmentVariable("BENCH_ALLOC_SAMPLING") == "1" ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs data)
    {
        if (data.EventName is null || !data.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || data.Payload is null) return;
        int typeIndex = data.PayloadNames!.IndexOf("TypeName");
        int amountIndex = data.PayloadNames.IndexOf("AllocationAmount64");
        string type = typeIndex >= 0 ? data.Payload[typeIndex] as string ?? "?" : "?";
        long amount = amountIndex >= 0 ? Convert.ToInt64(data.Payload[amountIndex]) : 0;
        _byType.AddOrUpdate(type, (1, amount), (_, old) => (old.Samples + 1, old.Bytes + amount));
        Interlocked.Add(ref _total, amount);
    }

    /// <summary>Types by share of the sampled allocation volume, most first.</summary>
    public string Report(int top = 25)
    {
        var rows = _byType.ToArray();
        Array.Sort(rows, static (a, b) => b.Value.Bytes.CompareTo(a.Value.Bytes));
        long total = Math.Max(1, Interlocked.Read(ref _total));
        var text = new StringBuilder($"sampled bytes: {total}\nshare  samples  type\n");
        foreach (var (type, (samples, bytes)) in rows.Take(top))
        {
            text.Append($"{100.0 * bytes / total,5:F1}% {samples,8}  {type}\n");
        }
        return text.ToString();
    }
}

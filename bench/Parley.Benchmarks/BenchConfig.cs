using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;

namespace Parley.Benchmarks;

/// <summary>
/// A bounded job for a shared 2-core machine: one launch, 3 warm-up and 8 measured iterations of about
/// 250 ms each, so a benchmark costs a few seconds. Memory diagnoser on (bytes allocated per operation);
/// the ratio column compares each case with the baseline of its category (Kestrel's parser).
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(8)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithStrategy(RunStrategy.Throughput)
            .WithId("Bounded"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value));
    }
}

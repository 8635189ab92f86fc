using BenchmarkDotNet.Running;

namespace Parley.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project bench/Parley.Benchmarks -- --filter '*'</c>.
/// Every benchmark class carries <see cref="BenchConfig"/>: a short, bounded job fit for a 2-core box.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Check once, before measuring, that both parsers accept every request sample the same way.
        SampleCheck.Run();
        if (args.Length > 0 && args[0] == "quick")
        {
            QuickRatio.Run(args.Length > 1 ? int.Parse(args[1]) : 300);
            return 0;
        }
        if (args.Length > 0 && args[0] == "stages")
        {
            Stages.Run(args.Length > 1 ? int.Parse(args[1]) : 300);
            return 0;
        }
        if (args.Length > 2 && args[0] == "spin")
        {
            QuickRatio.Spin(args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        foreach (var summary in summaries)
        {
            if (summary.HasCriticalValidationErrors) return 1;
        }
        return 0;
    }
}

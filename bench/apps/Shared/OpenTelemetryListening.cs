using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Parley.Bench;

/// <summary>
/// BENCH_OTEL=1: the OpenTelemetry SDK listens to the server's meters and activity sources, as a deployment
/// exporting metrics and traces would (every span sampled, metrics aggregated), with exporters that
/// discard what they are given, so that the cost measured is the instrumentation's and the SDK's, not a network's.
/// </summary>
internal static class OpenTelemetryListening
{
    public static IDisposable? StartIfRequested(string[] meters, string[] sources)
    {
        if (Environment.GetEnvironmentVariable("BENCH_OTEL") != "1") return null;
        MeterProvider meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meters)
            .AddReader(new PeriodicExportingMetricReader(new Discard<Metric>(), exportIntervalMilliseconds: 10_000))
            .Build();
        TracerProvider tracerProvider = Sdk.CreateTracerProviderBuilder()
            .AddSource(sources)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new BatchActivityExportProcessor(new Discard<Activity>()))
            .Build();
        Console.WriteLine($"OpenTelemetry SDK listening to meters {string.Join(", ", meters)} and sources {string.Join(", ", sources)}");
        return new Both(meterProvider, tracerProvider);
    }

    private sealed class Discard<T> : BaseExporter<T> where T : class
    {
        public override ExportResult Export(in Batch<T> batch) => ExportResult.Success;
    }

    private sealed class Both(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Parley.Tests.Observability;

/// <summary>Runs the telemetry tests one at a time and apart from the others: meters and sources are process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>One recorded measurement: its instrument, unit, value and attributes.</summary>
public sealed record Measurement(string Instrument, string? Unit, double Value, IReadOnlyDictionary<string, object?> Tags);

/// <summary>
/// Listens to Parley's meters and activity sources with the base library's own listeners
/// (<see cref="MeterListener"/>, <see cref="ActivityListener"/>), as any exporter would.
/// </summary>
public sealed class TelemetryRecorder : IDisposable
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly SemaphoreSlim _recorded = new(0);
    private int? _port;

    /// <summary>
    /// Listens to the metrics and the spans, or to only one of them (the other then has no listener), and of the
    /// metrics to all or to <paramref name="onlyInstrument"/> alone.
    /// </summary>
    public TelemetryRecorder(bool metrics = true, bool spans = true, string? onlyInstrument = null)
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (metrics && (onlyInstrument is null || instrument.Name == onlyInstrument) && instrument.Meter.Name is ParleyTelemetry.ServerName or ParleyTelemetry.ClientName)
                listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.Start();
        _activities = new ActivityListener
        {
            ShouldListenTo = source => spans && source.Name is ParleyTelemetry.ServerName or ParleyTelemetry.ClientName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                _stopped.Enqueue(activity);
                _recorded.Release();
            },
        };
        ActivitySource.AddActivityListener(_activities);
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in tags) copy[tag.Key] = tag.Value;
        _measurements.Enqueue(new Measurement(instrument.Name, instrument.Unit, value, copy));
        _recorded.Release();
    }

    /// <summary>
    /// From now on sees only telemetry about <paramref name="port"/> (by its <c>server.port</c> attribute; telemetry
    /// without one is kept). A client or server of an earlier test may still be closing its connections meanwhile.
    /// </summary>
    public void OnlyPort(int port) => _port = port;

    private bool Mine(object? port) => _port is not int only || port is null || Equals(port, only);

    private bool Mine(Measurement measurement) => Mine(measurement.Tags.GetValueOrDefault("server.port"));

    private bool Mine(Activity activity) => Mine(activity.GetTagItem("server.port"));

    public IReadOnlyList<Measurement> Measurements(string instrument) => _measurements.Where(m => m.Instrument == instrument && Mine(m)).ToList();

    public IReadOnlyList<Activity> Spans => _stopped.Where(Mine).ToList();

    /// <summary>Waits until a measurement matching <paramref name="match"/> is recorded.</summary>
    public Task<Measurement> WaitForMeasurementAsync(string instrument, Func<Measurement, bool> match) =>
        WaitForAsync(() => _measurements.FirstOrDefault(m => m.Instrument == instrument && Mine(m) && match(m)), $"a {instrument} measurement");

    /// <summary>Waits until a span matching <paramref name="match"/> has stopped.</summary>
    public Task<Activity> WaitForSpanAsync(Func<Activity, bool> match) =>
        WaitForAsync(() => _stopped.FirstOrDefault(a => Mine(a) && match(a)), "a span");

    private async Task<T> WaitForAsync<T>(Func<T?> find, string what) where T : class
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (true)
        {
            if (find() is { } found) return found;
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _recorded.WaitAsync(left)) throw new TimeoutException($"no {what} was recorded within {WaitLimit}");
        }
    }

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }
}

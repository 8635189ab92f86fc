namespace Parley;

/// <summary>
/// The names to subscribe to for Parley's metrics (<see cref="System.Diagnostics.Metrics.Meter"/>) and traces
/// (<see cref="System.Diagnostics.ActivitySource"/>): e.g. OpenTelemetry's <c>AddMeter(ParleyTelemetry.ServerName)</c>
/// and <c>AddSource(ParleyTelemetry.ServerName)</c>, or <c>dotnet-counters monitor --counters Parley.Server</c>.
/// Instruments, spans and attributes follow the OpenTelemetry HTTP semantic conventions (docs/observability.md).
/// </summary>
public static class ParleyTelemetry
{
    /// <summary>The name of the server's meter and activity source.</summary>
    public const string ServerName = "Parley.Server";

    /// <summary>The name of the client's meter and activity source.</summary>
    public const string ClientName = "Parley.Client";
}

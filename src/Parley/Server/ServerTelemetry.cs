using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Parley.Server;

/// <summary>The server's instruments and activity source, under the OpenTelemetry HTTP server conventions' names.</summary>
internal static class ServerTelemetry
{
    public static readonly Meter Meter = new(ParleyTelemetry.ServerName);

    public static readonly ActivitySource Source = new(ParleyTelemetry.ServerName);

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "http.server.request.duration", "s", "Duration of HTTP server requests.", tags: null, HttpTelemetry.DurationAdvice);

    public static readonly UpDownCounter<long> ActiveRequests = Meter.CreateUpDownCounter<long>(
        "http.server.active_requests", "{request}", "Number of active HTTP server requests.");

    public static readonly Counter<long> AccessLogDropped = Meter.CreateCounter<long>(
        "parley.server.access_log.dropped", "{line}", "Access log lines dropped because the log's buffer was full.");
}

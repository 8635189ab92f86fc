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

    // Connection-level instruments, after Kestrel's (kestrel.active_connections, kestrel.connection.duration,
    // kestrel.rejected_connections, kestrel.tls_handshake.duration), under this server's own namespace:
    // the HTTP conventions define none for servers.
    public static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>(
        "parley.server.active_connections", "{connection}", "Number of connections that are currently open on the server.");

    public static readonly Histogram<double> ConnectionDuration = Meter.CreateHistogram(
        "parley.server.connection.duration", "s", "The duration of connections on the server.", tags: null, HttpTelemetry.DurationAdvice);

    public static readonly Counter<long> RejectedConnections = Meter.CreateCounter<long>(
        "parley.server.rejected_connections", "{connection}", "Number of connections refused because the server had MaxConcurrentConnections open.");

    public static readonly Histogram<double> TlsHandshakeDuration = Meter.CreateHistogram(
        "parley.server.tls_handshake.duration", "s", "The duration of TLS handshakes on the server.", tags: null, HttpTelemetry.DurationAdvice);

    public static readonly Counter<long> AccessLogDropped = Meter.CreateCounter<long>(
        "parley.server.access_log.dropped", "{line}", "Access log lines dropped because the log's buffer was full.");
}

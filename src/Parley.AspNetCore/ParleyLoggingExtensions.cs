using Microsoft.Extensions.Logging;
using Parley.Server;

namespace Parley.AspNetCore;

/// <summary>
/// The bridge from Parley's engine logs to <c>Microsoft.Extensions.Logging</c>: the core library depends on
/// the base library only, so its access log and error log are callbacks, and this connects them to loggers.
/// </summary>
public static class ParleyLoggingExtensions
{
    /// <summary>The logger category of access log entries (one Information entry per response).</summary>
    public const string AccessLogCategory = "Parley.AccessLog";

    /// <summary>The logger category of the engine's errors (a handler that threw, a failed TLS handshake, ...).</summary>
    public const string ErrorLogCategory = "Parley.Server";

    /// <summary>
    /// Sends each response's access log entry (method, target, status, body bytes, duration, request number on
    /// its connection, as structured properties) to the <see cref="AccessLogCategory"/> logger at Information,
    /// and the engine's errors to the <see cref="ErrorLogCategory"/> logger at Error. The access entry is
    /// logged on the request path: use a provider that queues (the console and OpenTelemetry ones do), or
    /// <see cref="HttpServerOptions.AccessLogWriter"/> for a file.
    /// </summary>
    public static HttpServerOptions UseLogging(this HttpServerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ILogger access = loggerFactory.CreateLogger(AccessLogCategory);
        ILogger errors = loggerFactory.CreateLogger(ErrorLogCategory);
        options.AccessLog = entry => access.AccessLogEntry(entry.Method, entry.Target, entry.StatusCode, entry.BodyBytes, entry.Duration.TotalMilliseconds, entry.RequestOnConnection);
        options.ErrorLog = errors.EngineError;
        return options;
    }
}

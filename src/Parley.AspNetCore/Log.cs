using Microsoft.Extensions.Logging;

namespace Parley.AspNetCore;

internal static partial class Log
{
    [LoggerMessage(13, LogLevel.Error, "Connection id \"{ConnectionId}\", Request id \"{TraceIdentifier}\": An unhandled exception was thrown by the application.", EventName = "ApplicationError")]
    public static partial void ApplicationError(this ILogger logger, string connectionId, string traceIdentifier, Exception exception);

    [LoggerMessage(14, LogLevel.Information, "Now listening on: {Address}", EventName = "ListeningOn")]
    public static partial void ListeningOn(this ILogger logger, string address);

    [LoggerMessage(15, LogLevel.Error, "{Message}", EventName = "EngineError")]
    public static partial void EngineError(this ILogger logger, string message, Exception? exception);

    [LoggerMessage(17, LogLevel.Information, "{Method} {Target} {StatusCode} {BodyBytes}B {DurationMs:0.###}ms (request {RequestOnConnection} on its connection)", EventName = "AccessLog")]
    public static partial void AccessLogEntry(this ILogger logger, string method, string target, int statusCode, long bodyBytes, double durationMs, int requestOnConnection);

    [LoggerMessage(16, LogLevel.Warning, "Overriding address(es) '{Addresses}'. Binding to endpoints defined via ParleyServerOptions.Urls instead.", EventName = "OverridingAddresses")]
    public static partial void OverridingAddresses(this ILogger logger, string addresses);
}

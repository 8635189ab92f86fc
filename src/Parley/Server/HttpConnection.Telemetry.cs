using System.Diagnostics;
using Parley.Http1;

namespace Parley.Server;

// Metrics and the span of one request, observed from the edges of the exchange: one call when it starts,
// one when it ends. With no listener, each is a few field reads: no clock read, no tag, no allocation;
// with the Parley.Telemetry.IsSupported switch off, not even those (TelemetrySupport).
internal sealed partial class HttpConnection
{
    private bool _activeCounted;
    private long _durationStarted;
    private Activity? _activity;
    private Activity? _ambientActivity;
    private string? _failure;

    private readonly BoundListener _listener;
    private bool _connectionCounted;
    private long _connectionStarted;

    /// <summary>Counts the connection open (when someone listens): called once, as it is accepted.</summary>
    private void BeginConnectionTelemetry()
    {
        if (!TelemetrySupport.IsSupported) return;
        if (ServerTelemetry.ActiveConnections.Enabled)
        {
            _connectionCounted = true;
            ServerTelemetry.ActiveConnections.Add(1, new TagList(_listener.ConnectionTags));
        }
        if (ServerTelemetry.ConnectionDuration.Enabled) _connectionStarted = Stopwatch.GetTimestamp();
    }

    /// <summary>Counts the connection closed and records how long it lasted: called once, by the server, when it is gone.</summary>
    internal void EndConnectionTelemetry()
    {
        if (!TelemetrySupport.IsSupported) return;
        if (_connectionCounted)
        {
            _connectionCounted = false;
            ServerTelemetry.ActiveConnections.Add(-1, new TagList(_listener.ConnectionTags));
        }
        if (_connectionStarted != 0)
        {
            ServerTelemetry.ConnectionDuration.Record(Stopwatch.GetElapsedTime(_connectionStarted).TotalSeconds, new TagList(_listener.ConnectionTags));
            _connectionStarted = 0;
        }
    }

    /// <summary>Records a TLS handshake's duration, with the protocol it agreed on or why it failed.</summary>
    private void RecordHandshake(long started, Exception? failure)
    {
        var tags = new TagList(_listener.ConnectionTags);
        if (failure is not null) tags.Add(HttpTelemetry.ErrorType, failure.GetType().FullName);
        else if (TlsSession is { } session) tags.Add(HttpTelemetry.TlsProtocolVersion, session.Protocol switch
        {
            System.Security.Authentication.SslProtocols.Tls13 => "1.3",
            System.Security.Authentication.SslProtocols.Tls12 => "1.2",
            _ => session.ProtocolName,
        });
        ServerTelemetry.TlsHandshakeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    // url.scheme is the client's original scheme: a trusted proxy's forwarded one when it sent one
    // (OpenTelemetry's HTTP server conventions), as for HttpRequest.Scheme.
    private string SchemeValue => _request.Scheme;

    private string ProtocolVersionValue => _head.Version == HttpVersion.Http10 ? "1.0" : "1.1";

    private bool TelemetryOpen => TelemetrySupport.IsSupported && (_activeCounted || _durationStarted != 0 || _activity is not null);

    /// <summary>Starts the request's metrics and span.</summary>
    private void BeginTelemetry()
    {
        if (!TelemetrySupport.IsSupported) return;
        _failure = null;
        _activeCounted = ServerTelemetry.ActiveRequests.Enabled;
        if (_activeCounted)
        {
            ServerTelemetry.ActiveRequests.Add(1,
                new(HttpTelemetry.Method, HttpTelemetry.MethodValue(_request.Method)), new(HttpTelemetry.Scheme, SchemeValue));
        }
        _durationStarted = ServerTelemetry.RequestDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        if (ServerTelemetry.Source.HasListeners()) StartActivity();
    }

    private void StartActivity()
    {
        _ambientActivity = Activity.Current;
        // The parent is the caller's, from traceparent/tracestate (W3C Trace Context), never whatever
        // activity was current when the connection was accepted.
        Activity.Current = null;
        ActivityContext.TryParse(_request.Headers["traceparent"], _request.Headers["tracestate"], isRemote: true, out ActivityContext parent);
        string method = HttpTelemetry.MethodValue(_request.Method);
        _activity = ServerTelemetry.Source.StartActivity(ActivityKind.Server, parent, name: method == HttpTelemetry.OtherMethod ? "HTTP" : method);
        if (_activity is { IsAllDataRequested: true } activity)
        {
            activity.SetTag(HttpTelemetry.Method, method);
            activity.SetTag(HttpTelemetry.Scheme, SchemeValue);
            activity.SetTag(HttpTelemetry.UrlPath, _request.Path);
            activity.SetTag(HttpTelemetry.ProtocolVersion, ProtocolVersionValue);
        }
    }

    /// <summary>
    /// Called once the handler has been called: the span stays current in the handler's own continuations,
    /// not in the connection's loop, which would otherwise make it the parent of the next request's span.
    /// </summary>
    private void LeaveActivity()
    {
        if (!TelemetrySupport.IsSupported) return;
        if (_activity is null) return;
        Activity.Current = _ambientActivity;
        _ambientActivity = null;
    }

    /// <summary>
    /// Reports a failure of the current request to <see cref="HttpServerOptions.ErrorLog"/> with the request's
    /// span current, as the handler saw it: a log that reads <see cref="Activity.Current"/> then ties the line
    /// to the request's trace. The connection's own flow left the span when the handler was called.
    /// </summary>
    private void LogRequestError(string message, Exception? exception)
    {
        Action<string, Exception?>? log = _options.ErrorLog;
        if (log is null) return;
        if (!TelemetrySupport.IsSupported || _activity is null)
        {
            log.Report(message, exception);
            return;
        }
        Activity? current = Activity.Current;
        Activity.Current = _activity;
        try
        {
            log.Report(message, exception);
        }
        finally
        {
            Activity.Current = current;
        }
    }

    /// <summary>Notes why the request failed, for error.type (the exception's type, as the conventions ask).</summary>
    private void NoteFailure(Exception ex)
    {
        if (TelemetryOpen) _failure = ex.GetType().FullName;
    }

    /// <summary>Ends the request's metrics and span with its final status (0 when no response was sent).</summary>
    private void EndTelemetry(int statusCode)
    {
        if (!TelemetrySupport.IsSupported) return;
        if (_activeCounted)
        {
            _activeCounted = false;
            ServerTelemetry.ActiveRequests.Add(-1,
                new(HttpTelemetry.Method, HttpTelemetry.MethodValue(_request.Method)), new(HttpTelemetry.Scheme, SchemeValue));
        }
        string? route = null;
        string? errorType = null;
        if (_durationStarted != 0 || _activity is not null)
        {
            route = _request.RouteTemplate;
            errorType = _failure ?? HttpTelemetry.ErrorTypeOfStatus(statusCode, client: false);
        }
        if (_durationStarted != 0)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(_durationStarted);
            _durationStarted = 0;
            var tags = new TagList
            {
                { HttpTelemetry.Method, HttpTelemetry.MethodValue(_request.Method) },
                { HttpTelemetry.Scheme, SchemeValue },
                { HttpTelemetry.ProtocolVersion, ProtocolVersionValue },
            };
            if (statusCode != 0) tags.Add(HttpTelemetry.StatusCode, HttpTelemetry.StatusCodeValue(statusCode));
            if (route is not null) tags.Add(HttpTelemetry.Route, route);
            if (errorType is not null) tags.Add(HttpTelemetry.ErrorType, errorType);
            ServerTelemetry.RequestDuration.Record(elapsed.TotalSeconds, tags);
        }
        if (_activity is { } activity)
        {
            _activity = null;
            if (activity.IsAllDataRequested)
            {
                // The conventions' span name: "{method} {route}" when routed, else "{method}".
                if (route is not null) activity.DisplayName = $"{activity.DisplayName} {route}";
                if (route is not null) activity.SetTag(HttpTelemetry.Route, route);
                if (statusCode != 0) activity.SetTag(HttpTelemetry.StatusCode, HttpTelemetry.StatusCodeValue(statusCode));
                if (errorType is not null)
                {
                    activity.SetTag(HttpTelemetry.ErrorType, errorType);
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
            Activity? ambient = Activity.Current;
            activity.Stop();
            // Stop makes the span's parent current; the connection's own context keeps what it had.
            Activity.Current = ambient == activity ? null : ambient;
        }
    }
}

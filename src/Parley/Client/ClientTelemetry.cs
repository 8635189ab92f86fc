using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Parley.Client;

/// <summary>The client's instruments and activity source, under the OpenTelemetry HTTP client conventions' names.</summary>
internal static class ClientTelemetry
{
    public static readonly Meter Meter = new(ParleyTelemetry.ClientName);

    public static readonly ActivitySource Source = new(ParleyTelemetry.ClientName);

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "http.client.request.duration", "s", "Duration of HTTP client requests.", tags: null, HttpTelemetry.DurationAdvice);

    public static readonly UpDownCounter<long> ActiveRequests = Meter.CreateUpDownCounter<long>(
        "http.client.active_requests", "{request}", "Number of outbound HTTP requests that are currently active on the client.");

    public static readonly UpDownCounter<long> OpenConnections = Meter.CreateUpDownCounter<long>(
        "http.client.open_connections", "{connection}", "Number of outbound HTTP connections that are currently active or idle on the client.");

    public static readonly Histogram<double> ConnectionDuration = Meter.CreateHistogram(
        "http.client.connection.duration", "s", "The duration of the successfully established outbound HTTP connections.", tags: null, HttpTelemetry.DurationAdvice);
}

/// <summary>
/// The metrics and span of one client request, from the call that sends it to the response head (or the
/// failure). Nothing is read, formatted or allocated unless an instrument or the source has a listener.
/// </summary>
internal struct ClientRequestTelemetry
{
    private readonly ParleyRequest _request;
    private readonly Origin _origin;
    private readonly bool _activeCounted;
    private readonly long _started;

    /// <summary>The request's span, for the traceparent the connection writes; null when nobody traces.</summary>
    public Activity? Activity { get; private set; }

    private ClientRequestTelemetry(ParleyRequest request, Origin origin, bool activeCounted, long started, Activity? activity)
    {
        _request = request;
        _origin = origin;
        _activeCounted = activeCounted;
        _started = started;
        Activity = activity;
    }

    public static ClientRequestTelemetry Begin(ParleyRequest request, Origin origin)
    {
        if (!TelemetrySupport.IsSupported) return default;
        bool active = ClientTelemetry.ActiveRequests.Enabled;
        if (active) ClientTelemetry.ActiveRequests.Add(1, ActiveTags(request, origin));
        long started = ClientTelemetry.RequestDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        Activity? activity = ClientTelemetry.Source.HasListeners() ? StartActivity(request, origin) : null;
        return new ClientRequestTelemetry(request, origin, active, started, activity);
    }

    private static TagList ActiveTags(ParleyRequest request, Origin origin) => new()
    {
        { HttpTelemetry.Method, HttpTelemetry.MethodValue(request.Method) },
        { HttpTelemetry.ServerAddress, origin.Host },
        { HttpTelemetry.ServerPort, origin.Port },
        { HttpTelemetry.Scheme, origin.Scheme },
    };

    private static Activity? StartActivity(ParleyRequest request, Origin origin)
    {
        string method = HttpTelemetry.MethodValue(request.Method);
        // The conventions' client span name is the method ("HTTP" for one outside the known set);
        // the parent is whatever activity is current for the caller.
        Activity? activity = ClientTelemetry.Source.StartActivity(method == HttpTelemetry.OtherMethod ? "HTTP" : method, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(HttpTelemetry.Method, method);
            activity.SetTag(HttpTelemetry.ServerAddress, origin.Host);
            activity.SetTag(HttpTelemetry.ServerPort, origin.Port);
            activity.SetTag(HttpTelemetry.Scheme, origin.Scheme);
            activity.SetTag(HttpTelemetry.UrlFull, request.Uri.AbsoluteUri);
        }
        return activity;
    }

    /// <summary>Ends with the response head's status and version, or with the failure that prevented one.</summary>
    public void End(ParleyResponse? response, Exception? failure)
    {
        if (_request is null) return;
        if (_activeCounted) ClientTelemetry.ActiveRequests.Add(-1, ActiveTags(_request, _origin));
        int statusCode = response?.StatusCode ?? 0;
        string? version = response is null ? null : response.Version.Minor == 0 ? "1.0" : "1.1";
        string? errorType = failure is not null ? ErrorTypeOf(failure) : HttpTelemetry.ErrorTypeOfStatus(statusCode, client: true);
        if (_started != 0)
        {
            TagList tags = ActiveTags(_request, _origin);
            if (statusCode != 0) tags.Add(HttpTelemetry.StatusCode, HttpTelemetry.StatusCodeValue(statusCode));
            if (version is not null) tags.Add(HttpTelemetry.ProtocolVersion, version);
            if (errorType is not null) tags.Add(HttpTelemetry.ErrorType, errorType);
            ClientTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        }
        if (Activity is { } activity)
        {
            if (activity.IsAllDataRequested)
            {
                if (statusCode != 0) activity.SetTag(HttpTelemetry.StatusCode, HttpTelemetry.StatusCodeValue(statusCode));
                if (version is not null) activity.SetTag(HttpTelemetry.ProtocolVersion, version);
                if (errorType is not null)
                {
                    activity.SetTag(HttpTelemetry.ErrorType, errorType);
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
            activity.Stop();
            Activity = null;
        }
    }

    // The failure's kind when Parley names it (timeout, connection refused, ...), else the exception's type.
    private static string ErrorTypeOf(Exception failure) => failure switch
    {
        ParleyHttpException http => ToSnakeCase(http.Kind.ToString()),
        OperationCanceledException => "canceled",
        _ => failure.GetType().FullName ?? "_OTHER",
    };

    private static string ToSnakeCase(string name)
    {
        var text = new System.Text.StringBuilder(name.Length + 4);
        foreach (char c in name)
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}

using System.Diagnostics.Metrics;

namespace Parley;

/// <summary>
/// Attribute names and values shared by the server's and the client's instruments, as the OpenTelemetry
/// HTTP semantic conventions define them. Every caller checks that someone listens before it builds a tag.
/// </summary>
internal static class HttpTelemetry
{
    public const string Method = "http.request.method";
    public const string StatusCode = "http.response.status_code";
    public const string Scheme = "url.scheme";
    public const string ProtocolVersion = "network.protocol.version";
    public const string Route = "http.route";
    public const string ErrorType = "error.type";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string UrlPath = "url.path";
    public const string UrlFull = "url.full";
    public const string NetworkType = "network.type";
    public const string NetworkTransport = "network.transport";
    public const string TlsProtocolVersion = "tls.protocol.version";

    /// <summary>The conventions' value for a method outside the known set, which would otherwise let clients mint attribute values.</summary>
    public const string OtherMethod = "_OTHER";

    /// <summary>The recommended bucket boundaries of the request and connection duration histograms, in seconds.</summary>
    public static readonly InstrumentAdvice<double> DurationAdvice = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    };

    /// <summary>The method as an attribute value: the method itself when standard (RFC 9110 §9), otherwise <see cref="OtherMethod"/>.</summary>
    public static string MethodValue(string method) => HttpMethods.IsStandard(method) ? method : OtherMethod;

    /// <summary>
    /// The status code as a boxed object, the ordinary ones boxed once (a tag's value is an object; the
    /// instruments would box it on every record otherwise).
    /// </summary>
    public static object StatusCodeValue(int statusCode) =>
        (uint)(statusCode - 100) < (uint)BoxedStatusCodes.Length ? BoxedStatusCodes[statusCode - 100] : statusCode;

    private static readonly object[] BoxedStatusCodes = CreateBoxedStatusCodes();

    private static object[] CreateBoxedStatusCodes()
    {
        var boxed = new object[500];
        for (int i = 0; i < boxed.Length; i++) boxed[i] = i + 100;
        return boxed;
    }

    /// <summary>A 5xx status is an error for a server's span and metrics, a 4xx or 5xx one for a client's (the conventions' rule).</summary>
    public static string? ErrorTypeOfStatus(int statusCode, bool client) =>
        statusCode >= 500 || (client && statusCode >= 400) ? StatusText(statusCode) : null;

    private static string StatusText(int statusCode) => statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

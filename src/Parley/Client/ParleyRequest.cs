using Parley.Http1;

namespace Parley.Client;

/// <summary>One request: method, absolute http URI, header fields and an optional body.</summary>
public sealed class ParleyRequest
{
    /// <summary>Creates a request.</summary>
    public ParleyRequest(string method, Uri uri)
    {
        if (!HttpSyntax.IsToken(method)) throw new ArgumentException($"invalid method '{method}'", nameof(method));
        ArgumentNullException.ThrowIfNull(uri);
        Method = method;
        Uri = uri;
    }

    /// <summary>Creates a request from a URL string.</summary>
    public ParleyRequest(string method, string url) : this(method, new Uri(url, UriKind.Absolute)) { }

    /// <summary>The method (case-sensitive, RFC 9110 §9.1).</summary>
    public string Method { get; }

    /// <summary>The absolute http URI; the request line carries its path and query (origin-form).</summary>
    public Uri Uri { get; }

    /// <summary>Header fields to send. Host, Content-Length and Transfer-Encoding are set by the client.</summary>
    public ParleyHeaders Headers => _headers ??= new();

    /// <summary>The header fields, or null when none were ever added (saves an allocation per request).</summary>
    internal ParleyHeaders? HeadersIfAny => _headers;

    private ParleyHeaders? _headers;

    /// <summary>The body, if any.</summary>
    public ParleyContent? Content { get; set; }

    /// <summary>Send <c>Expect: 100-continue</c> and hold the body until the server agrees (or a timeout passes).</summary>
    public bool ExpectContinue { get; set; }

    /// <summary>Receives this request's session events (instead of the client's observer).</summary>
    public ISessionObserver? Observer { get; set; }

    /// <summary>Overrides <see cref="ParleyClientOptions.FollowRedirects"/> for this request.</summary>
    public bool? FollowRedirects { get; set; }

    /// <summary>A GET request.</summary>
    public static ParleyRequest Get(string url) => new(HttpMethods.Get, url);

    /// <summary>A POST of form fields.</summary>
    public static ParleyRequest PostForm(string url, IEnumerable<KeyValuePair<string, string>> fields) =>
        new(HttpMethods.Post, url) { Content = ParleyContent.FromForm(fields) };

    /// <summary>RFC 9110 §9.2.2: methods whose repetition has the same effect as one request.</summary>
    internal static bool IsIdempotent(string method) =>
        method is HttpMethods.Get or HttpMethods.Head or HttpMethods.Options or HttpMethods.Trace or HttpMethods.Put or HttpMethods.Delete;
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using EngineResponseType = Parley.Server.HttpResponse;

namespace Parley.AspNetCore;

// Response trailers (RFC 9110 §6.5) in the chunked coding's trailer section (RFC 9112 §7.1.2), through the
// engine's HttpResponse.Trailers. Kestrel offers no trailers over HTTP/1.1 (docs/aspnetcore.md).
internal abstract partial class RequestFeatures : IHttpResponseTrailersFeature
{
    private ResponseTrailerHeaders? _responseTrailers;
    private IHeaderDictionary? _responseTrailersSet;
    private bool _trailersEnded;

    IHeaderDictionary IHttpResponseTrailersFeature.Trailers
    {
        get => _responseTrailersSet ?? (_responseTrailers ??= new ResponseTrailerHeaders(this));
        set => _responseTrailersSet = value;
    }

    /// <summary>
    /// True while trailers appended now would be sent: the engine's response can carry them (HTTP/1.1, not
    /// HEAD, chunked or not started), the status and Content-Length the application set but has not yet
    /// handed to the engine allow them, and the application has not finished.
    /// </summary>
    internal bool TrailersWritable =>
        _response is { } response && !_trailersEnded && response.SupportsTrailers
        && (_hasStarted || (!Parley.StatusCodes.ForbidsBody(_statusCode) && CurrentResponseHeaders.ContentLength is null));

    private bool HasReplacedTrailers => _responseTrailersSet is not null;

    private void ResetTrailers()
    {
        _responseTrailersSet = null;
        _trailersEnded = false;
    }

    // After the application: what is in the trailers now is what is sent.
    private void EndTrailers() => _trailersEnded = true;

    // An application (or middleware) that replaced the trailer collection filled its own dictionary: its
    // fields go to the engine once the body is complete, checked there like any other.
    private void CopyReplacedTrailers()
    {
        if (_responseTrailersSet is not { } replaced || replaced.Count == 0) return;
        EngineResponseType response = EngineResponse;
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> field in replaced)
        {
            foreach (string? value in field.Value) response.Trailers.Add(field.Key, value ?? "");
        }
    }

    // A failed response is answered without the trailers the application had set.
    private static void RemoveEngineTrailers(EngineResponseType response)
    {
        Parley.Server.ResponseTrailers trailers = response.Trailers;
        if (trailers.Count == 0) return;
        var names = new List<string>(trailers.Count);
        foreach (KeyValuePair<string, string> field in trailers) names.Add(field.Key);
        foreach (string name in names) trailers.Remove(name);
    }
}

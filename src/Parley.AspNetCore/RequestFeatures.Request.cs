using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Parley.AspNetCore;

// The request side: line, headers, body, connection, identity, lifetime and body limits.
internal abstract partial class RequestFeatures :
    IHttpRequestFeature,
    IHttpRequestBodyDetectionFeature,
    IHttpConnectionFeature,
    IHttpRequestIdentifierFeature,
    IHttpRequestLifetimeFeature,
    IHttpMaxRequestBodySizeFeature,
    IHttpBodyControlFeature
{
    private readonly HeaderDictionary _requestHeaders = new();
    private readonly RequestBodyStream _requestStream;
    private bool _requestHeadersLoaded;
    private readonly RecentStrings _recentNames = new(slots: 32, maxBytes: 64);
    private readonly RecentStrings _recentValues = new(slots: 32, maxBytes: 256);

    // Set by the application (each may replace what the engine reported); null means "as received".
    private string? _protocol, _scheme, _method, _pathBase, _path, _queryString, _rawTarget;
    private IHeaderDictionary? _requestHeadersSet;
    private Stream? _requestBodySet;
    private string? _connectionId, _traceIdentifier;
    private IPAddress? _remoteIp, _localIp;
    private int? _remotePort, _localPort;
    private CancellationToken? _requestAbortedSet;
    private long? _maxRequestBodySize;

    // The last decoded path and the raw bytes it came from: a server answering the same paths again and
    // again decodes each only once per pooled object.
    private byte[] _lastRawPath = [];
    private int _lastRawPathLength = -1;
    private string _lastPath = "";

    /// <summary>Set once the application has started reading the body; the body size limit is then fixed.</summary>
    internal bool BodyReadStarted { get; set; }

    /// <summary>Whether synchronous body I/O is allowed for this request.</summary>
    public bool AllowSynchronousIO { get; set; }

    private void ResetRequest()
    {
        _requestHeaders.IsReadOnly = false;
        _requestHeaders.Clear();
        _requestHeadersLoaded = false;
        _protocol = _scheme = _method = _pathBase = _path = _queryString = _rawTarget = null;
        _requestHeadersSet = null;
        _requestBodySet = null;
        _connectionId = _traceIdentifier = null;
        _remoteIp = _localIp = null;
        _remotePort = _localPort = null;
        _requestAbortedSet = null;
        _maxRequestBodySize = Server.Options.MaxRequestBodySize;
        BodyReadStarted = false;
        AllowSynchronousIO = Server.Options.AllowSynchronousIO;
        ResetTls();
    }

    // ---- IHttpRequestFeature

    string IHttpRequestFeature.Protocol
    {
        get => _protocol ?? EngineRequest.Protocol;
        set => _protocol = value;
    }

    string IHttpRequestFeature.Scheme
    {
        get => _scheme ?? EngineRequest.Scheme;
        set => _scheme = value;
    }

    string IHttpRequestFeature.Method
    {
        get => _method ?? EngineRequest.Method;
        set => _method = value;
    }

    string IHttpRequestFeature.PathBase
    {
        get => _pathBase ?? "";
        set => _pathBase = value;
    }

    string IHttpRequestFeature.Path
    {
        get => _path ??= DecodePath();
        set => _path = value;
    }

    string IHttpRequestFeature.QueryString
    {
        get => _queryString ??= EngineRequest.RawQuery is { Length: > 0 } query ? "?" + query : "";
        set => _queryString = value;
    }

    string IHttpRequestFeature.RawTarget
    {
        get => _rawTarget ??= EngineRequest.Target;
        set => _rawTarget = value;
    }

    IHeaderDictionary IHttpRequestFeature.Headers
    {
        get => _requestHeadersSet ?? LoadRequestHeaders();
        set => _requestHeadersSet = value;
    }

    Stream IHttpRequestFeature.Body
    {
        get => _requestBodySet ?? _requestStream;
        set => _requestBodySet = value;
    }

    private string DecodePath()
    {
        Parley.Server.HttpRequest request = EngineRequest;
        // RFC 9112 §3.2.4: the asterisk form has no path.
        if (request.TargetForm == RequestTargetForm.Asterisk) return "";
        ReadOnlySpan<byte> raw = request.RawPath;
        if (raw.Length == _lastRawPathLength && raw.SequenceEqual(_lastRawPath.AsSpan(0, _lastRawPathLength))) return _lastPath;
        string path = RequestPath.Decode(raw);
        if (raw.Length <= 256)
        {
            if (_lastRawPath.Length < raw.Length) _lastRawPath = new byte[Math.Max(raw.Length, 32)];
            raw.CopyTo(_lastRawPath);
            _lastRawPathLength = raw.Length;
            _lastPath = path;
        }
        return path;
    }

    // Made only when the application first asks: many endpoints never read a header.
    private HeaderDictionary LoadRequestHeaders()
    {
        if (_requestHeadersLoaded) return _requestHeaders;
        _requestHeadersLoaded = true;
        Parley.Server.RequestHeaders fields = EngineRequest.Headers;
        for (int i = 0; i < fields.Count; i++)
        {
            ReadOnlySpan<byte> rawName = fields.RawNameAt(i);
            string? name = _recentNames.Find(i, rawName);
            if (name is null)
            {
                name = fields.NameAt(i);
                _recentNames.Remember(i, rawName, name);
            }
            ReadOnlySpan<byte> rawValue = fields.RawValueAt(i);
            string? value = _recentValues.Find(i, rawValue);
            if (value is null)
            {
                value = fields.ValueAt(i);
                _recentValues.Remember(i, rawValue, value);
            }
            if (_requestHeaders.TryGetValue(name, out StringValues existing)) _requestHeaders[name] = StringValues.Concat(existing, value);
            else _requestHeaders[name] = value;
        }
        return _requestHeaders;
    }

    // ---- IHttpRequestBodyDetectionFeature

    bool IHttpRequestBodyDetectionFeature.CanHaveBody => EngineRequest.HasBody;

    // ---- IHttpConnectionFeature

    string IHttpConnectionFeature.ConnectionId
    {
        get => _connectionId ??= ConnectionIdText(EngineRequest.ConnectionId);
        set => _connectionId = value;
    }

    IPAddress? IHttpConnectionFeature.RemoteIpAddress
    {
        get => _remoteIp ?? EngineRequest.RemoteEndPoint?.Address;
        set => _remoteIp = value;
    }

    IPAddress? IHttpConnectionFeature.LocalIpAddress
    {
        get => _localIp ?? EngineRequest.LocalEndPoint?.Address;
        set => _localIp = value;
    }

    int IHttpConnectionFeature.RemotePort
    {
        get => _remotePort ?? EngineRequest.RemoteEndPoint?.Port ?? 0;
        set => _remotePort = value;
    }

    int IHttpConnectionFeature.LocalPort
    {
        get => _localPort ?? EngineRequest.LocalEndPoint?.Port ?? 0;
        set => _localPort = value;
    }

    // The engine numbers connections 1, 2, ...; shown in hexadecimal, 13 digits, as "0HN..." ids are
    // 13 characters in Kestrel's logs.
    private static string ConnectionIdText(long id) => id.ToString("X13", CultureInfo.InvariantCulture);

    // ---- IHttpRequestIdentifierFeature

    // Kestrel's form: the connection id and the request's number on the connection.
    string IHttpRequestIdentifierFeature.TraceIdentifier
    {
        get => _traceIdentifier ??= string.Create(CultureInfo.InvariantCulture,
            $"{((IHttpConnectionFeature)this).ConnectionId}:{EngineRequest.RequestNumberOnConnection:X8}");
        set => _traceIdentifier = value;
    }

    // ---- IHttpRequestLifetimeFeature

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _requestAbortedSet ?? EngineRequest.Aborted;
        set => _requestAbortedSet = value;
    }

    void IHttpRequestLifetimeFeature.Abort() => Abort();

    /// <summary>Ends the connection at once; the engine fires the aborted token.</summary>
    internal void Abort()
    {
        if (IsAborted) return;
        IsAborted = true;
        EngineResponse.Abort();
    }

    /// <summary>True once the request was aborted (by the application or because the client went away).</summary>
    internal bool IsAborted { get; private set; }

    /// <summary>Notes that the connection failed under a read or write, as an abort.</summary>
    internal void OnConnectionFailed()
    {
        if (IsAborted) return;
        IsAborted = true;
        EngineResponse.Abort();
    }

    // ---- IHttpMaxRequestBodySizeFeature

    bool IHttpMaxRequestBodySizeFeature.IsReadOnly => BodyReadStarted;

    long? IHttpMaxRequestBodySizeFeature.MaxRequestBodySize
    {
        get => _maxRequestBodySize;
        set
        {
            if (BodyReadStarted) throw new InvalidOperationException("The maximum request body size cannot be modified after the app has already started reading from the request body.");
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), "the limit cannot be negative");
            _maxRequestBodySize = value;
        }
    }

    internal long? MaxRequestBodySize => _maxRequestBodySize;
}

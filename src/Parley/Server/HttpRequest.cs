using System.Net;
using HttpVersion = Parley.Http1.HttpVersion;
using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// The request a handler answers. One instance per connection, reset between requests: it must not be
/// kept after the handler's task completes. Strings are built only when asked for.
/// </summary>
public sealed class HttpRequest
{
    private readonly RequestHead _head;
    private string? _target, _path, _query;
    private RouteValues? _routeValues;
    private QueryParameters? _queryParameters;
    private bool _queryParsed;
    private bool _forwardedResolved;
    private ForwardedResult? _forwarded;

    internal HttpRequest(RequestHead head)
    {
        _head = head;
        Headers = new RequestHeaders(head.Fields);
        Body = new RequestBodyStream(this);
    }

    /// <summary>The connection this request arrived on; set while the request is being answered.</summary>
    internal HttpConnection? Connection { get; set; }

    private HttpConnection Owner => Connection ?? throw new InvalidOperationException("this request has been answered; it cannot be used after its handler completed");

    /// <summary>The request method, e.g. <c>GET</c> (case-sensitive, RFC 9110 §9.1).</summary>
    public string Method => _head.Method;

    /// <summary>The request-target exactly as received, e.g. <c>/search?q=a%20b</c>.</summary>
    public string Target => _target ??= Encoding.ASCII.GetString(_head.Target);

    /// <summary>The request-target bytes exactly as received.</summary>
    public ReadOnlySpan<byte> TargetBytes => _head.Target;

    /// <summary>The form of the request-target (RFC 9112 §3.2).</summary>
    public RequestTargetForm TargetForm => _head.TargetForm;

    /// <summary>The path, still percent-encoded, without the query.</summary>
    public ReadOnlySpan<byte> RawPath => _head.RawPath;

    /// <summary>
    /// The path percent-decoded as UTF-8, e.g. <c>/a b</c> for <c>/a%20b</c>. Encoded slashes decode to '/';
    /// code that maps paths to files must check segments itself. Invalid UTF-8 decodes to U+FFFD.
    /// </summary>
    public string Path => _path ??= PercentEncoding.DecodeToString(_head.RawPath, plusAsSpace: false);

    /// <summary>
    /// The values the router's matched template captured from the path (<c>RouteValues["id"]</c> for
    /// <c>/users/{id}</c>); empty when no template matched or the handler was not reached through a <see cref="Router"/>.
    /// </summary>
    public RouteValues RouteValues => _routeValues ??= new RouteValues(this);

    /// <summary>The matched route's template, or null when no route matched (without creating <see cref="RouteValues"/>).</summary>
    internal string? RouteTemplate => _routeValues?.Template;

    /// <summary>The query as received, without '?' and still percent-encoded, or an empty string.</summary>
    public string RawQuery => _query ??= Encoding.ASCII.GetString(_head.RawQuery);

    /// <summary>
    /// The query's parameters, decoded (<c>Query["q"]</c> is <c>a b</c> for <c>?q=a+b</c> or <c>?q=a%20b</c>;
    /// repeated names are kept, see <see cref="QueryParameters"/>). Parsed on first use.
    /// </summary>
    public QueryParameters Query
    {
        get
        {
            QueryParameters parameters = _queryParameters ??= new QueryParameters();
            if (!_queryParsed)
            {
                parameters.Parse(_head.RawQuery);
                _queryParsed = true;
            }
            return parameters;
        }
    }

    /// <summary>The protocol version of the request: <see cref="System.Net.HttpVersion.Version10"/> or <see cref="System.Net.HttpVersion.Version11"/>.</summary>
    public Version Version => _head.Version == HttpVersion.Http10 ? System.Net.HttpVersion.Version10 : System.Net.HttpVersion.Version11;

    /// <summary><c>HTTP/1.1</c> or <c>HTTP/1.0</c>.</summary>
    public string Protocol => _head.Version == HttpVersion.Http10 ? "HTTP/1.0" : "HTTP/1.1";

    /// <summary>The header fields (case-insensitive names, repeated fields kept).</summary>
    public RequestHeaders Headers { get; }

    /// <summary>
    /// The host the client asked for: from a trusted proxy, the host its forwarding field reported (see
    /// <see cref="HttpServerOptions.TrustedProxies"/>); otherwise the authority of an absolute-form target (RFC 9112 §3.2.2), else the
    /// Host field, else (empty or HTTP/1.0 without one) <see cref="HttpServerOptions.DefaultHost"/> when set.
    /// </summary>
    public string Host
    {
        get
        {
            if (Forwarded is { Host: { } forwardedHost }) return forwardedHost;
            if (_head.TargetForm == RequestTargetForm.Absolute) return Encoding.ASCII.GetString(_head.TargetAuthority);
            ReadOnlySpan<byte> host = _head.Host;
            // RFC 9112 §3.3: with no Host value, the authority is the server's configured default name.
            return host.IsEmpty && Connection?.DefaultHost is { } defaultHost ? defaultHost : Encoding.ASCII.GetString(host);
        }
    }

    /// <summary>The declared body length, or null when the body is chunked or absent.</summary>
    public long? ContentLength => _head.Framing == BodyFraming.ContentLength ? _head.ContentLength : _head.Framing == BodyFraming.None ? 0 : null;

    /// <summary>Whether a body follows the head (Content-Length above zero, or chunked).</summary>
    public bool HasBody => _head.Framing != BodyFraming.None;

    /// <summary>The body. Reading it sends <c>100 Continue</c> first when the client asked for it.</summary>
    public Stream Body { get; }

    /// <summary>The raw head as received (request line and fields, CRLFs included).</summary>
    public ReadOnlySpan<byte> RawHead => _head.Fields.Source[.._head.HeadLength];

    /// <summary>
    /// The client's address: on a listener with <see cref="ListenerOptions.ProxyProtocol"/>, the one its
    /// PROXY protocol header named (when it named one); otherwise the TCP peer's, as <see cref="PeerEndPoint"/>.
    /// When that address is a trusted proxy (<see cref="HttpServerOptions.TrustedProxies"/>), the client its
    /// forwarding fields name, walking back through trusted proxies (port 0 when the field gave none).
    /// </summary>
    public IPEndPoint? RemoteEndPoint => Forwarded is { } forwarded ? forwarded.RemoteEndPoint : Owner.RemoteEndPoint;

    /// <summary>
    /// The address of the TCP peer itself, whatever a PROXY protocol header said: behind a load balancer,
    /// the balancer's.
    /// </summary>
    public IPEndPoint? PeerEndPoint => Owner.PeerEndPoint;

    /// <summary>
    /// The PROXY protocol header the connection opened with (version, command, addresses, version 2
    /// TLVs); null on a listener without <see cref="ListenerOptions.ProxyProtocol"/>.
    /// </summary>
    public ProxyProtocolHeader? ProxyProtocol => Owner.ProxyHeader;

    /// <summary>The local address the request arrived on.</summary>
    public IPEndPoint? LocalEndPoint => Owner.LocalEndPoint;

    /// <summary>Whether the request came over TLS to this server (whatever a proxy in front reported; see <see cref="Scheme"/>).</summary>
    public bool IsHttps => Owner.TlsSession is not null;

    /// <summary>
    /// The scheme the request was made with: from a trusted proxy, the one its forwarding field reported
    /// (lowercase; see <see cref="HttpServerOptions.TrustedProxies"/>); otherwise <c>https</c> over TLS,
    /// <c>http</c> without.
    /// </summary>
    public string Scheme => Forwarded is { Scheme: { } forwardedScheme } ? forwardedScheme : IsHttps ? "https" : "http";

    // What trusted proxies' forwarding fields say, worked out once per request and only when asked for.
    private ForwardedResult? Forwarded
    {
        get
        {
            if (_forwardedResolved) return _forwarded;
            HttpConnection owner = Owner;
            if (owner.Forwarding is not { } policy || owner.RemoteEndPoint is not { } remote) return null;
            _forwarded = policy.Resolve(remote, Headers);
            _forwardedResolved = true;
            owner.ForwardedClient = _forwarded?.RemoteEndPoint;
            return _forwarded;
        }
    }

    /// <summary>The connection's TLS session (protocol, cipher suite, SNI host name, ALPN protocol, client certificate); null over plain HTTP.</summary>
    public TlsSession? TlsSession => Owner.TlsSession;

    /// <summary>The connection's number on this server: 1 for the first connection accepted, then upward.</summary>
    public long ConnectionId => Owner.Id;

    /// <summary>
    /// Fires when the connection ends while this request is being answered: the client went away (noticed
    /// when a read or write fails), a timeout or a stop closed the connection, or the handler called
    /// <see cref="HttpResponse.Abort"/>. Asking for it costs one allocation per connection, not per request.
    /// </summary>
    public CancellationToken Aborted => Owner.RequestAborted;

    /// <summary>
    /// True when the request asks to switch protocols (RFC 9110 §7.8): HTTP/1.1, an <c>upgrade</c> option in
    /// Connection and an Upgrade field. An HTTP/1.0 request's Upgrade is ignored, as the RFC requires.
    /// </summary>
    public bool IsUpgradeRequest =>
        _head.Version == HttpVersion.Http11 && Headers.Contains("Upgrade") && ListHasToken(Headers.GetValues("Connection"), "upgrade");

    /// <summary>
    /// True when the request asks to open a WebSocket (RFC 6455 §4.1): a GET that asks to upgrade to
    /// <c>websocket</c>. Whether its handshake is valid is checked by <see cref="HttpResponse.AcceptWebSocketAsync"/>.
    /// </summary>
    public bool IsWebSocketRequest => Method == "GET" && IsUpgradeRequest && OffersUpgrade("websocket");

    /// <summary>True when the request's Upgrade field lists <paramref name="protocol"/> (a name matches any version of it).</summary>
    internal bool OffersUpgrade(string protocol)
    {
        foreach (string line in Headers.GetValues("Upgrade"))
        {
            foreach (string item in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (item.Equals(protocol, StringComparison.OrdinalIgnoreCase)) return true;
                int slash = item.IndexOf('/');
                if (slash > 0 && !protocol.Contains('/') && item.AsSpan(0, slash).Equals(protocol, StringComparison.OrdinalIgnoreCase)) return true;
            }
        }
        return false;
    }

    // RFC 9110 §5.6.1: a comma-separated list, options compared case-insensitively (§7.6.1).
    internal static bool ListHasToken(IReadOnlyList<string> lines, string token)
    {
        foreach (string line in lines)
        {
            foreach (string item in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (item.Equals(token, StringComparison.OrdinalIgnoreCase)) return true;
            }
        }
        return false;
    }

    /// <summary>How many requests this TCP connection has carried, this one included (1 for the first).</summary>
    public int RequestNumberOnConnection => Owner.RequestCount;

    /// <summary>
    /// Reads the whole body into memory, refusing (413) more than <paramref name="maxBytes"/>, or more than
    /// one array holds (<see cref="Array.MaxLength"/>; read <see cref="Body"/> as a stream for such bodies).
    /// Memory grows with the bytes that arrive, never ahead of them from the declared Content-Length.
    /// </summary>
    /// <exception cref="BadRequestException">413 when the body is, or is declared to be, larger than allowed.</exception>
    public async ValueTask<byte[]> ReadBodyAsync(long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        long limit = Math.Min(maxBytes, Array.MaxLength);
        long declared = _head.Framing == BodyFraming.ContentLength ? _head.ContentLength : -1;
        // RFC 9110 §15.5.14: 413 before any of the body is read, when its declared length says it all.
        if (declared > limit) throw new BadRequestException(413, declared > maxBytes ? "request body too large" : "request body too large to read into memory");
        if (_head.Framing == BodyFraming.None) return [];

        // The most the buffer may ever need: the declared length, or (chunked) the limit. A head declaring
        // 30 MiB with a few bytes behind it costs a few KiB, not 30 MiB: the buffer doubles only when full.
        int capacity = (int)(declared >= 0 ? declared : limit);
        byte[] buffer = new byte[Math.Min(capacity, InitialBodyBufferSize)];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length == capacity)
                {
                    if (declared >= 0 || !await HasMoreBodyAsync(cancellationToken).ConfigureAwait(false)) break;
                    throw new BadRequestException(413, "request body too large");
                }
                Array.Resize(ref buffer, (int)Math.Min(capacity, 2L * buffer.Length));
            }
            int read = await Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            length += read;
        }
        return length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray();
    }

    private const int InitialBodyBufferSize = 8192;

    /// <summary>Whether a chunked body goes on past the bytes already read (one byte is enough to tell).</summary>
    private async ValueTask<bool> HasMoreBodyAsync(CancellationToken cancellationToken) =>
        await Body.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) > 0;

    internal void Reset()
    {
        _target = _path = _query = null;
        _routeValues?.Clear();
        _queryParsed = false;
        _forwardedResolved = false;
        _forwarded = null;
    }
}

/// <summary>Thrown by handlers (and helpers) to answer a client error such as 400 or 413 with a message.</summary>
public sealed class BadRequestException(int statusCode, string message) : Exception(message)
{
    /// <summary>The 4xx status code to answer with.</summary>
    public int StatusCode { get; } = statusCode;
}

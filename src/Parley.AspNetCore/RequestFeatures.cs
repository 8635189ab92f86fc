using System.Collections;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Server;

namespace Parley.AspNetCore;

/// <summary>
/// One request as ASP.NET Core sees it: the feature collection and every feature the server offers, in
/// one object (as Kestrel's HttpProtocol), mapped onto the engine's <see cref="HttpRequest"/> and
/// <see cref="HttpResponse"/>. Pooled by the server and reset per request; taken from the pool for a
/// request and given back only once the application's task and its completion callbacks are done.
/// </summary>
internal abstract partial class RequestFeatures : IFeatureCollection
{
    // The features this object implements, in the order of _current's slots. A middleware may replace any
    // of them for the rest of the request (response compression replaces the body feature), so each has
    // a slot holding the current implementation, reset to this object per request.
    private static readonly Type[] OwnFeatures =
    [
        typeof(IHttpRequestFeature),
        typeof(IHttpResponseFeature),
        typeof(IHttpResponseBodyFeature),
        typeof(IHttpRequestBodyDetectionFeature),
        typeof(IHttpConnectionFeature),
        typeof(IHttpRequestLifetimeFeature),
        typeof(IHttpRequestIdentifierFeature),
        typeof(IHttpMaxRequestBodySizeFeature),
        typeof(IHttpBodyControlFeature),
        typeof(IHttpUpgradeFeature),
        typeof(IHttpResponseTrailersFeature),
        typeof(IEndpointFeature),
        typeof(IRouteValuesFeature),
        typeof(IServiceProvidersFeature),
        typeof(ITlsConnectionFeature),
        typeof(ITlsHandshakeFeature),
    ];

    // The TLS features' slots: offered only on requests that came over TLS.
    private const int FirstTlsSlot = 14;

    // Offered only when the server was given the application's scope factory (see ServerContext).
    private const int ServicesSlot = 13;

    private readonly object?[] _current = new object?[OwnFeatures.Length];
    private List<KeyValuePair<Type, object>>? _others;
    private int _revision;

    protected RequestFeatures(ServerContext server)
    {
        Server = server;
        _responseStream = new ResponseBodyStream(this);
        _responseWriter = new ResponsePipeWriter(this);
        _requestStream = new RequestBodyStream(this);
    }

    protected ServerContext Server { get; }

    private HttpRequest? _request;
    private HttpResponse? _response;

    internal HttpRequest EngineRequest => _request ?? throw new ObjectDisposedException(nameof(RequestFeatures), "the request is over");

    internal HttpResponse EngineResponse => _response ?? throw new ObjectDisposedException(nameof(RequestFeatures), "the request is over");

    /// <summary>True while a request is bound (between <see cref="Bind"/> and <see cref="Unbind"/>).</summary>
    internal bool IsBound => _response is not null;

    /// <summary>Takes up a new request: every feature back to its initial state.</summary>
    public void Bind(HttpRequest request, HttpResponse response)
    {
        _request = request;
        _response = response;
        for (int i = 0; i < _current.Length; i++) _current[i] = this;
        if (Server.ScopeFactory is null) _current[ServicesSlot] = null;
        if (!request.IsHttps)
        {
            for (int i = FirstTlsSlot; i < _current.Length; i++) _current[i] = null;
        }
        _others?.Clear();
        _revision++;
        ResetRequest();
        ResetResponse();
        ResetRouting();
        ResetServices();
        _upgraded = null;
    }

    /// <summary>Lets go of the engine's objects once the request is over.</summary>
    public void Unbind()
    {
        EndUpgrade();
        ReleaseResponse();
        ResetRouting();
        _request = null;
        _response = null;
    }

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get
        {
            int slot = Array.IndexOf(OwnFeatures, key);
            if (slot >= 0) return _current[slot];
            if (_others is { } others)
            {
                foreach (KeyValuePair<Type, object> pair in others)
                {
                    if (pair.Key == key) return pair.Value;
                }
            }
            return null;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            _revision++;
            int slot = Array.IndexOf(OwnFeatures, key);
            if (slot >= 0)
            {
                _current[slot] = value;
                return;
            }
            List<KeyValuePair<Type, object>> list = _others ??= new List<KeyValuePair<Type, object>>(4);
            for (int i = 0; i < list.Count; i++)
            {
                if (list[i].Key != key) continue;
                if (value is null) list.RemoveAt(i);
                else list[i] = new KeyValuePair<Type, object>(key, value);
                return;
            }
            if (value is not null) list.Add(new KeyValuePair<Type, object>(key, value));
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default => (TFeature?)((IFeatureCollection)this)[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default => ((IFeatureCollection)this)[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        for (int i = 0; i < OwnFeatures.Length; i++)
        {
            if (_current[i] is { } feature) yield return new KeyValuePair<Type, object>(OwnFeatures[i], feature);
        }
        if (_others is { } others)
        {
            foreach (KeyValuePair<Type, object> pair in others) yield return pair;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();
}

/// <summary>The features of a request served to an application whose per-request context is <typeparamref name="TContext"/>.</summary>
/// <remarks>
/// Holding the hosting layer's context lets hosting reuse it, and the HttpContext in it, for the next
/// request this object serves (<see cref="IHostContextContainer{TContext}"/>), instead of making new ones.
/// </remarks>
internal sealed class RequestFeatures<TContext>(ServerContext server) : RequestFeatures(server), IHostContextContainer<TContext>
    where TContext : notnull
{
    public TContext? HostContext { get; set; }
}

/// <summary>What every request of one server shares: its options, its logger, the application's scope factory.</summary>
internal sealed class ServerContext(ParleyServerOptions options, ILogger logger, IServiceScopeFactory? scopeFactory)
{
    public ParleyServerOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    /// <summary>Makes each request's service scope; without it the hosting layer's HttpContext makes its own feature for that.</summary>
    public IServiceScopeFactory? ScopeFactory { get; } = scopeFactory;
}

using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server;

namespace Parley.AspNetCore;

/// <summary>
/// The ASP.NET Core server (<see cref="IServer"/>) that runs the application on Parley's engine. Registered
/// by <see cref="ParleyWebHostBuilderExtensions.UseParley"/>; one engine listener per bound address.
/// </summary>
public sealed class ParleyServer : IServer
{
    private const string DefaultAddress = "http://localhost:5000";

    private readonly ParleyServerOptions _options;
    private readonly ILogger _logger;
    private readonly ServerAddressesFeature _addresses = new();
    private readonly List<HttpServer> _listeners = [];
    private readonly IServiceScopeFactory? _scopeFactory;
    private bool _started;

    /// <summary>Creates the server; the host does this through dependency injection.</summary>
    public ParleyServer(IOptions<ParleyServerOptions> options, ILoggerFactory loggerFactory)
        : this(options, loggerFactory, scopeFactory: null)
    {
    }

    // Registered by UseParley with the application's scope factory, so that each request's service scope
    // hangs off the pooled request object rather than off a feature object made per request.
    internal ParleyServer(IOptions<ParleyServerOptions> options, ILoggerFactory loggerFactory, IServiceScopeFactory? scopeFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        _logger = loggerFactory.CreateLogger("Parley.AspNetCore.ParleyServer");
        _scopeFactory = scopeFactory;
        Features = new FeatureCollection();
        Features.Set<IServerAddressesFeature>(_addresses);
    }

    /// <summary>The server's features: <see cref="IServerAddressesFeature"/> lists the bound addresses, with real ports, once started.</summary>
    public IFeatureCollection Features { get; }

    /// <summary>Binds every address and starts serving <paramref name="application"/>.</summary>
    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
    {
        ArgumentNullException.ThrowIfNull(application);
        if (_started) throw new InvalidOperationException("the server has already been started");
        _started = true;
        var runner = new ApplicationRunner<TContext>(application, new ServerContext(_options, _logger, _scopeFactory), maxPooled: 1024);
        List<string> requested = ChooseAddresses();
        _addresses.Addresses.Clear();
        try
        {
            foreach (string text in requested)
            {
                ListenAddress address = ListenAddress.Parse(text);
                foreach (string bound in await BindAsync(address, runner.Handler, cancellationToken).ConfigureAwait(false))
                {
                    _addresses.Addresses.Add(bound);
                    _logger.ListeningOn(bound);
                }
            }
        }
        catch
        {
            await StopListenersAsync(TimeSpan.Zero).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Stops gracefully: no new connections, idle ones closed, requests in flight finished (each engine
    /// listener waits up to its <see cref="HttpServerOptions.DrainTimeout"/>); when
    /// <paramref name="cancellationToken"/> fires first, what is left is closed at once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task graceful = StopListenersAsync(null);
        if (cancellationToken.CanBeCanceled)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (cancellationToken.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), cancelled).ConfigureAwait(false))
            {
                if (await Task.WhenAny(graceful, cancelled.Task).ConfigureAwait(false) != graceful)
                {
                    foreach (HttpServer listener in _listeners) await listener.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        await graceful.ConfigureAwait(false);
    }

    /// <summary>Stops at once, closing open connections.</summary>
    public void Dispose() => StopListenersAsync(TimeSpan.Zero).GetAwaiter().GetResult();

    private Task StopListenersAsync(TimeSpan? drainTimeout)
    {
        var stops = new Task[_listeners.Count];
        for (int i = 0; i < stops.Length; i++) stops[i] = _listeners[i].StopAsync(drainTimeout);
        return Task.WhenAll(stops);
    }

    // The host's addresses (urls, ASPNETCORE_URLS, --urls) unless the options insist on theirs.
    private List<string> ChooseAddresses()
    {
        var hostAddresses = new List<string>(_addresses.Addresses);
        if (_options.Urls.Count > 0 && (_options.PreferOptionsUrls || hostAddresses.Count == 0))
        {
            if (hostAddresses.Count > 0) _logger.OverridingAddresses(string.Join(", ", hostAddresses));
            return [.. _options.Urls];
        }
        return hostAddresses.Count > 0 ? hostAddresses : [DefaultAddress];
    }

    private async Task<List<string>> BindAsync(ListenAddress address, RequestHandler handler, CancellationToken cancellationToken)
    {
        var bound = new List<string>(2);
        if (address.IsLocalhost)
        {
            // Both loopbacks, on the same port: the IPv4 one decides it when the port is 0.
            HttpServer v4 = await ListenAsync(address, IPAddress.Loopback.ToString(), address.Port, handler, cancellationToken).ConfigureAwait(false);
            int port = v4.LocalEndPoint.Port;
            if (Socket.OSSupportsIPv6)
            {
                try
                {
                    await ListenAsync(address, "::1", port, handler, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    // No IPv6 loopback on this machine (as Kestrel, serve IPv4 alone).
                }
            }
            bound.Add(address.Format("localhost", port));
            return bound;
        }
        if (address.IsAnyHost)
        {
            string any = Socket.OSSupportsIPv6 ? "::" : "0.0.0.0";
            HttpServer all = await ListenAsync(address, any, address.Port, handler, cancellationToken).ConfigureAwait(false);
            bound.Add(address.Format(Socket.OSSupportsIPv6 ? "[::]" : "0.0.0.0", all.LocalEndPoint.Port));
            return bound;
        }
        string literal = address.Host.Trim('[', ']');
        HttpServer one = await ListenAsync(address, literal, address.Port, handler, cancellationToken).ConfigureAwait(false);
        IPEndPoint endPoint = one.LocalEndPoint;
        bound.Add(address.Format(endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString(), endPoint.Port));
        return bound;
    }

    private async Task<HttpServer> ListenAsync(ListenAddress address, string host, int port, RequestHandler handler, CancellationToken cancellationToken)
    {
        HttpServerOptions options = EngineOptions(host, port);
        if (address.IsHttps)
        {
            ServerTlsOptions tls = _options.Https ?? throw new InvalidOperationException(
                $"'{address.Format(address.Host, address.Port)}' needs a certificate: set ParleyServerOptions.Https (UseParley(options => options.Https = ...))");
            options.Listeners.Add(ListenerOptions.Https(host, port, tls));
        }
        var server = new HttpServer(options, handler);
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _listeners.Add(server);
        return server;
    }

    // A copy of the engine options for one listener. The body limit is the adapter's (it is per request in
    // ASP.NET Core and raised by some endpoints), and so is the Server field (the application may set its own).
    private HttpServerOptions EngineOptions(string host, int port)
    {
        HttpServerOptions template = _options.Engine;
        return new HttpServerOptions
        {
            Host = host,
            Port = port,
            ReusePort = template.ReusePort,
            StrictTransportSecurity = template.StrictTransportSecurity,
            HeadLimits = template.HeadLimits,
            MaxRequestBodySize = long.MaxValue,
            RequestHeadersTimeout = template.RequestHeadersTimeout,
            KeepAliveTimeout = template.KeepAliveTimeout,
            DataTimeout = template.DataTimeout,
            MinRequestBodyDataRate = template.MinRequestBodyDataRate,
            MinDataRateGracePeriod = template.MinDataRateGracePeriod,
            MaxRequestsPerConnection = template.MaxRequestsPerConnection,
            MaxConcurrentConnections = template.MaxConcurrentConnections,
            DrainTimeout = template.DrainTimeout,
            ServerHeader = null,
            ResponseBufferSize = template.ResponseBufferSize,
            Transport = _options.Transport,
            EpollThreadCount = template.EpollThreadCount,
            AccessLog = template.AccessLog,
            ErrorLog = ReferenceEquals(template.ErrorLog, DefaultErrorLog) ? LogEngineError : template.ErrorLog,
        };
    }

    private static readonly Action<string, Exception?>? DefaultErrorLog = new HttpServerOptions().ErrorLog;

    private void LogEngineError(string message, Exception? exception) => _logger.EngineError(message, exception);
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Http1;
using Parley.Server.Transport;

namespace Parley.Server;

/// <summary>
/// An HTTP/1.1 server: accepts TCP connections and runs each through a <see cref="HttpConnection"/>
/// that answers its requests with the handler. Start with <see cref="StartAsync"/>; stop gracefully with
/// <see cref="StopAsync"/> (stop accepting, finish requests in flight, close idle connections).
/// </summary>
public sealed class HttpServer : IAsyncDisposable
{
    private readonly ConnectionRegistry<HttpConnection> _connections = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private BoundListener[] _listeners = [];
    private Timer? _heartbeat;
    private Task[] _acceptLoops = [];
    private int _connectionCount;
    private EpollLoop[]? _epollLoops;
    private int _nextLoop;
    private long _lastConnectionId;
    // A stop first drains (readiness off, every response closes its connection), then stops accepting.
    private volatile bool _draining;
    private volatile bool _stopping;
    private Task? _stop;
    private readonly TaskCompletionSource _delayCut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RequestHandler _listenerHandler;
    // Requests served by connections already closed; with the open connections' counts, the total the
    // heartbeat samples for the request rate. The lock keeps a closing connection's count from being seen
    // twice or not at all by a sample.
    private readonly Lock _requestTotalsLock = new();
    private long _closedConnectionRequests;

    /// <summary>Creates a server; nothing listens until <see cref="StartAsync"/>.</summary>
    public HttpServer(HttpServerOptions options, RequestHandler handler)
    {
        Options = options;
        Handler = handler;
        if (!string.IsNullOrEmpty(options.ServerHeader))
        {
            Http1.MessageWriter.ValidateField("Server", options.ServerHeader);
            ServerFieldLine = Encoding.ASCII.GetBytes($"Server: {options.ServerHeader}\r\n");
        }
        KeepAliveFieldPrefix = Encoding.ASCII.GetBytes($"Keep-Alive: timeout={(int)options.KeepAliveTimeout.TotalSeconds}");
        if (options.DefaultHost is { } defaultHost)
        {
            if (defaultHost.Length == 0 || !Ascii.IsValid(defaultHost)
                || !Http1.HostSyntax.IsValidAuthority(Encoding.ASCII.GetBytes(defaultHost), requirePort: false))
            {
                throw new ArgumentException($"DefaultHost '{defaultHost}' is not a valid host[:port]", nameof(options));
            }
            DefaultHost = defaultHost;
        }
        Forwarding = ForwardedHeadersPolicy.Create(options);
        _listenerHandler = WrapServerEndpoints(handler);
        if (options.DrainDelay < TimeSpan.Zero) throw new ArgumentException("DrainDelay must not be negative", nameof(options));
        if (options.StrictTransportSecurity is { } hsts)
        {
            if (hsts.MaxAge < TimeSpan.Zero) throw new ArgumentException("StrictTransportSecurity.MaxAge must not be negative", nameof(options));
            StrictTransportSecurityFieldLine = Encoding.ASCII.GetBytes($"Strict-Transport-Security: {hsts.FieldValue}\r\n");
        }
    }

    // The endpoints the server answers itself, ahead of the handler: health checks, the status page.
    private RequestHandler WrapServerEndpoints(RequestHandler handler)
    {
        if (Options.HealthChecks is { } health) handler = HealthEndpoints.Wrap(handler, this, health);
        if (Options.StatusPage is { } status) handler = StatusEndpoint.Wrap(handler, this, status);
        return handler;
    }

    /// <summary>The options the server was created with.</summary>
    public HttpServerOptions Options { get; }

    /// <summary>The handler every request goes to.</summary>
    public RequestHandler Handler { get; }

    /// <summary>The address and port actually bound by the first listener (useful with port 0).</summary>
    public IPEndPoint LocalEndPoint => _listeners.Length > 0 ? _listeners[0].EndPoint : throw new InvalidOperationException("the server is not started");

    /// <summary>The addresses and ports actually bound, in the order of <see cref="HttpServerOptions.Listeners"/>.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints => _listeners.Length > 0 ? Array.ConvertAll(_listeners, listener => listener.EndPoint) : throw new InvalidOperationException("the server is not started");

    /// <summary>True once a stop has begun (from the start of its <see cref="HttpServerOptions.DrainDelay"/>).</summary>
    public bool IsStopping => _draining;

    /// <summary>
    /// Whether the server takes new work: started, not stopping, and (with <see cref="HttpServerOptions.HealthChecks"/>)
    /// its <see cref="HealthCheckOptions.ReadinessCheck"/> agreeing. The readiness endpoint answers from it.
    /// </summary>
    public bool IsReady => _listeners.Length > 0 && !_draining && (Options.HealthChecks?.ReadinessCheck is not { } check || check());

    /// <summary>True once the stop no longer accepts connections and closes idle ones (after the drain delay).</summary>
    internal bool ClosesIdleConnections => _stopping;

    /// <summary>Connections open right now.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    internal byte[]? ServerFieldLine { get; }

    /// <summary>A new connection's number: 1 for the first this server accepted, then upward.</summary>
    internal long NextConnectionId() => Interlocked.Increment(ref _lastConnectionId);

    /// <summary>Connections accepted so far (those refused over capacity not included).</summary>
    internal long AcceptedConnections => Interlocked.Read(ref _lastConnectionId);

    /// <summary>The status page's server-wide figures: start time, errors, request rate.</summary>
    internal ServerStatus Status { get; } = new();

    /// <summary>The open connections (some slots empty), for the status page to list.</summary>
    internal ReadOnlySpan<HttpConnection?> OpenConnections => _connections.Slots;

    /// <summary>Requests served so far, the ones in progress included.</summary>
    internal long TotalRequests()
    {
        lock (_requestTotalsLock)
        {
            long total = _closedConnectionRequests;
            foreach (HttpConnection? connection in _connections.Slots)
            {
                if (connection is not null) total += connection.RequestCount;
            }
            return total;
        }
    }

    /// <summary>The validated <see cref="HttpServerOptions.DefaultHost"/>, read once.</summary>
    internal string? DefaultHost { get; }

    /// <summary>The trusted proxies and forwarding fields, or null when forwarding fields are never read.</summary>
    internal ForwardedHeadersPolicy? Forwarding { get; }

    /// <summary>Exchange objects lent to connections while they answer a request.</summary>
    internal ExchangePool Exchanges { get; } = new(maxRetained: 1024);
    internal byte[] KeepAliveFieldPrefix { get; }

    /// <summary>The whole <c>Strict-Transport-Security</c> field line, or null when the option is off.</summary>
    internal byte[]? StrictTransportSecurityFieldLine { get; }

    /// <summary>Binds every listener and starts accepting connections.</summary>
    /// <exception cref="IOException">
    /// An address cannot be listened on: another socket holds it (unless every holder asked for
    /// <see cref="HttpServerOptions.ReusePort"/>), or it is not an address of this machine. The message
    /// names the address and the reason, e.g. "cannot listen on 127.0.0.1:8080: address already in use";
    /// the <see cref="SocketException"/> is the inner exception.
    /// </exception>
    /// <exception cref="ArgumentException">A listener's options contradict each other, or the epoll transport is given more than 256 listeners.</exception>
    /// <exception cref="PlatformNotSupportedException">The epoll transport off Linux on x64.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_listeners.Length > 0) throw new InvalidOperationException("the server is already started");
        IList<ListenerOptions> configured = Options.Listeners.Count > 0 ? Options.Listeners : [ListenerOptions.Http(Options.Host, Options.Port)];
        if (Options.Transport == TransportKind.Epoll)
        {
            // Before anything is bound or started: a start that fails leaves nothing behind.
            if (!EpollLoop.IsSupported) throw new PlatformNotSupportedException("the epoll transport needs Linux on x64; use TransportKind.Sockets");
            if (configured.Count > EpollLoop.MaxListeners)
            {
                throw new ArgumentException($"the epoll transport serves at most {EpollLoop.MaxListeners} listeners, not {configured.Count}");
            }
        }
        var bound = new List<BoundListener>(configured.Count);
        try
        {
            foreach (ListenerOptions listenerOptions in configured)
            {
                // Policy first: a bad TLS configuration fails before anything is bound.
                TlsListener? tls = listenerOptions.Tls is { } tlsOptions ? new TlsListener(tlsOptions) : null;
                if (tls is not null && listenerOptions.RedirectToHttpsPort is not null) throw new ArgumentException("a listener redirects to HTTPS or speaks TLS, not both");
                if (listenerOptions.RedirectToHttpsPort is < 0 or > 65535) throw new ArgumentException($"RedirectToHttpsPort must be 0-65535, not {listenerOptions.RedirectToHttpsPort}");
                Socket socket = await BindAsync(listenerOptions, cancellationToken).ConfigureAwait(false);
                bound.Add(new BoundListener(listenerOptions, socket, tls, _listenerHandler));
            }
            // Redirects once every listener is bound: port 0 names the first HTTPS listener's actual port.
            for (int i = 0; i < bound.Count; i++)
            {
                int? redirect = bound[i].Options.RedirectToHttpsPort;
                if (redirect is null) continue;
                int httpsPort = redirect.Value;
                if (httpsPort == 0)
                {
                    httpsPort = bound.Find(listener => listener.Tls is not null)?.EndPoint.Port
                        ?? throw new ArgumentException("RedirectToHttpsPort 0 names the first HTTPS listener, and there is none");
                }
                bound[i] = new BoundListener(bound[i].Options, bound[i].Socket, null, WrapServerEndpoints(HttpsRedirect.Create(httpsPort)));
            }
        }
        catch
        {
            foreach (BoundListener listener in bound) listener.Socket.Dispose();
            throw;
        }
        _listeners = [.. bound];
        if (Options.Transport == TransportKind.Epoll)
        {
            try
            {
                StartEpollLoops();
            }
            catch
            {
                // Out of descriptors or kernel memory (epoll_create1, epoll_ctl): undo the start.
                await UndoEpollStartAsync().ConfigureAwait(false);
                throw;
            }
        }
        DateField.PrepareAhead();
        Status.MarkStarted();
        _heartbeat = new Timer(static state => ((HttpServer)state!).OnHeartbeat(), this, 1000, 1000);
        if (_epollLoops is null)
        {
            _acceptLoops = Array.ConvertAll(_listeners, listener => Task.Run(() => AcceptLoopAsync(listener), CancellationToken.None));
        }
    }

    private void StartEpollLoops()
    {
        SafeSocketHandle[] handles = new SafeSocketHandle[_listeners.Length];
        for (int i = 0; i < _listeners.Length; i++)
        {
            // The loops accept themselves: the listener must not block them, and accepted sockets inherit
            // TCP_NODELAY from it (Linux copies the listener's options to the connections it accepts).
            _listeners[i].Socket.Blocking = false;
            _listeners[i].Socket.NoDelay = true;
            handles[i] = _listeners[i].Socket.SafeHandle;
        }
        _epollLoops = new EpollLoop[Math.Max(1, Options.EpollThreadCount > 0 ? Options.EpollThreadCount : Environment.ProcessorCount)];
        for (int i = 0; i < _epollLoops.Length; i++) _epollLoops[i] = new EpollLoop(i);
        // Only once every loop exists: a loop that accepts may hand the connection to any other loop,
        // and connections already queued on the listener are accepted as soon as a loop watches it.
        foreach (EpollLoop loop in _epollLoops) loop.StartAccepting(this, handles);
    }

    /// <summary>Stops the loops a failed start created and closes the listeners it bound.</summary>
    private async Task UndoEpollStartAsync()
    {
        EpollLoop[] loops = Array.FindAll(_epollLoops ?? [], loop => loop is not null);
        _epollLoops = loops;
        bool letGo = await StopEpollAcceptingAsync().ConfigureAwait(false);
        foreach (EpollLoop loop in loops) loop.Stop();
        CloseListeners(_listeners, letGo);
        _epollLoops = null;
        _listeners = [];
    }

    private static void CloseListeners(BoundListener[] listeners, bool loopsLetGo)
    {
        if (loopsLetGo)
        {
            foreach (BoundListener listener in listeners) listener.Socket.Dispose();
            return;
        }
        // A loop still holds the listeners: its thread is kept busy (a handler that blocks it). Disposing a
        // handle waits until every reference on it is released, so that happens off the caller, which goes on
        // (a stop with its drain, ending at its timeout) instead of waiting on the blocked thread.
        _ = Task.Run(() =>
        {
            foreach (BoundListener listener in listeners) listener.Socket.Dispose();
        });
    }

    private async Task<Socket> BindAsync(ListenerOptions listener, CancellationToken cancellationToken)
    {
        if (listener.ListenSocket is { } inherited)
        {
            if (inherited.SocketType != SocketType.Stream || inherited.LocalEndPoint is not IPEndPoint
                || (int)inherited.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection)! == 0)
            {
                throw new ArgumentException("ListenSocket must be a bound, listening TCP socket", nameof(listener));
            }
            return inherited;
        }
        IPAddress address = await ResolveAsync(listener.Host, cancellationToken).ConfigureAwait(false);
        return ListenerSocket.Open(new IPEndPoint(address, listener.Port), Options.ReusePort);
    }

    /// <summary>
    /// Stops gracefully. First the drain: <see cref="IsReady"/> turns false (the readiness endpoint answers
    /// 503) and every response from now on carries <c>Connection: close</c>, while for
    /// <see cref="HttpServerOptions.DrainDelay"/> connections are still accepted and served, so that a load
    /// balancer can notice and stop sending. Then no new connections; idle ones closed (a connection
    /// accepted in the last second that has not sent its first request yet is given that second, as its
    /// request may be on its way); requests in flight finished and answered with <c>Connection: close</c>;
    /// whatever remains after the drain timeout is closed.
    /// </summary>
    /// <param name="drainTimeout">How long to wait for requests in flight once accepting stopped; null for <see cref="HttpServerOptions.DrainTimeout"/>.</param>
    /// <param name="drainDelay">How long to keep serving with readiness off before that; null for <see cref="HttpServerOptions.DrainDelay"/>.</param>
    /// <returns>The stop; a second call ends the first one's delay at once and returns the same stop.</returns>
    public Task StopAsync(TimeSpan? drainTimeout = null, TimeSpan? drainDelay = null)
    {
        lock (_drained)
        {
            if (_stop is { } running)
            {
                // A second stop (a second SIGTERM, a dispose) ends the delay now and waits for the first.
                _delayCut.TrySetResult();
                return running;
            }
            _draining = true;
            return _stop = DrainAndStopAsync(drainTimeout ?? Options.DrainTimeout, drainDelay ?? Options.DrainDelay);
        }
    }

    private async Task DrainAndStopAsync(TimeSpan drainTimeout, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero && _listeners.Length > 0) await Task.WhenAny(Task.Delay(delay), _delayCut.Task).ConfigureAwait(false);
        await QuiesceListenersAsync().ConfigureAwait(false);
        _stopping = true;
        CloseListeners(_listeners, _epollLoops is null || await StopEpollAcceptingAsync().ConfigureAwait(false));
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        if (Volatile.Read(ref _connectionCount) == 0) _drained.TrySetResult();
        Task timeout = Task.Delay(drainTimeout);
        Task finished;
        bool first = true;
        do
        {
            // Idle connections close now; one still waiting for its first request, within its first second.
            long now = Environment.TickCount64;
            foreach (HttpConnection? connection in _connections.Slots) connection?.CloseIfIdle(now, first);
            first = false;
            finished = await Task.WhenAny(_drained.Task, timeout, Task.Delay(250)).ConfigureAwait(false);
        }
        while (finished != _drained.Task && finished != timeout);
        if (finished != _drained.Task)
        {
            foreach (HttpConnection? connection in _connections.Slots) connection?.ForceClose();
            await Task.WhenAny(_drained.Task, Task.Delay(1000)).ConfigureAwait(false);
        }
        if (_heartbeat is not null) await _heartbeat.DisposeAsync().ConfigureAwait(false);
        if (_epollLoops is not null)
        {
            foreach (EpollLoop loop in _epollLoops) loop.Stop();
        }
    }

    /// <summary>
    /// Stops new handshakes on the listeners this server opened, then lets the accept loops empty their
    /// queues (within a bound), so that closing them resets no connection a client already sent on (see
    /// <see cref="ListenerQuiescing"/>). A socket the server was given is left as it is: it outlives this
    /// process, and its queue with it.
    /// </summary>
    private async Task QuiesceListenersAsync()
    {
        bool any = false;
        foreach (BoundListener listener in _listeners)
        {
            if (listener.Options.ListenSocket is null) any |= ListenerQuiescing.DropNewHandshakes(listener.Socket);
        }
        if (!any) return;
        long deadline = Environment.TickCount64 + 2000;
        while (Environment.TickCount64 < deadline && Array.Exists(_listeners, listener => ListenerQuiescing.HasPendingConnection(listener.Socket)))
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.Zero, TimeSpan.Zero).ConfigureAwait(false);

    /// <summary>Stops the epoll loops' accepting; false when a loop did not let go of the listeners in time.</summary>
    private async Task<bool> StopEpollAcceptingAsync()
    {
        EpollLoop[] loops = _epollLoops!;
        foreach (EpollLoop loop in loops) loop.StopAccepting();
        // Shutting a listening socket down reports a hang-up to every epoll instance watching it and makes
        // accept fail with EINVAL, so each loop lets go of it now rather than at its next timed wake.
        // Not a socket the server was given: shutdown acts on the socket itself, not this process's
        // descriptor, and would refuse the connections queued for the others holding it (systemd, the
        // next worker). Those loops let go at their next timed wake instead.
        foreach (BoundListener listener in _listeners)
        {
            if (listener.Options.ListenSocket is null) LinuxNative.shutdown((int)listener.Socket.SafeHandle.DangerousGetHandle(), LinuxNative.SHUT_RD);
        }
        Task stopped = Task.WhenAll(Array.ConvertAll(loops, loop => loop.AcceptStopped));
        return await Task.WhenAny(stopped, Task.Delay(2000)).ConfigureAwait(false) == stopped;
    }

    /// <summary>
    /// A connection accept4 returned on an epoll loop's thread. It is registered with the loops in turn:
    /// the listener wakes mostly the same loop (EPOLLEXCLUSIVE wakes the first watcher), and keeping every
    /// connection there would leave the other loops idle. It starts right here, up to its first wait.
    /// </summary>
    internal void OnEpollAccepted(int fd, ReadOnlySpan<byte> remoteAddress, int listenerIndex)
    {
        BoundListener listener = _listeners[listenerIndex];
        EpollLoop[] loops = _epollLoops!;
        EpollLoop loop = loops[(int)((uint)Interlocked.Increment(ref _nextLoop) % (uint)loops.Length)];
        if (Interlocked.Increment(ref _connectionCount) > Options.MaxConcurrentConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            CountRejected(listener);
            EpollTransport.Refuse(fd, OverCapacityResponse(listener));
            return;
        }
        EpollTransport epoll;
        try
        {
            epoll = new EpollTransport(fd, remoteAddress, loop);
        }
        catch (IOException ex)
        {
            LinuxNative.close(fd);
            if (Interlocked.Decrement(ref _connectionCount) == 0 && _stopping) _drained.TrySetResult();
            Options.ErrorLog.Report("could not register an accepted connection", ex);
            return;
        }
        var connection = new HttpConnection(this, listener, Wrap(epoll, listener));
        _connections.Add(connection);
        // During a stop its first response closes it (IsStopping), or the drain closes it idle.
        _ = connection.RunAsync();
    }

    private async Task AcceptLoopAsync(BoundListener bound)
    {
        Socket listener = bound.Socket;
        while (!_stopping)
        {
            Socket? socket = null;
            try
            {
                socket = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors or a connection reset before accept: keep serving the others.
                Options.ErrorLog.Report($"accept failed: {ex.SocketErrorCode}", null);
                await Task.Delay(50).ConfigureAwait(false);
            }
            if (socket is null) continue;
            socket.NoDelay = true;
            if (Interlocked.Increment(ref _connectionCount) > Options.MaxConcurrentConnections)
            {
                Interlocked.Decrement(ref _connectionCount);
                CountRejected(bound);
                RefuseOverCapacity(socket, bound);
                continue;
            }
            var connection = new HttpConnection(this, bound, Wrap(new SocketTransport(socket), bound));
            // Accepted as the stop began, it is served all the same (its request may be on its way; the
            // response closes it): the drain waits for it.
            _connections.Add(connection);
            // Run the connection on the pool: a request already waiting must not hold up accepting.
            ThreadPool.UnsafeQueueUserWorkItem(connection, preferLocal: false);
        }
    }

    // TLS sits between the transport and the connection (DESIGN.md): the connection reads and writes through it.
    private static ConnectionTransport Wrap(ConnectionTransport transport, BoundListener listener) =>
        listener.Tls is { } tls ? new TlsTransport(transport, tls) : transport;

    // RFC 9110 §15.6.4: 503 for a temporary overload. A TLS listener closes without a word, as nginx and
    // Kestrel do: a plain 503 would be garbage to a TLS client, and a handshake is what overload cannot afford.
    private byte[] OverCapacityResponse(BoundListener listener) =>
        listener.Tls is null ? ErrorResponses.Build(503, "too many connections", Options.ServerHeader) : [];

    private void CountRejected(BoundListener listener)
    {
        Status.Count(FailureKind.OverCapacity);
        if (TelemetrySupport.IsSupported && ServerTelemetry.RejectedConnections.Enabled) ServerTelemetry.RejectedConnections.Add(1, new TagList(listener.ConnectionTags));
    }

    private void RefuseOverCapacity(Socket socket, BoundListener listener)
    {
        try
        {
            byte[] response = OverCapacityResponse(listener);
            if (response.Length > 0) socket.Send(response, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    internal void OnConnectionClosed(HttpConnection connection)
    {
        lock (_requestTotalsLock)
        {
            if (!_connections.Remove(connection)) return;
            _closedConnectionRequests += connection.RequestCount;
        }
        connection.EndConnectionTelemetry();
        if (Interlocked.Decrement(ref _connectionCount) == 0 && _stopping) _drained.TrySetResult();
    }

    private void OnHeartbeat()
    {
        long now = Environment.TickCount64;
        DateField.PrepareAhead();
        foreach (HttpConnection? connection in _connections.Slots) connection?.OnHeartbeat(now);
        foreach (BoundListener listener in _listeners) listener.Tls?.ReloadChangedCertificates(Options.ErrorLog);
        Status.Sample(now, TotalRequests());
    }

    private static async Task<IPAddress> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (host is "*" or "") return IPAddress.IPv6Any;
        if (host == "localhost") return IPAddress.Loopback;
        if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal)) return literal;
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        return addresses.Length > 0 ? addresses[0] : throw new ArgumentException($"host '{host}' has no address", nameof(host));
    }
}

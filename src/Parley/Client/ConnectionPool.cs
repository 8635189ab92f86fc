using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Server;
using Parley.Server.Transport;

namespace Parley.Client;

/// <summary>The connections of one origin: idle ones ready for reuse, and a limit on how many are busy.</summary>
internal sealed class OriginPool
{
    private readonly Stack<ClientConnection> _idle = new();

    public OriginPool(Origin origin, int limit, ClientTlsPolicy? tls)
    {
        Origin = origin;
        TlsOptions = origin.IsSecure ? tls!.OptionsFor(origin) : null;
        Limit = limit;
        Slots = new SemaphoreSlim(limit, limit);
        HostFieldLine = Encoding.ASCII.GetBytes($"Host: {origin.HostField()}\r\n");
    }

    public Origin Origin { get; }

    /// <summary>The TLS handshake options of an https origin (one object, so sessions can be resumed); null for http.</summary>
    public System.Net.Security.SslClientAuthenticationOptions? TlsOptions { get; }

    /// <summary>Most busy connections at once.</summary>
    public int Limit { get; }

    /// <summary>One slot per busy connection (<see cref="ParleyClientOptions.MaxConnectionsPerOrigin"/>).</summary>
    public SemaphoreSlim Slots { get; }

    /// <summary>The pre-encoded <c>Host</c> field line.</summary>
    public byte[] HostFieldLine { get; }

    public int IdleCount
    {
        get
        {
            lock (_idle) return _idle.Count;
        }
    }

    public void Return(ClientConnection connection)
    {
        lock (_idle) _idle.Push(connection);
    }

    /// <summary>Pops the most recently used idle connection that is still good; stale ones are closed.</summary>
    public ClientConnection? TakeIdle()
    {
        long now = Environment.TickCount64;
        while (true)
        {
            ClientConnection? connection;
            lock (_idle)
            {
                if (!_idle.TryPop(out connection)) return null;
            }
            if (connection.IsReusable(now))
            {
                connection.TakeSlot();
                return connection;
            }
            connection.Close();
        }
    }

    /// <summary>Closes idle connections past their idle deadline (or all of them).</summary>
    public void Sweep(long now, bool all)
    {
        List<ClientConnection>? expired = null;
        lock (_idle)
        {
            if (_idle.Count == 0) return;
            foreach (ClientConnection connection in _idle)
            {
                if (all || now >= connection.IdleExpires) (expired ??= []).Add(connection);
            }
            if (expired is null) return;
            var keep = new List<ClientConnection>(_idle);
            keep.RemoveAll(expired.Contains);
            _idle.Clear();
            for (int i = keep.Count - 1; i >= 0; i--) _idle.Push(keep[i]);
        }
        foreach (ClientConnection connection in expired) connection.Close();
    }
}

/// <summary>
/// Connections per origin (scheme, host, port), reused while idle, created (resolve, connect) when none
/// is idle, limited per origin; for https, the TLS handshake follows the connect (see <see cref="SecureAsync"/>).
/// Owns the timer that enforces every connection's current deadline.
/// </summary>
internal sealed class ConnectionPool : IDisposable
{
    private readonly ConcurrentDictionary<Origin, OriginPool> _origins = new();
    private readonly ConcurrentDictionary<ClientConnection, byte> _live = new();
    private readonly Timer _timer;
    private readonly ClientTlsPolicy _tls;
    private int _ticks;
    private bool _disposed;

    public ConnectionPool(ParleyClientOptions options)
    {
        Options = options;
        _tls = new ClientTlsPolicy(options);
        if (options.UserAgent is { } userAgent)
        {
            Http1.MessageWriter.ValidateField("User-Agent", userAgent);
            UserAgentLine = Encoding.ASCII.GetBytes($"User-Agent: {userAgent}\r\n");
        }
        if (options.Transport == TransportKind.Epoll && EpollLoop.IsSupported) Loop = new EpollLoop(0);
        _timer = new Timer(static state => ((ConnectionPool)state!).OnTick(), this, 50, 50);
    }

    /// <summary>The event loop of <see cref="TransportKind.Epoll"/> (null for the portable transport).</summary>
    public EpollLoop? Loop { get; }

    public ParleyClientOptions Options { get; }

    public byte[]? UserAgentLine { get; }

    /// <summary>Open connections, busy or idle.</summary>
    public int ConnectionCount => _live.Count;

    /// <summary>Idle connections to <paramref name="uri"/>'s origin.</summary>
    public int IdleCount(Uri uri) => _origins.TryGetValue(Origin.Of(uri), out OriginPool? pool) ? pool.IdleCount : 0;

    /// <summary>A connection to <paramref name="origin"/>: an idle one unless <paramref name="forceNew"/>, else a new one.</summary>
    public async ValueTask<ClientConnection> RentAsync(Origin origin, bool forceNew, Uri uri, ISessionObserver? observer,
        long requestDeadline, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        OriginPool pool = _origins.GetOrAdd(origin, static (o, self) => new OriginPool(o, self.Options.MaxConnectionsPerOrigin, self._tls), this);
        if (!pool.Slots.Wait(0))
        {
            long wait = requestDeadline == long.MaxValue ? -1 : Math.Max(0, requestDeadline - Environment.TickCount64);
            if (!await pool.Slots.WaitAsync(TimeSpan.FromMilliseconds(wait), cancellationToken).ConfigureAwait(false))
            {
                throw new ParleyHttpException(ParleyErrorKind.Timeout,
                    $"timed out waiting for a free connection to {origin} ({Options.MaxConnectionsPerOrigin} busy)");
            }
        }
        if (!forceNew)
        {
            // The slot just taken passes to the idle connection (TakeSlot).
            ClientConnection? idle = pool.TakeIdle();
            if (idle is not null)
            {
                Raise(observer, new SessionEvent
                {
                    Kind = SessionEventKind.Connected, Uri = uri, Reused = true, LocalEndPoint = idle.LocalEndPoint,
                    RemoteEndPoint = idle.RemoteEndPoint, RequestNumberOnConnection = idle.RequestCount + 1,
                });
                return idle;
            }
        }
        try
        {
            (Socket? socket, EpollTransport? epoll) = await ConnectAsync(origin, uri, observer, requestDeadline, cancellationToken).ConfigureAwait(false);
            ConnectionTransport transport;
            try
            {
                transport = epoll ?? (ConnectionTransport)new SocketTransport(socket!);
            }
            catch
            {
                socket?.Dispose();
                throw;
            }
            TlsClientTransport? tls = null;
            if (pool.TlsOptions is { } tlsOptions)
            {
                tls = await SecureAsync(transport, pool, tlsOptions, uri, observer, requestDeadline, cancellationToken).ConfigureAwait(false);
            }
            ClientConnection connection;
            try
            {
                connection = new ClientConnection(this, pool, transport, socket, epoll, tls);
            }
            catch
            {
                (tls ?? transport).Dispose();
                throw;
            }
            _live.TryAdd(connection, 0);
            Raise(observer, new SessionEvent
            {
                Kind = SessionEventKind.Connected, Uri = uri, Reused = false, LocalEndPoint = connection.LocalEndPoint,
                RemoteEndPoint = connection.RemoteEndPoint, RequestNumberOnConnection = 1,
            });
            return connection;
        }
        catch
        {
            pool.Slots.Release();
            throw;
        }
    }

    /// <summary>Resolves the host (unless it is an address literal) and tries its addresses in order.</summary>
    /// <summary>One of the two is set: the portable transport's socket, or the epoll transport.</summary>
    private async ValueTask<(Socket? Socket, EpollTransport? Epoll)> ConnectAsync(Origin origin, Uri uri, ISessionObserver? observer, long requestDeadline, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long limit = Options.ConnectTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)Options.ConnectTimeout.TotalMilliseconds;
        if (requestDeadline != long.MaxValue) limit = Math.Min(limit, Math.Max(1, requestDeadline - Environment.TickCount64));
        if (limit != long.MaxValue) timeout.CancelAfter(TimeSpan.FromMilliseconds(limit));

        Raise(observer, new SessionEvent { Kind = SessionEventKind.Resolving, Uri = uri, Host = origin.Host });
        IPAddress[] addresses;
        if (IPAddress.TryParse(origin.Host, out IPAddress? literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(origin.Host, timeout.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new ParleyHttpException(ParleyErrorKind.NameResolutionFailed, $"cannot resolve host '{origin.Host}': {ex.Message}", ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ParleyHttpException(ParleyErrorKind.Timeout, $"timed out after {limit} ms resolving host '{origin.Host}'", ex);
            }
            if (addresses.Length == 0)
            {
                throw new ParleyHttpException(ParleyErrorKind.NameResolutionFailed, $"host '{origin.Host}' has no addresses");
            }
        }
        Raise(observer, new SessionEvent { Kind = SessionEventKind.Resolved, Uri = uri, Host = origin.Host, Addresses = addresses });

        var failures = new StringBuilder();
        foreach (IPAddress address in addresses)
        {
            var endPoint = new IPEndPoint(address, origin.Port);
            Raise(observer, new SessionEvent { Kind = SessionEventKind.Connecting, Uri = uri, RemoteEndPoint = endPoint });
            if (Loop is not null)
            {
                try
                {
                    return (null, await EpollConnect.ConnectAsync(endPoint, Loop, timeout.Token).ConfigureAwait(false));
                }
                catch (SocketException ex)
                {
                    AppendFailure(failures, addresses.Length, endPoint, ex);
                    continue;
                }
                catch (OperationCanceledException ex)
                {
                    if (cancellationToken.IsCancellationRequested) throw;
                    throw new ParleyHttpException(ParleyErrorKind.Timeout, $"timed out after {limit} ms connecting to {endPoint} ({origin.Host})", ex);
                }
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
                return (socket, null);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                AppendFailure(failures, addresses.Length, endPoint, ex);
            }
            catch (OperationCanceledException ex)
            {
                socket.Dispose();
                if (cancellationToken.IsCancellationRequested) throw;
                throw new ParleyHttpException(ParleyErrorKind.Timeout, $"timed out after {limit} ms connecting to {endPoint} ({origin.Host})", ex);
            }
        }
        throw new ParleyHttpException(ParleyErrorKind.ConnectFailed, $"cannot connect to {origin.Host} port {origin.Port}: {failures}");
    }

    /// <summary>
    /// The TLS handshake over a connected <paramref name="transport"/>, bounded by
    /// <see cref="ParleyClientOptions.TlsHandshakeTimeout"/> (and the request's deadline): the timer
    /// aborts the transport, which ends the handshake. A failure is explained by the policy and closes
    /// the connection.
    /// </summary>
    private async ValueTask<TlsClientTransport> SecureAsync(ConnectionTransport transport, OriginPool pool,
        System.Net.Security.SslClientAuthenticationOptions tlsOptions, Uri uri, ISessionObserver? observer,
        long requestDeadline, CancellationToken cancellationToken)
    {
        var tls = new TlsClientTransport(transport);
        long limit = Options.TlsHandshakeTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)Options.TlsHandshakeTimeout.TotalMilliseconds;
        if (requestDeadline != long.MaxValue) limit = Math.Min(limit, Math.Max(1, requestDeadline - Environment.TickCount64));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (limit != long.MaxValue) timeout.CancelAfter(TimeSpan.FromMilliseconds(limit));
        Raise(observer, new SessionEvent { Kind = SessionEventKind.TlsHandshakeStarting, Uri = uri, RemoteEndPoint = transport.RemoteEndPoint });
        try
        {
            using (timeout.Token.UnsafeRegister(static state => ((TlsClientTransport)state!).Abort(), tls))
            {
                await tls.HandshakeAsync(tlsOptions, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            tls.Dispose();
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException($"the TLS handshake with {pool.Origin} was canceled", ex, cancellationToken);
            throw _tls.HandshakeFailure(ex, tls, pool.Origin, timedOut: timeout.IsCancellationRequested, limit);
        }
        if (observer is not null)
        {
            Raise(observer, new SessionEvent { Kind = SessionEventKind.TlsHandshakeDone, Uri = uri, Tls = new TlsSessionInfo(tls.Ssl, pool.Origin.Host) });
        }
        return tls;
    }

    /// <summary>
    /// One address's failure for the "cannot connect" message: just the reason when the host had one address
    /// (the message already names host and port), else each address with its reason.
    /// </summary>
    private static void AppendFailure(StringBuilder failures, int addressCount, IPEndPoint endPoint, SocketException ex)
    {
        if (addressCount == 1)
        {
            failures.Append(ex.Message);
            return;
        }
        if (failures.Length > 0) failures.Append("; ");
        failures.Append(endPoint).Append(": ").Append(ex.Message);
    }

    /// <summary>Called when a connection closes.</summary>
    public void Forget(ClientConnection connection) => _live.TryRemove(connection, out _);

    private void OnTick()
    {
        long now = Environment.TickCount64;
        foreach (KeyValuePair<ClientConnection, byte> entry in _live) entry.Key.CheckDeadline(now);
        if (++_ticks % 20 == 0)
        {
            foreach (KeyValuePair<Origin, OriginPool> entry in _origins) entry.Value.Sweep(now, all: false);
        }
    }

    private static void Raise(ISessionObserver? observer, SessionEvent e)
    {
        observer?.OnEvent(e with { Timestamp = Stopwatch.GetTimestamp() });
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _timer.Dispose();
        foreach (KeyValuePair<Origin, OriginPool> entry in _origins) entry.Value.Sweep(0, all: true);
        // Exchanges still in flight end now (their reads fail), as with HttpClient.Dispose.
        foreach (KeyValuePair<ClientConnection, byte> entry in _live) entry.Key.Shutdown();
        Loop?.Stop();
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
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
    private Socket? _listener;
    private Timer? _heartbeat;
    private Task? _acceptLoop;
    private int _connectionCount;
    private EpollLoop[]? _epollLoops;
    private int _nextLoop;
    private volatile bool _stopping;

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
    }

    /// <summary>The options the server was created with.</summary>
    public HttpServerOptions Options { get; }

    /// <summary>The handler every request goes to.</summary>
    public RequestHandler Handler { get; }

    /// <summary>The address and port actually bound (useful with port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_listener?.LocalEndPoint ?? throw new InvalidOperationException("the server is not started"));

    /// <summary>True once a stop has begun.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Connections open right now.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    internal byte[]? ServerFieldLine { get; }

    /// <summary>Exchange objects lent to connections while they answer a request.</summary>
    internal ExchangePool Exchanges { get; } = new(maxRetained: 1024);
    internal byte[] KeepAliveFieldPrefix { get; }

    /// <summary>Binds and starts accepting connections.</summary>
    /// <exception cref="IOException">
    /// The address cannot be listened on: another socket holds it (unless every holder asked for
    /// <see cref="HttpServerOptions.ReusePort"/>), or it is not an address of this machine. The message
    /// names the address and the reason, e.g. "cannot listen on 127.0.0.1:8080: address already in use";
    /// the <see cref="SocketException"/> is the inner exception.
    /// </exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_listener is not null) throw new InvalidOperationException("the server is already started");
        IPAddress address = await ResolveAsync(Options.Host, cancellationToken).ConfigureAwait(false);
        _listener = ListenerSocket.Open(new IPEndPoint(address, Options.Port), Options.ReusePort);
        Socket listener = _listener;
        _heartbeat = new Timer(static state => ((HttpServer)state!).OnHeartbeat(), this, 1000, 1000);
        if (Options.Transport == TransportKind.Epoll)
        {
            if (!EpollLoop.IsSupported) throw new PlatformNotSupportedException("the epoll transport needs Linux on x64; use TransportKind.Sockets");
            // The loops accept themselves: the listener must not block them, and accepted sockets inherit
            // TCP_NODELAY from it (Linux copies the listener's options to the connections it accepts).
            listener.Blocking = false;
            listener.NoDelay = true;
            _epollLoops = new EpollLoop[Math.Max(1, Options.EpollThreadCount > 0 ? Options.EpollThreadCount : Environment.ProcessorCount)];
            for (int i = 0; i < _epollLoops.Length; i++) _epollLoops[i] = new EpollLoop(i);
            // Only once every loop exists: a loop that accepts may hand the connection to any other loop,
            // and connections already queued on the listener are accepted as soon as a loop watches it.
            foreach (EpollLoop loop in _epollLoops) loop.StartAccepting(this, listener.SafeHandle);
            return;
        }
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// Stops gracefully: no new connections, idle ones closed at once, requests in flight finished and
    /// answered with <c>Connection: close</c>; whatever remains after the drain timeout is closed.
    /// </summary>
    public async Task StopAsync(TimeSpan? drainTimeout = null)
    {
        if (_stopping) return;
        _stopping = true;
        if (_epollLoops is not null) await StopEpollAcceptingAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        foreach (HttpConnection? connection in _connections.Slots) connection?.CloseIfIdle();
        if (Volatile.Read(ref _connectionCount) == 0) _drained.TrySetResult();
        Task finished = await Task.WhenAny(_drained.Task, Task.Delay(drainTimeout ?? Options.DrainTimeout)).ConfigureAwait(false);
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

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.Zero).ConfigureAwait(false);

    private async Task StopEpollAcceptingAsync()
    {
        EpollLoop[] loops = _epollLoops!;
        foreach (EpollLoop loop in loops) loop.StopAccepting();
        // Shutting a listening socket down reports a hang-up to every epoll instance watching it and makes
        // accept fail with EINVAL, so each loop lets go of it now rather than at its next timed wake.
        if (_listener is { } listener) LinuxNative.shutdown((int)listener.SafeHandle.DangerousGetHandle(), LinuxNative.SHUT_RD);
        Task stopped = Task.WhenAll(Array.ConvertAll(loops, loop => loop.AcceptStopped));
        await Task.WhenAny(stopped, Task.Delay(2000)).ConfigureAwait(false);
    }

    /// <summary>
    /// A connection accept4 returned on an epoll loop's thread. It is registered with the loops in turn:
    /// the listener wakes mostly the same loop (EPOLLEXCLUSIVE wakes the first watcher), and keeping every
    /// connection there would leave the other loops idle. It starts right here, up to its first wait.
    /// </summary>
    internal void OnEpollAccepted(int fd, ReadOnlySpan<byte> remoteAddress)
    {
        EpollLoop[] loops = _epollLoops!;
        EpollLoop loop = loops[(int)((uint)Interlocked.Increment(ref _nextLoop) % (uint)loops.Length)];
        if (Interlocked.Increment(ref _connectionCount) > Options.MaxConcurrentConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            // RFC 9110 §15.6.4: 503 for a temporary overload.
            EpollTransport.Refuse(fd, ErrorResponses.Build(503, "too many connections", Options.ServerHeader));
            return;
        }
        EpollTransport transport;
        try
        {
            transport = new EpollTransport(fd, remoteAddress, loop);
        }
        catch (IOException ex)
        {
            LinuxNative.close(fd);
            if (Interlocked.Decrement(ref _connectionCount) == 0 && _stopping) _drained.TrySetResult();
            Options.ErrorLog?.Invoke("could not register an accepted connection", ex);
            return;
        }
        var connection = new HttpConnection(this, transport);
        _connections.Add(connection);
        // During a stop the connection ends at its first wait (IsStopping), closing itself.
        _ = connection.RunAsync();
    }

    private async Task AcceptLoopAsync()
    {
        Socket listener = _listener!;
        while (!_stopping)
        {
            Socket socket;
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
                Options.ErrorLog?.Invoke($"accept failed: {ex.SocketErrorCode}", null);
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }
            socket.NoDelay = true;
            if (Interlocked.Increment(ref _connectionCount) > Options.MaxConcurrentConnections)
            {
                Interlocked.Decrement(ref _connectionCount);
                RefuseOverCapacity(socket);
                continue;
            }
            var connection = new HttpConnection(this, CreateTransport(socket));
            _connections.Add(connection);
            if (_stopping)
            {
                connection.ForceClose();
                OnConnectionClosed(connection);
                continue;
            }
            // Run the connection on the pool: a request already waiting must not hold up accepting.
            ThreadPool.UnsafeQueueUserWorkItem(connection, preferLocal: false);
        }
    }

    private static SocketTransport CreateTransport(Socket socket) => new(socket);

    private void RefuseOverCapacity(Socket socket)
    {
        try
        {
            // RFC 9110 §15.6.4: 503 for a temporary overload.
            socket.Send(ErrorResponses.Build(503, "too many connections", Options.ServerHeader), SocketFlags.None);
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
        if (!_connections.Remove(connection)) return;
        if (Interlocked.Decrement(ref _connectionCount) == 0 && _stopping) _drained.TrySetResult();
    }

    private void OnHeartbeat()
    {
        long now = Environment.TickCount64;
        foreach (HttpConnection? connection in _connections.Slots) connection?.OnHeartbeat(now);
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

using System.Runtime.CompilerServices;
using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Http1;
using Parley.Server.Transport;

namespace Parley.Server;

/// <summary>
/// One TCP connection, from accept to close. The life of a request through it:
/// <list type="number">
/// <item>Wait for bytes without holding a buffer (a zero-byte receive), then rent one and receive.</item>
/// <item>Parse as many request heads as the buffer holds (<see cref="RequestHeadParser"/>); each is handled
/// in turn, so pipelined requests are answered in order.</item>
/// <item>Run the handler. Its response goes into the output buffer (head and body together).</item>
/// <item>Only when the buffer holds no further complete request, send the whole batch in one write.</item>
/// </list>
/// Timeouts are enforced by the server's once-a-second heartbeat through <see cref="OnHeartbeat"/>: the
/// connection publishes what it is waiting for (its phase) and until when.
/// </summary>
internal sealed partial class HttpConnection : IThreadPoolWorkItem, IRegisteredConnection
{
    private const int InitialBufferSize = Exchange.ReceiveBufferSize;
    private const int MaxLingerBytes = 64 * 1024;

    private enum Phase { Busy, Idle, ReadingHead, ReadingBody, Writing, Handshaking, ReadingProxyHeader, Upgraded, Closed }

    private readonly HttpServer _server;
    private readonly HttpServerOptions _options;
    private readonly ConnectionTransport _transport;
    private readonly TlsTransport? _tls;
    private readonly RequestHandler _handler;
    private readonly bool _expectsProxyHeader;
    private IPEndPoint? _clientEndPoint;
    private bool _handshakeTimedOut;
    // True while the receive that ends an idle wait runs: no byte of a next request has arrived yet.
    private bool _awaitingNextRequest;
    // The exchange's objects, set while the connection holds an exchange (see AttachExchange).
    private Exchange? _exchange;
    private RequestHead _head = null!;
    private HttpRequest _request = null!;
    private HttpResponse _response = null!;
    private ByteBuffer _output = null!;

    private byte[] _buffer = [];
    private int _start;   // first byte of the current request
    private int _end;     // end of received bytes
    private int _bodyPos; // next unconsumed byte after the current head

    private int _phase;
    private long _deadline;
    private long _headStartTicks;

    public HttpConnection(HttpServer server, BoundListener listener, ConnectionTransport transport)
    {
        _server = server;
        _options = server.Options;
        _transport = transport;
        _tls = transport as TlsTransport;
        _handler = listener.Handler;
        _expectsProxyHeader = listener.Options.ProxyProtocol;
        Id = server.NextConnectionId();
        _listener = listener;
        BeginConnectionTelemetry();
        _acceptedTicks = Environment.TickCount64;
    }

    private readonly long _acceptedTicks;

    /// <summary>The TLS session, once the handshake is done; null on a plain connection.</summary>
    public TlsSession? TlsSession => _tls?.Session;

    /// <summary>This connection's number on its server (see <see cref="HttpRequest.ConnectionId"/>).</summary>
    public long Id { get; }

    // Asked of the transport, which may build them only when first wanted (the epoll transport does).
    // The client: the address a PROXY protocol header named, or else the TCP peer.
    public IPEndPoint? RemoteEndPoint => _clientEndPoint ?? _transport.RemoteEndPoint;
    public IPEndPoint? PeerEndPoint => _transport.RemoteEndPoint;
    public IPEndPoint? LocalEndPoint => _transport.LocalEndPoint;

    /// <summary>The PROXY protocol header the connection opened with; null on a listener without it.</summary>
    public ProxyProtocolHeader? ProxyHeader { get; private set; }

    /// <summary>The server's forwarding policy, or null when forwarding fields are never read.</summary>
    internal ForwardedHeadersPolicy? Forwarding => _server.Forwarding;

    /// <summary>The server's default host for requests with an empty Host (RFC 9112 §3.3), or null.</summary>
    internal string? DefaultHost => _server.DefaultHost;

    public int RequestCount { get; private set; }

    /// <inheritdoc />
    public int RegistrySlot { get; set; } = -1;

    void IThreadPoolWorkItem.Execute() => _ = RunAsync();

    public async Task RunAsync()
    {
        try
        {
            if (_expectsProxyHeader && !await ReadProxyHeaderAsync(_tls?.Inner ?? _transport).ConfigureAwait(false)) return;
            if (_tls is not null && !await HandshakeAsync(_tls).ConfigureAwait(false)) return;
            HeadResult result = await ReadRequestHeadAsync(resumed: false).ConfigureAwait(false);
            while (true)
            {
                if (result == HeadResult.Idle)
                {
                    // The wait between requests happens in this frame, so that an idle connection holds
                    // no state machine but this one (and no buffer, see PrepareIdle).
                    await _transport.WaitForDataAsync().ConfigureAwait(false);
                    if (!EnterBusy(Phase.Idle)) break;
                    AttachExchange();
                    _buffer = _exchange!.TakeReceiveBuffer();
                    _headStartTicks = 0;
                    _awaitingNextRequest = true;
                    int received = _transport.TryReceiveNow(_buffer);
                    if (received == ConnectionTransport.NothingArrived)
                    {
                        // The wait ended with nothing to read (see TryReceiveNow): no request has begun,
                        // so the connection is idle still, under the keep-alive timeout, not the head's.
                        _awaitingNextRequest = false;
                        result = PrepareIdle();
                        continue;
                    }
                    // A transport that must wait (TLS) reads the bytes that ended the wait in this frame
                    // too: a receive that does not complete at once then suspends only this state machine,
                    // which the connection holds anyway, and rents no pooled one.
                    ValueTask<int> pending = default;
                    if (received == ConnectionTransport.MustWait) received = StartHeadReceive(_buffer.AsMemory(), out pending);
                    if (received < 0)
                    {
                        received = await pending.ConfigureAwait(false);
                        if (!EnterBusy(Phase.ReadingHead)) break;
                    }
                    _awaitingNextRequest = false;
                    if (received == 0) break;
                    _transport.BytesReceived += received;
                    _end = received;
                    result = await ReadRequestHeadAsync(resumed: true).ConfigureAwait(false);
                    continue;
                }
                if (result == HeadResult.Close) break;
                RequestCount++;
                if (!await ProcessRequestAsync().ConfigureAwait(false)) break;
                if (_end > _start)
                {
                    // A pipelined request follows.
                    result = await ReadRequestHeadAsync(resumed: false).ConfigureAwait(false);
                    continue;
                }
                // Nothing more is buffered, the common case: the batch ends here, as it would in
                // ReadMoreOfHeadAsync, but without a call to it.
                await FlushOutputAsync(default).ConfigureAwait(false);
                result = PrepareIdle();
            }
        }
        catch (Exception ex) when (IsDisconnect(ex))
        {
            // The peer went away or a timeout closed the socket: nothing left to answer. Only the first is
            // the client's doing; a close by the heartbeat or a stop was counted (or is no error) already. A
            // reset seen by the receive that ends an idle wait ends no request: nothing was owed to the client.
            NoteFailure(ex);
            if (_exchange is not null && !_awaitingNextRequest && !_lingering && Volatile.Read(ref _phase) != (int)Phase.Closed) _server.Status.Count(FailureKind.ClientDisconnected);
        }
        catch (Exception ex)
        {
            NoteFailure(ex);
            _server.Status.Count(FailureKind.ConnectionFailed);
            _options.ErrorLog.Report($"connection from {RemoteEndPoint} failed", ex);
        }
        finally
        {
            Volatile.Write(ref _phase, (int)Phase.Closed);
            SignalRequestAborted();
            _transport.Close();
            // A request cut short (the peer went away, the handler failed after its response began).
            if (TelemetryOpen) EndTelemetry(0);
            ReleaseBuffers();
            _server.OnConnectionClosed(this);
        }
    }

    private enum HeadResult { Ready, Idle, Close }

    /// <summary>
    /// The TLS handshake, bounded by the listener's handshake timeout (the heartbeat closes a connection
    /// whose handshake is still going then). A failed or timed-out handshake costs one error-log line; a
    /// client that speaks plain HTTP to the port is told so in plain HTTP, as nginx does. False: close.
    /// </summary>
    private async ValueTask<bool> HandshakeAsync(TlsTransport tls)
    {
        SetPhase(Phase.Handshaking, Environment.TickCount64 + (long)tls.HandshakeTimeout.TotalMilliseconds);
        TlsTransport.HandshakeResult result;
        long handshakeStarted = TelemetrySupport.IsSupported && ServerTelemetry.TlsHandshakeDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        try
        {
            result = await tls.HandshakeAsync().ConfigureAwait(false);
            if (handshakeStarted != 0 && result == TlsTransport.HandshakeResult.Secure) RecordHandshake(handshakeStarted, null);
        }
        // Whatever a client sends can make SslStream throw: not only AuthenticationException and I/O errors
        // (garbage that is not a ClientHello ends in a NotSupportedException). Each is a failed handshake.
        catch (Exception ex)
        {
            if (handshakeStarted != 0) RecordHandshake(handshakeStarted, ex);
            if (_handshakeTimedOut)
            {
                LogHandshakeTimeout(tls);
            }
            else if (Volatile.Read(ref _phase) != (int)Phase.Closed)
            {
                _server.Status.Count(FailureKind.TlsHandshakeFailed);
                // A handshake record SslStream cannot read as a ClientHello leaves it without options, and it
                // then blames the certificate ("must use a certificate with the associated private key"),
                // which sends an operator after a fault the configuration does not have.
                string reason = ex is NotSupportedException && !tls.ClientHelloRead ? "the client's first handshake record is not a ClientHello" : Describe(ex);
                _options.ErrorLog.Report($"TLS handshake with {RemoteEndPoint} failed: {reason}", null);
            }
            return false;
        }
        if (!EnterBusy(Phase.Handshaking))
        {
            if (_handshakeTimedOut) LogHandshakeTimeout(tls);
            return false;
        }
        if (result == TlsTransport.HandshakeResult.PlainHttp)
        {
            AttachExchange();
            await SendErrorAndCloseAsync(400, "The plain HTTP request was sent to HTTPS port").ConfigureAwait(false);
            return false;
        }
        return result == TlsTransport.HandshakeResult.Secure;
    }

    /// <summary>
    /// Reads the PROXY protocol header, never a byte past it (a TLS handshake or the first request
    /// follows), within the request-head timeout. False: close, with nothing sent (HAProxy's PROXY
    /// protocol §2: a receiver must not answer a connection whose header is missing or malformed).
    /// </summary>
    private async ValueTask<bool> ReadProxyHeaderAsync(ConnectionTransport raw)
    {
        SetPhase(Phase.ReadingProxyHeader, Environment.TickCount64 + (long)_options.RequestHeadersTimeout.TotalMilliseconds);
        byte[] header = new byte[ProxyProtocolParser.MaxV1Length];
        int length = 0;
        while (true)
        {
            ParseStatus status = ProxyProtocolParser.Parse(header.AsSpan(0, length), out ProxyProtocolHeader? parsed, out _, out string? reason);
            if (status == ParseStatus.Complete)
            {
                ProxyHeader = parsed;
                _clientEndPoint = parsed!.Source;
                return EnterBusy(Phase.ReadingProxyHeader);
            }
            if (status == ParseStatus.Invalid)
            {
                _server.Status.Count(FailureKind.ProxyHeaderInvalid);
                _options.ErrorLog.Report($"PROXY protocol header from {PeerEndPoint} rejected: {reason}", null);
                return false;
            }
            int wanted = ProxyProtocolParser.BytesWanted(header.AsSpan(0, length));
            if (length + wanted > header.Length) Array.Resize(ref header, length + wanted);
            int received = await raw.ReceiveAsync(header.AsMemory(length, wanted)).ConfigureAwait(false);
            if (received == 0) return false;
            _transport.BytesReceived += received;
            length += received;
        }
    }

    private void LogHandshakeTimeout(TlsTransport tls) =>
        _options.ErrorLog.Report($"TLS handshake with {RemoteEndPoint} did not finish within {tls.HandshakeTimeout.TotalSeconds:0.###} s", null);

    // One line: the exception's message and its causes' (SslStream wraps OpenSSL's reason in an inner exception).
    private static string Describe(Exception ex)
    {
        string text = ex.Message;
        for (Exception? inner = ex.InnerException; inner is not null; inner = inner.InnerException) text += $" ({inner.Message})";
        return text.ReplaceLineEndings(" ");
    }

    /// <summary>
    /// Reads until a complete request head is buffered (<see cref="HeadResult.Ready"/>). With nothing
    /// buffered it returns <see cref="HeadResult.Idle"/> for the caller to wait for bytes, and is called again
    /// with <paramref name="resumed"/> once the caller has received the first of them (noting when, if that
    /// receive had to wait);
    /// <see cref="HeadResult.Close"/> ends the connection.
    /// </summary>
    // A head that is buffered whole, as nearly every one is, is parsed here without a state machine.
    private ValueTask<HeadResult> ReadRequestHeadAsync(bool resumed)
    {
        if (_exchange is null) AttachExchange();
        _head.Reset();
        // A pipelined request already in the buffer started arriving no later than when it is first
        // waited for (AwaitHead reads the clock then); a resumed one, when the wait for it ended.
        if (!resumed) _headStartTicks = 0;
        if (_end > _start)
        {
            ParseStatus status = ParseBufferedHead(out HttpError error);
            if (status == ParseStatus.Complete) return new(HeadResult.Ready);
            if (status == ParseStatus.Invalid) return RejectHeadAsync(error);
        }
        return ReadMoreOfHeadAsync();
    }

    // The parse goes on from where the last call stopped (RequestHead keeps its place).
    private ParseStatus ParseBufferedHead(out HttpError error) =>
        RequestHeadParser.Parse(_buffer.AsMemory(_start, _end - _start), _head, _options.HeadLimits, out error);

    private async ValueTask<HeadResult> RejectHeadAsync(HttpError error)
    {
        await SendErrorAndCloseAsync(error.StatusCode, error.Reason).ConfigureAwait(false);
        return HeadResult.Close;
    }

    // Pooled: this method goes asynchronous when a head arrives in pieces or a flush must wait, and its
    // state machine must not be an allocation each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<HeadResult> ReadMoreOfHeadAsync()
    {
        while (true)
        {
            // The batch of pipelined requests is done: send all their responses in one write.
            if (_output.Length > 0) await FlushOutputAsync(default).ConfigureAwait(false);

            if (_end == _start) return PrepareIdle();
            MakeRoomForHead();

            int received = StartHeadReceive(_buffer.AsMemory(_end), out ValueTask<int> pending);
            if (received < 0)
            {
                received = await pending.ConfigureAwait(false);
                if (!EnterBusy(Phase.ReadingHead)) return HeadResult.Close;
            }
            if (received == 0) return HeadResult.Close;
            _transport.BytesReceived += received;
            _end += received;

            ParseStatus status = ParseBufferedHead(out HttpError error);
            if (status == ParseStatus.Complete) return HeadResult.Ready;
            if (status == ParseStatus.Invalid) return await RejectHeadAsync(error).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Gets ready to wait for the next request (nothing is buffered) without holding a receive buffer or
    /// an exchange, so an idle keep-alive connection costs little memory. <see cref="HeadResult.Close"/>
    /// when the server is stopping.
    /// </summary>
    private HeadResult PrepareIdle()
    {
        _start = _end = 0;
        GiveBackBuffer();
        DetachExchange();
        TimeSpan timeout = RequestCount == 0 ? _options.RequestHeadersTimeout : _options.KeepAliveTimeout;
        SetPhase(Phase.Idle, Environment.TickCount64 + (long)timeout.TotalMilliseconds);
        // Once a stop closes idle connections, this one closes rather than waits; but one that has not had
        // its first request yet waits for it (the drain closes it after its first second; see CloseIfIdle),
        // and a request the client sent before the stop is still answered (with Connection: close).
        return _server.ClosesIdleConnections && RequestCount > 0 && !_transport.HasUnreadBytes ? HeadResult.Close : HeadResult.Idle;
    }

    // Ensures free space after _end for more of a head: compacts a pipelined remainder to the front, or grows.
    private void MakeRoomForHead()
    {
        if (_end < _buffer.Length) return;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
            return;
        }
        Grow(_buffer.Length * 2);
    }

    private void Grow(int minimumSize)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(minimumSize);
        _buffer.AsSpan(_start, _end - _start).CopyTo(bigger);
        _end -= _start;
        _bodyPos -= _start;
        _start = 0;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
        _head.Rebind(_buffer.AsMemory(0, _end));
    }

    private void AttachExchange()
    {
        Exchange exchange = _server.Exchanges.Rent();
        exchange.Bind(this);
        _exchange = exchange;
        _head = exchange.Head;
        _head.EmptyHostAllowed = _server.DefaultHost is not null;
        _request = exchange.Request;
        _response = exchange.Response;
        _output = exchange.Output;
    }

    // Called only with the output sent: what the exchange holds is garbage from here on.
    private void DetachExchange()
    {
        if (_exchange is not { } exchange) return;
        _exchange = null;
        _head = null!;
        _request = null!;
        _response = null!;
        _output = null!;
        _server.Exchanges.Return(exchange);
    }

    private void SetPhase(Phase phase, long deadline)
    {
        Volatile.Write(ref _deadline, deadline);
        Volatile.Write(ref _phase, (int)phase);
    }

    // For a wait a handler may start after the end of a drain closed its connection (ForceClose): a send, a
    // file send or a body read. The connection stays closed, so that the operation's failure is taken for the
    // server's doing, not the client's.
    private void SetPhaseUnlessClosed(Phase phase, long deadline)
    {
        Volatile.Write(ref _deadline, deadline);
        int current = Volatile.Read(ref _phase);
        while (current != (int)Phase.Closed)
        {
            int seen = Interlocked.CompareExchange(ref _phase, (int)phase, current);
            if (seen == current) return;
            current = seen;
        }
    }

    // Waiting for (more of) a head: the timeout runs from when its first bytes arrived, which is taken as
    // the first time the head has to be waited for (0: not yet), so that a head that arrives whole costs no
    // clock read. A wait is published only once its operation is pending: until then the phase stays Busy,
    // which the heartbeat leaves alone, and a receive that completes at once needs no claim back.
    private void AwaitHead()
    {
        if (_headStartTicks == 0) _headStartTicks = Environment.TickCount64;
        SetPhase(Phase.ReadingHead, _headStartTicks + (long)_options.RequestHeadersTimeout.TotalMilliseconds);
    }

    // Receives (more of) a head: the byte count when the receive completed at once; otherwise -1, with the
    // receive left in pending for the caller to await (in its own frame) and the wait published.
    private int StartHeadReceive(Memory<byte> into, out ValueTask<int> pending)
    {
        pending = _transport.ReceiveAsync(into);
        if (pending.IsCompletedSuccessfully) return pending.Result;
        AwaitHead();
        return -1;
    }

    // Claims the connection back from a wait; false when the heartbeat or a stop closed it meanwhile.
    private bool EnterBusy(Phase from) =>
        Interlocked.CompareExchange(ref _phase, (int)Phase.Busy, (int)from) == (int)from;

    /// <summary>Called once a second by the server: closes the connection when its current wait has expired.</summary>
    public void OnHeartbeat(long now)
    {
        int phase = Volatile.Read(ref _phase);
        if (phase is (int)Phase.Busy or (int)Phase.Closed || now < Volatile.Read(ref _deadline)) return;
        if (Interlocked.CompareExchange(ref _phase, (int)Phase.Closed, phase) != phase) return;
        if (phase == (int)Phase.Handshaking) _handshakeTimedOut = true;
        CountTimeout((Phase)phase);
        // An idle wait that expired with bytes in the socket is a head that has begun: they arrived while
        // the connection's own code had not yet run to read them (late on a busy machine), and the client
        // is owed the 408 as much as one whose head the server had started to read.
        if (phase == (int)Phase.ReadingHead || (phase == (int)Phase.Idle && _transport.HasUnreadBytes))
        {
            // RFC 9110 §15.5.9: 408 tells the client we gave up waiting for its request.
            _server.Status.CountStatus(408);
            TrySendNow(ErrorResponses.Build(408, "request head not received in time", _options.ServerHeader));
        }
        Abort();
    }

    // An idle keep-alive connection that times out is no error; a wait for a request's own bytes is.
    private void CountTimeout(Phase phase)
    {
        switch (phase)
        {
            case Phase.ReadingBody when !_lingering: _server.Status.Count(FailureKind.RequestBodyTimeout); break;
            case Phase.Writing: _server.Status.Count(FailureKind.ResponseWriteTimeout); break;
            case Phase.Handshaking: _server.Status.Count(FailureKind.TlsHandshakeTimeout); break;
            case Phase.ReadingProxyHeader: _server.Status.Count(FailureKind.ProxyHeaderTimeout); break;
        }
    }

    /// <summary>
    /// Closes the connection if it is idle between requests (used by a graceful stop, again and again until
    /// the drain ends). One accepted less than a second before <paramref name="now"/> that has not had a
    /// request yet is left open: a balancer that just connected has its request on the way, and closing now
    /// would lose it. One whose next request has already arrived is left to answer it: the client sent it
    /// before the stop began. On the <paramref name="first"/> sweep an upgraded connection is told to end
    /// (see <see cref="StopUpgraded"/>).
    /// </summary>
    public void CloseIfIdle(long now, bool first)
    {
        if (first && Volatile.Read(ref _phase) == (int)Phase.Upgraded)
        {
            StopUpgraded();
            return;
        }
        if (RequestCount == 0 && now - _acceptedTicks < FirstRequestGraceMilliseconds) return;
        if (Volatile.Read(ref _phase) != (int)Phase.Idle || _transport.HasUnreadBytes) return;
        if (Interlocked.CompareExchange(ref _phase, (int)Phase.Closed, (int)Phase.Idle) == (int)Phase.Idle) Abort();
    }

    private const long FirstRequestGraceMilliseconds = 1000;

    /// <summary>Closes the connection whatever it is doing (end of the drain period).</summary>
    public void ForceClose()
    {
        Volatile.Write(ref _phase, (int)Phase.Closed);
        Abort();
    }

    private void TrySendNow(byte[] bytes) => _transport.TrySendNow(bytes);

    private void Abort()
    {
        _transport.Abort();
        SignalRequestAborted();
    }

    /// <summary>Ends the connection at once on the handler's request (see <see cref="HttpResponse.Abort"/>).</summary>
    internal void AbortFromHandler()
    {
        _handlerAborted = true;
        // What the handler flushed is owed to the client even though the rest never comes (as on Kestrel,
        // where a flush has handed the bytes to the transport before the abort).
        SendDeferredFlushBeforeAbort();
        ForceClose();
    }

    /// <summary>Whether the connection holds a receive buffer or an exchange (its output buffer among it); never while idle.</summary>
    internal bool HoldsBuffers => _buffer.Length != 0 || _exchange is not null;

    private void ReleaseBuffers()
    {
        GiveBackBuffer();
        DetachExchange();
    }

    // The receive buffer goes with the exchange it came with, to be kept for the next connection.
    private void GiveBackBuffer()
    {
        if (_buffer.Length == 0) return;
        if (_exchange is { } exchange) exchange.KeepReceiveBuffer(_buffer);
        else ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    // A send that completes at once (nearly every one) costs no clock read, no phase change and no state
    // machine; one that must wait publishes its wait only once it is pending, as AwaitHead does.
    private ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        if (_output.Length == 0) return default;
        ValueTask<int> send = _transport.SendAsync(_output.WrittenMemory, cancellationToken);
        if (!send.IsCompletedSuccessfully) return AwaitSendAsync(send);
        send.GetAwaiter().GetResult();
        OutputSent();
        return default;
    }

    // Pooled: under a slow reader this goes asynchronous on every response, and its state machine must not
    // be an allocation each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitSendAsync(ValueTask<int> send)
    {
        SetPhaseUnlessClosed(Phase.Writing, Environment.TickCount64 + (long)_options.DataTimeout.TotalMilliseconds);
        await send.ConfigureAwait(false);
        if (!EnterBusy(Phase.Writing)) throw new IOException("connection closed while sending");
        OutputSent();
    }

    private void FlushOutputSync()
    {
        SetPhaseUnlessClosed(Phase.Writing, Environment.TickCount64 + (long)_options.DataTimeout.TotalMilliseconds);
        _transport.SendBlocking(_output.WrittenSpan);
        if (!EnterBusy(Phase.Writing)) throw new IOException("connection closed while sending");
        OutputSent();
    }

    // What was buffered is on its way: the buffer starts over, and the response has begun to leave.
    private void OutputSent()
    {
        _transport.BytesSent += _output.Length;
        _output.Clear();
        _responseStart = 0;
        _responseFlushed = true;
    }

    private async ValueTask SendErrorAndCloseAsync(int statusCode, string reason)
    {
        _server.Status.CountStatus(statusCode);
        _output.Write(ErrorResponses.Build(statusCode, reason, _options.ServerHeader));
        LogAccess(statusCode, reason.Length, Stopwatch.GetTimestamp(), rawTarget: true);
        await FlushOutputAsync(default).ConfigureAwait(false);
        await CloseGracefullyAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Half-closes, then reads and discards what the client still sends for a moment, so that our last
    /// response is not destroyed by a reset when unread request bytes remain (RFC 9112 §9.6).
    /// </summary>
    private async ValueTask CloseGracefullyAsync()
    {
        try
        {
            _lingering = true;
            _transport.ShutdownSend();
            if (_buffer.Length == 0) _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
            SetPhase(Phase.ReadingBody, Environment.TickCount64 + 1000);
            int discarded = 0;
            while (discarded < MaxLingerBytes)
            {
                int received = await _transport.ReceiveAsync(_buffer.AsMemory()).ConfigureAwait(false);
                if (received == 0) break;
                _transport.BytesReceived += received;
                discarded += received;
            }
        }
        catch (Exception ex) when (IsDisconnect(ex))
        {
        }
    }

    private static bool IsDisconnect(Exception ex) =>
        ex is SocketException or ObjectDisposedException or IOException or OperationCanceledException;
}

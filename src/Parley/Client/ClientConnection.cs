using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Parley.Http1;
using Parley.Server.Transport;

namespace Parley.Client;

/// <summary>
/// One TCP connection to an origin, carrying one exchange at a time. The life of an exchange:
/// <list type="number">
/// <item>The request head (and a small body) is assembled in <see cref="_output"/> and sent in one write;
/// larger or streamed bodies follow (chunked when their length is unknown).</item>
/// <item>Bytes are received into one pooled buffer and parsed by the shared <see cref="ResponseHeadParser"/>;
/// interim 1xx responses are skipped (100 Continue releases a held body).</item>
/// <item>The framing of RFC 9112 §6.3 decides the body reader. A small body already in the buffer is
/// copied out with the head and the connection goes back to the pool at once; otherwise the response
/// streams from this connection (<see cref="ReadBodyAsync"/>), which returns to the pool only when the
/// body ended cleanly and the server allows reuse.</item>
/// </list>
/// Timeouts: the connection publishes a deadline for what it waits for; the pool's timer aborts the
/// socket when it passes, and the pending operation then fails as a timeout. No timer per request.
/// </summary>
internal sealed partial class ClientConnection
{
    private const int BufferSize = 16 * 1024;
    private const int InlineBodyLimit = 16 * 1024;
    private const int CoalesceBodyLimit = 16 * 1024;
    private const int AbortTimeout = 1, AbortCanceled = 2, AbortDisposed = 3;
    private static readonly List<KeyValuePair<string, string>> NoFields = [];

    private readonly ConnectionPool _pool;
    private readonly ParleyClientOptions _options;
    private readonly Socket? _socket; // the portable transport's, for the read-ahead
    private readonly ConnectionTransport _transport;
    private readonly EpollTransport? _epoll; // the transport under the connection (under TLS too)
    private readonly EpollTransport? _plainEpoll; // the same when nothing is layered on it: its fast paths apply
    private readonly ByteBuffer _output = new(4096);
    private readonly ResponseHead _head = new();
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;
    private ValueTask<int> _readAhead;
    private bool _readAheadPending;

    private int _requestCount;
    private int _requestsLeft = int.MaxValue;
    private bool _persistent;
    private bool _responseBytesSeen;
    private ISessionObserver? _observer;
    private Uri? _uri;
    private long _requestDeadline;

    private long _deadline;
    private long _waitStarted;
    private string _waitingFor = "";
    private int _abortReason;
    private int _closed;
    private bool _holdsSlot;

    /// <summary>
    /// Over <paramref name="transport"/>, made from a connected <paramref name="socket"/> (portable) or
    /// <paramref name="epoll"/>; for https, <paramref name="tls"/> (already past its handshake) is layered
    /// on it and carries every byte.
    /// </summary>
    public ClientConnection(ConnectionPool pool, OriginPool owner, ConnectionTransport transport, Socket? socket, EpollTransport? epoll, TlsClientTransport? tls)
    {
        _pool = pool;
        _options = pool.Options;
        Owner = owner;
        // The read-ahead receives from the socket directly only when no TLS sits in between.
        _socket = tls is null ? socket : null;
        // An epoll transport arrives registered with the client's event loop (EpollConnect).
        _epoll = epoll;
        _plainEpoll = tls is null ? epoll : null;
        _transport = tls ?? transport;
        RemoteEndPoint = _transport.RemoteEndPoint!;
        LocalEndPoint = _transport.LocalEndPoint!;
        RemoteText = RemoteEndPoint.ToString();
        _holdsSlot = true;
        BeginConnectionTelemetry();
    }

    public OriginPool Owner { get; }
    public IPEndPoint RemoteEndPoint { get; }
    public IPEndPoint LocalEndPoint { get; }
    public string RemoteText { get; }
    public int RequestCount => _requestCount;

    /// <summary>When an idle connection should no longer be reused (Environment.TickCount64 ms).</summary>
    public long IdleExpires { get; private set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Called by the pool as a connection leaves the idle list: it now holds a slot of its origin.</summary>
    public void TakeSlot()
    {
        _holdsSlot = true;
        Volatile.Write(ref _abortReason, 0);
        MarkActive();
    }

    /// <summary>
    /// RFC 9112 §9.3: a pooled connection may have been closed by the server while idle. Readable while
    /// idle means either EOF or bytes nobody asked for: stale either way.
    /// </summary>
    public bool IsReusable(long now)
    {
        if (IsClosed || now >= IdleExpires || _requestsLeft <= 0) return false;
        try
        {
            // The epoll transport peeks at the socket (its loop may not have reported a close yet). Under TLS
            // the read-ahead asks SslStream instead: a session ticket arriving late is TLS's own business.
            if (_plainEpoll is not null) return _plainEpoll.IsQuiet();
            return TryStartReadAhead();
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// The stale check of the portable transport and of TLS (through SslStream): start receiving the response before the request is sent (as
    /// SocketsHttpHandler does). A receive that completes at once found bytes nobody asked for, or the
    /// end of stream: stale. Otherwise it stays pending and becomes the first receive of the exchange, so
    /// the check costs no system call of its own (a poll(2) did before).
    /// </summary>
    private bool TryStartReadAhead()
    {
        // Idle: nothing buffered, _start == _end == 0.
        ValueTask<int> receive = _socket is not null
            ? _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None)
            : _transport.ReceiveAsync(_buffer.AsMemory());
        if (receive.IsCompleted)
        {
            try
            {
                receive.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
            {
            }
            return false;
        }
        _readAhead = receive;
        _readAheadPending = true;
        return true;
    }

    /// <summary>Sends the request and reads the final response head.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ParleyResponse> SendAsync(ParleyRequest request, ParleyHeaders? headers, bool acceptEncoding, Activity? trace,
        ISessionObserver? observer, long requestDeadline, CancellationToken cancellationToken)
    {
        _requestCount++;
        _requestsLeft--;
        _observer = observer;
        _uri = request.Uri;
        _requestDeadline = requestDeadline;
        _responseBytesSeen = false;
        _persistent = !HasConnectionClose(headers);
        ResponseHead head;
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((ClientConnection)state!).Abort(AbortCanceled), this)
            : default;
        try
        {
            ParleyContent? content = request.Content;
            bool expect = request.ExpectContinue && content is not null && content.Length != 0;
            WriteHead(request, headers, acceptEncoding, trace, content, expect);
            int headLength = _output.Length;
            bool coalesced = false;
            if (!expect && content is { Stream: null } && content.Bytes.Length <= CoalesceBodyLimit)
            {
                _output.Write(content.Bytes.Span);
                coalesced = true;
            }
            Arm(_options.ResponseHeadersTimeout, "sending the request to");
            await SendOutputAsync().ConfigureAwait(false);
            Raise(new SessionEvent { Kind = SessionEventKind.RequestHeadSent, Bytes = _output.WrittenMemory[..headLength] }, observer);
            if (coalesced)
            {
                Raise(new SessionEvent { Kind = SessionEventKind.RequestBodySent, Size = content!.Bytes.Length }, observer);
            }
            else if (content is not null && !expect)
            {
                await SendBodyAsync(content).ConfigureAwait(false);
            }
            head = await ReadFinalHeadAsync(expect ? content : null, request.Method == HttpMethods.Head, AsksToUpgrade(headers)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Close();
            throw Translate(ex, cancellationToken);
        }
        finally
        {
            Disarm();
            registration.Dispose();
        }
        // Only now, with this request's deadline and cancellation let go: a response whose body came with
        // its head hands the connection back to the pool at once, and another request may take it and arm
        // its own deadline before this method would otherwise have reached its finally.
        try
        {
            return StartResponse(head, request);
        }
        catch (Exception ex)
        {
            Close();
            throw Translate(ex, cancellationToken);
        }
    }

    /// <summary>
    /// Reads response heads until a final (non-1xx) one. With <paramref name="heldBody"/>, the body waits
    /// for 100 Continue, or for <see cref="ParleyClientOptions.ExpectContinueTimeout"/> (RFC 9110 §10.1.1).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ResponseHead> ReadFinalHeadAsync(ParleyContent? heldBody, bool requestWasHead, bool upgradeRequested)
    {
        Arm(_options.ResponseHeadersTimeout, "waiting for the response head from");
        Task? continueTimer = heldBody is null ? null : Task.Delay(_options.ExpectContinueTimeout);
        ResponseHead head = _head;
        while (true)
        {
            head.Reset();
            while (true)
            {
                if (_end > _start)
                {
                    ParseStatus status = ResponseHeadParser.Parse(_buffer.AsMemory(_start, _end - _start), head, _options.HeadLimits, out HttpError error);
                    if (status == ParseStatus.Complete) break;
                    if (status == ParseStatus.Invalid) throw Malformed(error.Reason, OffendingLine(head.ParseOffset));
                    if (!head.StatusLineParsed && _end - _start > _options.MaxStatusLineLength)
                    {
                        throw Malformed($"status line longer than {_options.MaxStatusLineLength} bytes", OffendingLine(0));
                    }
                }
                int received;
                if (heldBody is not null && continueTimer is not null)
                {
                    Task<int> receive = ReceiveAsync().AsTask();
                    if (await Task.WhenAny(receive, continueTimer).ConfigureAwait(false) != receive)
                    {
                        // No answer to Expect in time: send the body anyway (RFC 9110 §10.1.1).
                        continueTimer = null;
                        await SendBodyAsync(heldBody).ConfigureAwait(false);
                        heldBody = null;
                    }
                    received = await receive.ConfigureAwait(false);
                }
                else
                {
                    received = await ReceiveAsync().ConfigureAwait(false);
                }
                if (received == 0)
                {
                    throw _end > _start
                        ? Malformed("connection closed in the middle of the response head", OffendingLine(head.ParseOffset))
                        : new ParleyHttpException(ParleyErrorKind.ConnectionClosed, $"connection closed by {RemoteText} before any response") { BeforeResponse = !_responseBytesSeen };
                }
                if (!_responseBytesSeen)
                {
                    _responseBytesSeen = true;
                    Raise(new SessionEvent { Kind = SessionEventKind.FirstResponseByte }, _observer);
                }
            }

            if (head.StatusCode >= 200) break;
            // RFC 9110 §7.8: a 101 answers an Upgrade the request offered; it ends the HTTP exchange.
            if (head.StatusCode == 101)
            {
                if (upgradeRequested) break;
                throw Malformed("unexpected 101 Switching Protocols (no upgrade was requested)", OffendingLine(0));
            }
            // RFC 9110 §15.2: a client MUST be able to parse and skip 1xx responses before the final one.
            Raise(new SessionEvent { Kind = SessionEventKind.InterimResponseReceived, StatusCode = head.StatusCode, Bytes = _buffer.AsMemory(_start, head.HeadLength) }, _observer);
            _start += head.HeadLength;
            if (head.StatusCode == 100 && heldBody is not null)
            {
                await SendBodyAsync(heldBody).ConfigureAwait(false);
                heldBody = null;
            }
        }

        // A final status before the held body was sent: the server does not want it. Framing of the
        // request is now unfinished, so this connection cannot carry another request (RFC 9110 §10.1.1).
        if (heldBody is not null) _persistent = false;
        _requestWasHead = requestWasHead;
        return head;
    }

    /// <summary>Receives more bytes after <see cref="_end"/>, making room first. 0 means the server closed.</summary>
    private ValueTask<int> ReceiveAsync()
    {
        if (_readAheadPending)
        {
            // Started by the stale check into the empty buffer (TryStartReadAhead).
            _readAheadPending = false;
            ValueTask<int> readAhead = _readAhead;
            _readAhead = default;
            return Await(this, readAhead);
        }
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            int length = _end - _start;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, length);
            }
            else
            {
                byte[] bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                Buffer.BlockCopy(_buffer, 0, bigger, 0, length);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            _start = 0;
            _end = length;
        }
        // Right after a request (nothing buffered) the epoll transport waits for readiness without a
        // recv(2) that would only say EAGAIN.
        ValueTask<int> receive = _plainEpoll is not null && _end == 0
            ? _plainEpoll.ReceiveWhenReadyAsync(_buffer.AsMemory(_end))
            : _transport.ReceiveAsync(_buffer.AsMemory(_end));
        if (receive.IsCompletedSuccessfully)
        {
            // Result exactly once: the socket may back the ValueTask with a reusable source.
            int count = receive.Result;
            _end += count;
            return new ValueTask<int>(count);
        }
        return Await(this, receive);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        static async ValueTask<int> Await(ClientConnection self, ValueTask<int> pending)
        {
            int count = await pending.ConfigureAwait(false);
            self._end += count;
            return count;
        }
    }

    /// <summary>Closes the socket; the connection never returns to the pool. Idempotent.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try
        {
            _transport.Dispose();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        _pool.Forget(this);
        ReleaseSlot();
        EndConnectionTelemetry();
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        _start = _end = 0;
        // A read-ahead nobody consumed may still be writing into the buffer: leave that one to the GC.
        if (buffer.Length > 0 && !_readAheadPending) ArrayPool<byte>.Shared.Return(buffer);
        _output.Dispose();
    }

    private void ReleaseSlot()
    {
        if (!_holdsSlot) return;
        _holdsSlot = false;
        Owner.Slots.Release();
    }

    /// <summary>The pool's timer: aborts the socket when the deadline of the current wait has passed.</summary>
    public void CheckDeadline(long now)
    {
        long deadline = Volatile.Read(ref _deadline);
        if (deadline != 0 && now >= deadline) Abort(AbortTimeout);
    }

    /// <summary>
    /// The client is being disposed. The portable transport closes at once; on the epoll transport the
    /// socket is shut down, so that a pending operation ends on the loop thread and the exchange closes
    /// the descriptor itself (never under an operation in progress).
    /// </summary>
    public void Shutdown()
    {
        if (_epoll is null)
        {
            // The reason first: the pending operation, failed by the close, then says the client was disposed.
            Interlocked.CompareExchange(ref _abortReason, AbortDisposed, 0);
            Close();
            return;
        }
        Abort(AbortDisposed);
    }

    private void Abort(int reason)
    {
        if (Interlocked.CompareExchange(ref _abortReason, reason, 0) != 0) return;
        try
        {
            // Pending operations end (with an error or end of stream); the descriptor is released by Close.
            // Both transports hold the descriptor while they shut it down, so one closed meanwhile (and its
            // number reused) is never shut down by mistake.
            _transport.Abort();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private void Arm(TimeSpan timeout, string waitingFor)
    {
        long now = Environment.TickCount64;
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : now + (long)timeout.TotalMilliseconds;
        _waitingFor = waitingFor;
        _waitStarted = now;
        if (_requestDeadline < deadline)
        {
            deadline = _requestDeadline;
            _waitingFor = $"(the request timeout) {waitingFor}";
        }
        Volatile.Write(ref _deadline, deadline == long.MaxValue ? 0 : Math.Max(deadline, 1));
    }

    private void Disarm() => Volatile.Write(ref _deadline, 0);

    /// <summary>Turns what a socket operation threw into the exception the caller should see.</summary>
    private Exception Translate(Exception ex, CancellationToken cancellationToken)
    {
        int reason = Volatile.Read(ref _abortReason);
        if (reason == AbortTimeout)
        {
            long waited = Environment.TickCount64 - _waitStarted;
            return new ParleyHttpException(ParleyErrorKind.Timeout, $"timed out after {waited} ms {_waitingFor} {RemoteText}", ex);
        }
        if (reason == AbortCanceled || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return new OperationCanceledException($"the request to {RemoteText} was canceled", ex, cancellationToken);
        }
        if (reason == AbortDisposed)
        {
            return new ParleyHttpException(ParleyErrorKind.ConnectionClosed, $"the client was disposed while {_waitingFor} {RemoteText}", ex);
        }
        if (ex is ParleyHttpException) return ex;
        if (ex is SocketException or IOException or ObjectDisposedException)
        {
            // "waiting for the response head from" -> "while waiting for the response head".
            string phase = _waitingFor[.._waitingFor.LastIndexOf(' ')];
            return new ParleyHttpException(ParleyErrorKind.ConnectionClosed,
                $"connection to {RemoteText} failed while {phase}: {ex.Message}", ex)
            { BeforeResponse = !_responseBytesSeen };
        }
        return ex;
    }

    private ParleyHttpException Malformed(string what, string offending) =>
        new(ParleyErrorKind.MalformedResponse, offending.Length == 0 ? $"{what} from {RemoteText}" : $"{what} from {RemoteText}: '{offending}'");

    /// <summary>The line starting at <paramref name="offset"/> past <see cref="_start"/>, printable and short, for messages.</summary>
    private string OffendingLine(int offset)
    {
        int from = Math.Min(_start + offset, _end);
        ReadOnlySpan<byte> rest = _buffer.AsSpan(from, _end - from);
        int stop = rest.IndexOfAny((byte)'\r', (byte)'\n');
        return Printable(stop < 0 ? rest : rest[..stop]);
    }

    internal static string Printable(ReadOnlySpan<byte> bytes)
    {
        const int Max = 120;
        var text = new StringBuilder(Math.Min(bytes.Length, Max) + 8);
        foreach (byte b in bytes[..Math.Min(bytes.Length, Max)])
        {
            if (b is >= 0x20 and < 0x7F) text.Append((char)b);
            else text.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        if (bytes.Length > Max) text.Append("...");
        return text.ToString();
    }

    private void Raise(in SessionEvent e, ISessionObserver? observer)
    {
        if (observer is null) return;
        observer.OnEvent(e with { Timestamp = Stopwatch.GetTimestamp(), Uri = _uri });
    }

    private static bool Is(string name, string known) => string.Equals(name, known, StringComparison.OrdinalIgnoreCase);

    // RFC 9110 §7.8: an Upgrade field together with the "upgrade" connection option.
    private static bool AsksToUpgrade(ParleyHeaders? headers)
    {
        if (headers is null) return false;
        bool upgrade = false, option = false;
        foreach (KeyValuePair<string, string> field in headers.Lines)
        {
            if (Is(field.Key, "Upgrade")) upgrade = true;
            else if (Is(field.Key, "Connection"))
            {
                foreach (string item in field.Value.Split(',', StringSplitOptions.TrimEntries)) option |= Is(item, "upgrade");
            }
        }
        return upgrade && option;
    }

    // RFC 9110 §7.6.1: Connection lists option names; "close" counts only as a whole one (not inside "x-closed").
    private static bool HasConnectionClose(ParleyHeaders? headers)
    {
        if (headers is null) return false;
        foreach (KeyValuePair<string, string> field in headers.Lines)
        {
            if (!Is(field.Key, "Connection")) continue;
            ReadOnlySpan<char> options = field.Value;
            foreach (Range option in options.Split(','))
            {
                if (options[option].Trim().Equals("close", StringComparison.OrdinalIgnoreCase)) return true;
            }
        }
        return false;
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Microsoft.Win32.SafeHandles;
using static Parley.Server.Transport.LinuxNative;

namespace Parley.Server.Transport;

/// <summary>
/// A connection driven by an <see cref="EpollLoop"/>. Every operation is first tried at once
/// (non-blocking recv/send); only when the kernel says "not now" does it wait, and the loop completes it
/// on readiness, running the awaiting code inline. Readiness is edge-triggered, so the transport counts
/// readiness events and remembers up to which event the socket was last found empty: a wait can then
/// tell, without a system call, whether data may already be there.
/// </summary>
internal sealed unsafe class EpollTransport : ConnectionTransport
{
    private readonly EpollLoop _loop;
    private readonly Operation _receive;
    // Made at the first send that cannot complete at once (and for a client's connect): most connections
    // never have one, and an idle connection is smaller without it.
    private Operation? _send;
    private SockAddr _remoteAddress;
    private IPEndPoint? _remoteEndPoint;
    private IPEndPoint? _localEndPoint;
    private long _readEvents;
    private long _readDrainedAt;
    private long _writeEvents;
    private int _aborted;
    private int _peerHungUp;
    private int _disposed;
    // References on the descriptor: one for the owning connection, one more while another thread (a
    // heartbeat or a stop) shuts it down or sends on it. The last release closes it, so a descriptor
    // number is never used after close(2) may have handed it to a new connection.
    private int _fdReferences = 1;
    private bool _fileLowWaterSet;

    /// <summary>
    /// The most bytes of a file send left queued but not yet transmitted (TCP_NOTSENT_LOWAT, tcp(7)), set on
    /// a connection at its first file send. Bytes queued beyond what the peer's window admits are
    /// transmitted later from the processing of the peer's acknowledgements; on loopback that runs on the
    /// receiving client's CPU, taking time from the reader. With the cap, sendfile(2) stops early and the
    /// loop sends the rest from its own thread when the socket reports room (bench/results/2026-11-25-0104.md has the
    /// A/B figures). Not on the Socket transport: there every early stop costs a thread-pool hop, and the
    /// same A/B run was slower with it.
    /// </summary>
    private const int FileSendLowWater = 64 * 1024;

    /// <summary>
    /// Takes ownership of <paramref name="fd"/>, a socket from accept4 (non-blocking: sendfile(2) must not
    /// block the loop), and registers it with <paramref name="loop"/>; on failure the caller still owns the
    /// descriptor.
    /// </summary>
    public EpollTransport(int fd, ReadOnlySpan<byte> remoteAddress, EpollLoop loop)
    {
        Fd = fd;
        _loop = loop;
        remoteAddress[..Math.Min(remoteAddress.Length, SockAddrSize)].CopyTo(_remoteAddress);
        _receive = new Operation(this, isReceive: true);
        // A new connection counts as drained: if its request is already there, registering reports it
        // (an edge-triggered EPOLL_CTL_ADD signals the readiness present at that moment), so the first wait
        // needs no probe.
        loop.Register(this);
    }

    public int Fd { get; }

    public int Slot { get; set; }

    /// <summary>Tells this connection's events from those of an earlier one that had the same slot.</summary>
    public uint Generation { get; set; }

    /// <summary>The peer's address as accept4 reported it, turned into an object only when asked for.</summary>
    public override IPEndPoint? RemoteEndPoint => _remoteEndPoint ??= ParseAddress(_remoteAddress);

    /// <summary>The local address, asked of the kernel (getsockname(2)) only when wanted.</summary>
    public override IPEndPoint? LocalEndPoint
    {
        get
        {
            if (_localEndPoint is not null || !TryAddReference()) return _localEndPoint;
            try
            {
                SockAddr address = default;
                int length = SockAddrSize;
                if (getsockname(Fd, (byte*)&address, &length) == 0) _localEndPoint = ParseAddress(((ReadOnlySpan<byte>)address)[..Math.Min(length, SockAddrSize)]);
            }
            finally
            {
                ReleaseReference();
            }
            return _localEndPoint;
        }
    }

    /// <summary>
    /// An IPv4 or IPv6 endpoint from a struct sockaddr_in / sockaddr_in6 (ip(7), ipv6(7)): family in host
    /// order, then the port in network order; an IPv6 address keeps its scope id.
    /// </summary>
    internal static IPEndPoint? ParseAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length < 4) return null;
        ushort family = MemoryMarshal.Read<ushort>(address);
        int port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        if (family == AF_INET && address.Length >= 8) return new IPEndPoint(new IPAddress(address.Slice(4, 4)), port);
        if (family == AF_INET6 && address.Length >= 28) return new IPEndPoint(new IPAddress(address.Slice(8, 16), MemoryMarshal.Read<uint>(address[24..])), port);
        return null;
    }

    /// <summary>Answers a connection over the limit with <paramref name="response"/> and closes it.</summary>
    public static void Refuse(int fd, ReadOnlySpan<byte> response)
    {
        fixed (byte* p = response) Send(fd, p, response.Length, MSG_DONTWAIT | MSG_NOSIGNAL, out _);
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }

    /// <summary>Called on the loop thread with the events the kernel reported.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            // Edge-triggered: a hang-up reported with the last data is reported once; remember it.
            if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
            {
                Volatile.Write(ref _peerHungUp, 1);
                if (Volatile.Read(ref _peerWatch) is not null) FirePeerWatch();
            }
            // Bytes without a hang-up end a watch (see WatchPeer).
            else if (Volatile.Read(ref _peerWatch) is not null) Volatile.Write(ref _peerWatch, null);
            // This thread alone writes the count, so no locked increment: the gate the completion enters
            // next is the fence that orders the new count before its read of "pending" (Operation.Start).
            Volatile.Write(ref _readEvents, _readEvents + 1);
            _receive.TryComplete();
        }
        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0)
        {
            Interlocked.Increment(ref _writeEvents);
            // Nearly every report carries EPOLLOUT only because the socket is writable, with no send
            // waiting: then the operation's lock is not taken. A send that becomes pending meanwhile reads
            // the new count once it is pending and completes itself (Operation.Start).
            // A send made its operation before marking it pending; until then there is none to complete.
            if (Volatile.Read(ref _send) is { IsPending: true } send) send.TryComplete();
        }
    }

    // Only the connection's own code starts sends, one at a time, so the operation is made without a race;
    // the loop reads the field (volatile) and finds either none or one fully constructed.
    private Operation SendOperation => _send ?? CreateSendOperation();

    private Operation CreateSendOperation()
    {
        var send = new Operation(this, isReceive: false);
        Volatile.Write(ref _send, send);
        return send;
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        long seen = Volatile.Read(ref _readEvents);
        int result = TryReceive(buffer.Span, seen, out int errno);
        if (result >= 0) return new ValueTask<int>(result);
        if (errno != EAGAIN) return ValueTask.FromException<int>(Failure("recv", errno));
        return _receive.Start(buffer, default, seen, cancellationToken);
    }

    public override int TryReceiveNow(Span<byte> buffer)
    {
        int result = TryReceive(buffer, Volatile.Read(ref _readEvents), out int errno);
        if (result >= 0) return result;
        if (errno == EAGAIN) return NothingArrived;
        throw Failure("recv", errno);
    }

    /// <summary>
    /// Like <see cref="ReceiveAsync"/>, but when nothing was reported since the socket was last found
    /// empty it waits for readiness without trying first (the client, right after sending a request,
    /// saves the recv(2) that would only say EAGAIN).
    /// </summary>
    public ValueTask<int> ReceiveWhenReadyAsync(Memory<byte> buffer)
    {
        long seen = Volatile.Read(ref _readEvents);
        if (seen == Volatile.Read(ref _readDrainedAt) && Volatile.Read(ref _peerHungUp) == 0 && Volatile.Read(ref _aborted) == 0)
        {
            return _receive.Start(buffer, default, seen, default);
        }
        return ReceiveAsync(buffer);
    }

    /// <summary>
    /// True when nothing (no bytes, no end of stream, no error) can be received now: for a pooled client
    /// connection, "not stale". Always a one-byte peek: the loop reports a hang-up only when its thread
    /// gets to run, and on a busy machine a server's close can sit in the kernel unreported while the pool
    /// hands the connection out (a request that is not idempotent is then lost, not retried).
    /// </summary>
    public bool IsQuiet()
    {
        if (Volatile.Read(ref _peerHungUp) != 0 || Volatile.Read(ref _aborted) != 0) return false;
        return IsDrained(Volatile.Read(ref _readEvents));
    }

    /// <summary>
    /// Completes once the socket has been reported writable, in error or hung up since it was registered:
    /// the end of a non-blocking connect(2) (the caller then reads SO_ERROR).
    /// </summary>
    public ValueTask WaitConnectedAsync(CancellationToken cancellationToken)
    {
        // Zero events seen: any write readiness since registration completes the wait.
        Operation send = SendOperation;
        ValueTask<int> pending = send.Start(default, default, 0, cancellationToken);
        return pending.IsCompletedSuccessfully ? default : new ValueTask(send, send.Version);
    }

    public override ValueTask<int> WaitForDataAsync()
    {
        long seen = Volatile.Read(ref _readEvents);
        if (seen != Volatile.Read(ref _readDrainedAt) && !IsDrained(seen)) return default;
        if (Volatile.Read(ref _peerHungUp) != 0) return default; // the end of stream is there: let the receive find it
        return _receive.Start(Memory<byte>.Empty, default, seen, default, waitOnly: true);
    }

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        long seen = Volatile.Read(ref _writeEvents);
        int sent = TrySend(data.Span, out int errno);
        if (sent == data.Length) return default;
        if (sent < 0 && errno != EAGAIN) return ValueTask.FromException<int>(Failure("send", errno));
        return SendOperation.Start(default, data[Math.Max(sent, 0)..], seen, cancellationToken);
    }

    public override ValueTask SendFileAsync(ReadOnlyMemory<byte> prefix, SafeFileHandle file, long offset, int length, CancellationToken cancellationToken)
    {
        if (!_fileLowWaterSet)
        {
            int lowWater = FileSendLowWater;
            setsockopt(Fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowWater, sizeof(int));
            _fileLowWaterSet = true;
        }
        long seen = Volatile.Read(ref _writeEvents);
        var region = new FileRegion(file, offset, length);
        // MSG_MORE (send(2)): the head is held back and the file's first pages join its segment, instead
        // of the head leaving alone; the kernel pushes when sendfile's last page is queued.
        int errno = 0;
        int sent = prefix.IsEmpty ? 0 : TrySend(prefix.Span, out errno, MSG_MORE);
        if (sent == prefix.Length)
        {
            errno = region.TrySend(Fd);
            if (errno == 0) return default;
        }
        if (errno != EAGAIN)
        {
            region.Release();
            return ValueTask.FromException(errno == -1 ? region.EndedEarly() : Failure(sent < 0 ? "send" : "sendfile", errno));
        }
        Operation send = SendOperation;
        ValueTask<int> pending = send.Start(default, prefix[Math.Max(sent, 0)..], seen, cancellationToken, file: region);
        return pending.IsCompletedSuccessfully ? default : new ValueTask(send, send.Version);
    }

    public override void SendBlocking(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = TrySend(data, out int errno);
            if (sent >= 0)
            {
                data = data[sent..];
                continue;
            }
            if (errno != EAGAIN) throw Failure("send", errno);
            var poll = new PollFd { Fd = Fd, Events = POLLOUT };
            LinuxNative.poll(&poll, 1, 1000);
            if (Volatile.Read(ref _aborted) != 0) throw new IOException("connection aborted while sending");
        }
    }

    public override void TrySendNow(ReadOnlySpan<byte> data)
    {
        // Called by the heartbeat, on another thread than the connection's own.
        if (!TryAddReference()) return;
        try
        {
            TrySend(data, out _);
        }
        finally
        {
            ReleaseReference();
        }
    }

    private Action? _peerWatch;

    // The loop reports the peer's hang-up (EPOLLRDHUP) whether or not a receive is pending.
    public override void WatchPeer(Action onClosed)
    {
        Volatile.Write(ref _peerWatch, onClosed);
        if (Volatile.Read(ref _peerHungUp) != 0 || Volatile.Read(ref _aborted) != 0) FirePeerWatch();
    }

    public override void StopPeerWatch() => Volatile.Write(ref _peerWatch, null);

    private void FirePeerWatch()
    {
        if (Interlocked.Exchange(ref _peerWatch, null) is { } onClosed) onClosed();
    }

    public override bool HasUnreadBytes
    {
        get
        {
            if (Volatile.Read(ref _aborted) != 0 || !TryAddReference()) return false;
            try
            {
                byte probe;
                return Receive(Fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT, out _) > 0;
            }
            finally
            {
                ReleaseReference();
            }
        }
    }

    public override void ShutdownSend() => shutdown(Fd, SHUT_WR);

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0 || !TryAddReference()) return;
        // Shutting down (not closing) wakes every pending operation through the loop with an error or
        // end of stream; the descriptor stays valid until the connection's own loop disposes it.
        shutdown(Fd, SHUT_RDWR);
        ReleaseReference();
    }

    /// <summary>
    /// The connection is over: close(2) alone. When the response is complete there is nothing to wake and
    /// nothing to flush; close sends the FIN after the queued bytes, as shutdown would.
    /// </summary>
    public override void Close()
    {
        // A handler may have left a body read behind; shutting down ends it as Abort would.
        if (_receive.IsPending || Volatile.Read(ref _send) is { IsPending: true })
        {
            Abort();
            // The loop may not report the shutdown before Dispose unregisters the connection (its event
            // is then dropped): complete them here, on the shut-down socket (end of stream, or a failed send).
            _receive.TryComplete();
            Volatile.Read(ref _send)?.TryComplete();
        }
        Dispose();
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Volatile.Write(ref _aborted, 1);
        _loop.Unregister(this);
        ReleaseReference();
    }

    private bool TryAddReference()
    {
        int references = Volatile.Read(ref _fdReferences);
        while (references > 0)
        {
            int seen = Interlocked.CompareExchange(ref _fdReferences, references + 1, references);
            if (seen == references) return true;
            references = seen;
        }
        return false;
    }

    private void ReleaseReference()
    {
        if (Interlocked.Decrement(ref _fdReferences) == 0) close(Fd);
    }

    // Readiness arrived since the socket was last found empty, but that may have been the data already
    // read (the event can trail the read). A one-byte peek tells, so that an idle connection does not
    // start a receive, with its buffer, that would only wait.
    private bool IsDrained(long seenEvents)
    {
        byte probe;
        nint n = Receive(Fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT, out int errno);
        if (n >= 0 || errno != EAGAIN) return false;
        Volatile.Write(ref _readDrainedAt, seenEvents);
        return true;
    }

    // >= 0: bytes received (0 = end of stream). -1: errno says why.
    private int TryReceive(Span<byte> buffer, long seenEvents, out int errno)
    {
        errno = 0;
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Receive(Fd, p, buffer.Length, MSG_DONTWAIT, out errno);
            if (n >= 0)
            {
                // A short read emptied the socket as of the events seen so far.
                if (n < buffer.Length) Volatile.Write(ref _readDrainedAt, seenEvents);
                return (int)n;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN) Volatile.Write(ref _readDrainedAt, seenEvents);
            return -1;
        }
    }

    private int TrySend(ReadOnlySpan<byte> data, out int errno, int flags = 0)
    {
        errno = 0;
        int total = 0;
        while (total < data.Length)
        {
            nint n;
            fixed (byte* p = data) n = Send(Fd, p + total, data.Length - total, MSG_DONTWAIT | MSG_NOSIGNAL | flags, out errno);
            if (n > 0)
            {
                total += (int)n;
                continue;
            }
            if (errno == EINTR) continue;
            return total > 0 ? total : -1;
        }
        return total;
    }

    private static IOException Failure(string operation, int errno) =>
        new($"{operation} failed: {new SocketException(errno == 104 ? (int)SocketError.ConnectionReset : errno).Message} (errno {errno})");

    /// <summary>One pending receive or send, completed by the loop (or by the starter when readiness raced it).</summary>
    private sealed class Operation(EpollTransport owner, bool isReceive) : IValueTaskSource<int>, IValueTaskSource
    {
        // Guards the fields below between the starter, the loop and a cancellation; no object of its own.
        private SpinGate _gate;
        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = false };
        private Memory<byte> _receiveBuffer;
        private ReadOnlyMemory<byte> _sendData;
        private FileRegion? _file;
        private bool _pending;
        private bool _waitOnly;
        private CancellationTokenRegistration _cancellation;

        public short Version => _core.Version;

        public bool IsPending => Volatile.Read(ref _pending);

        public ValueTask<int> Start(Memory<byte> receiveBuffer, ReadOnlyMemory<byte> sendData, long seenEvents,
            CancellationToken cancellationToken, bool waitOnly = false, FileRegion? file = null)
        {
            _gate.Enter();
            _core.Reset();
            _receiveBuffer = receiveBuffer;
            _sendData = sendData;
            _file = file;
            _waitOnly = waitOnly;
            _pending = true;
            _gate.Exit();
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Operation)state!).Cancel(token), this);
            }
            // Readiness that arrived between the failed attempt and arming would otherwise be lost
            // (edge-triggered): check the event count and retry if it moved. For a send, the fence orders
            // "pending" before the count read, against the loop's count increment before its pending read.
            if (!isReceive) Interlocked.MemoryBarrier();
            long now = isReceive ? Volatile.Read(ref owner._readEvents) : Volatile.Read(ref owner._writeEvents);
            if (now != seenEvents || Volatile.Read(ref owner._aborted) != 0) TryComplete();
            return new ValueTask<int>(this, _core.Version);
        }

        public void TryComplete()
        {
            int result = 0;
            Exception? error = null;
            _gate.Enter();
            try
            {
                if (!_pending) return;
                if (isReceive)
                {
                    if (!_waitOnly)
                    {
                        long seen = Volatile.Read(ref owner._readEvents);
                        result = owner.TryReceive(_receiveBuffer.Span, seen, out int errno);
                        if (result < 0)
                        {
                            if (errno == EAGAIN) return; // spurious: stay pending
                            error = Failure("recv", errno);
                        }
                    }
                }
                else
                {
                    if (!_sendData.IsEmpty)
                    {
                        // In front of a file region, the bytes wait for its pages (see SendFileAsync).
                        int sent = owner.TrySend(_sendData.Span, out int errno, _file is null ? 0 : MSG_MORE);
                        if (sent > 0) _sendData = _sendData[sent..];
                        if (sent < 0 && errno != EAGAIN) error = Failure("send", errno);
                        else if (!_sendData.IsEmpty) return; // wait for the next EPOLLOUT
                    }
                    if (error is null && _file is { } file)
                    {
                        int errno = file.TrySend(owner.Fd);
                        if (errno == EAGAIN) return; // wait for the next EPOLLOUT
                        if (errno != 0) error = errno == -1 ? file.EndedEarly() : Failure("sendfile", errno);
                    }
                }
                Clear();
            }
            finally
            {
                _gate.Exit();
            }
            Finish(result, error);
        }

        private void Cancel(CancellationToken token)
        {
            _gate.Enter();
            try
            {
                if (!_pending) return;
                Clear();
            }
            finally
            {
                _gate.Exit();
            }
            Finish(0, new OperationCanceledException(token));
        }

        private void Clear()
        {
            _pending = false;
            _receiveBuffer = default;
            _sendData = default;
            _file?.Release();
            _file = null;
        }

        private void Finish(int result, Exception? error)
        {
            _cancellation.Dispose();
            _cancellation = default;
            if (error is null) _core.SetResult(result);
            else _core.SetException(error);
        }

        public int GetResult(short token) => _core.GetResult(token);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>A region of a file being sent with sendfile(2); holds a reference on the handle meanwhile.</summary>
    private sealed class FileRegion
    {
        private readonly SafeFileHandle _file;
        private readonly int _fileFd;
        private long _offset;
        private long _remaining;
        private bool _referenced;

        public FileRegion(SafeFileHandle file, long offset, long length)
        {
            file.DangerousAddRef(ref _referenced);
            _file = file;
            _fileFd = (int)file.DangerousGetHandle();
            _offset = offset;
            _remaining = length;
        }

        /// <summary>0 when the region is sent, EAGAIN to wait for the socket, -1 when the file ended early, else errno.</summary>
        public int TrySend(int socketFd)
        {
            while (_remaining > 0)
            {
                long offset = _offset;
                nint n = sendfile(socketFd, _fileFd, &offset, (nint)Math.Min(_remaining, int.MaxValue));
                if (n > 0)
                {
                    _offset = offset;
                    _remaining -= n;
                    continue;
                }
                if (n == 0) return -1;
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                return errno;
            }
            Release();
            return 0;
        }

        public IOException EndedEarly() => new("the file ended before the region that was announced");

        public void Release()
        {
            if (!_referenced) return;
            _referenced = false;
            _file.DangerousRelease();
        }
    }

    /// <summary>Room for a struct sockaddr_in6, inline in the transport.</summary>
    [InlineArray(SockAddrSize)]
    private struct SockAddr
    {
        private byte _first;
    }
}

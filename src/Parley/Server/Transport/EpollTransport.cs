using System.Net;
using System.Net.Sockets;
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
    private readonly Socket _socket;
    private readonly EpollLoop _loop;
    private readonly Operation _receive;
    private readonly Operation _send;
    private long _readEvents;
    private long _readDrainedAt = -1;
    private long _writeEvents;
    private int _aborted;
    private int _peerHungUp;

    public EpollTransport(Socket socket, EpollLoop loop)
    {
        _socket = socket;
        _loop = loop;
        socket.Blocking = false; // sendfile(2) must not block the loop; recv/send pass MSG_DONTWAIT anyway
        Fd = (int)socket.SafeHandle.DangerousGetHandle();
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint;
        _receive = new Operation(this, isReceive: true);
        _send = new Operation(this, isReceive: false);
        loop.Register(this);
    }

    public int Fd { get; }

    public int Slot { get; set; }

    public override IPEndPoint? RemoteEndPoint { get; }

    public override IPEndPoint? LocalEndPoint { get; }

    /// <summary>Called on the loop thread with the events the kernel reported.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            // Edge-triggered: a hang-up reported with the last data is reported once; remember it.
            if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) Volatile.Write(ref _peerHungUp, 1);
            Interlocked.Increment(ref _readEvents);
            _receive.TryComplete();
        }
        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0)
        {
            Interlocked.Increment(ref _writeEvents);
            _send.TryComplete();
        }
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        long seen = Volatile.Read(ref _readEvents);
        int result = TryReceive(buffer.Span, seen, out int errno);
        if (result >= 0) return new ValueTask<int>(result);
        if (errno != EAGAIN) return ValueTask.FromException<int>(Failure("recv", errno));
        return _receive.Start(buffer, default, seen, cancellationToken);
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
    /// connection, "not stale". Without a system call when no readiness was reported since the socket was
    /// last found empty; a one-byte peek otherwise.
    /// </summary>
    public bool IsQuiet()
    {
        if (Volatile.Read(ref _peerHungUp) != 0 || Volatile.Read(ref _aborted) != 0) return false;
        long seen = Volatile.Read(ref _readEvents);
        return seen == Volatile.Read(ref _readDrainedAt) || IsDrained(seen);
    }

    /// <summary>
    /// Completes once the socket has been reported writable, in error or hung up since it was registered:
    /// the end of a non-blocking connect(2) (the caller then reads SO_ERROR).
    /// </summary>
    public ValueTask WaitConnectedAsync(CancellationToken cancellationToken)
    {
        // Zero events seen: any write readiness since registration completes the wait.
        ValueTask<int> pending = _send.Start(default, default, 0, cancellationToken);
        return pending.IsCompletedSuccessfully ? default : new ValueTask(_send, _send.Version);
    }

    public override ValueTask WaitForDataAsync()
    {
        long seen = Volatile.Read(ref _readEvents);
        if (seen != Volatile.Read(ref _readDrainedAt) && !IsDrained(seen)) return default;
        if (Volatile.Read(ref _peerHungUp) != 0) return default; // the end of stream is there: let the receive find it
        ValueTask<int> wait = _receive.Start(Memory<byte>.Empty, default, seen, default, waitOnly: true);
        return wait.IsCompletedSuccessfully ? default : new ValueTask(_receive, _receive.Version);
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        long seen = Volatile.Read(ref _writeEvents);
        int sent = TrySend(data.Span, out int errno);
        if (sent == data.Length) return default;
        if (sent < 0 && errno != EAGAIN) return ValueTask.FromException(Failure("send", errno));
        ValueTask<int> pending = _send.Start(default, data[Math.Max(sent, 0)..], seen, cancellationToken);
        return pending.IsCompletedSuccessfully ? default : new ValueTask(_send, _send.Version);
    }

    public override ValueTask SendFileAsync(SafeFileHandle file, long offset, int length, CancellationToken cancellationToken)
    {
        long seen = Volatile.Read(ref _writeEvents);
        var region = new FileRegion(file, offset, length);
        int errno = region.TrySend(Fd);
        if (errno == 0) return default;
        if (errno != EAGAIN)
        {
            region.Release();
            return ValueTask.FromException(errno == -1 ? region.EndedEarly() : Failure("sendfile", errno));
        }
        ValueTask<int> pending = _send.Start(default, default, seen, cancellationToken, file: region);
        return pending.IsCompletedSuccessfully ? default : new ValueTask(_send, _send.Version);
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

    public override void TrySendNow(ReadOnlySpan<byte> data) => TrySend(data, out _);

    public override void ShutdownSend() => shutdown(Fd, SHUT_WR);

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;
        // Shutting down (not closing) wakes every pending operation through the loop with an error or
        // end of stream; the descriptor stays valid until the connection's own loop disposes it.
        shutdown(Fd, SHUT_RDWR);
    }

    public override void Dispose()
    {
        _loop.Unregister(this);
        _socket.Dispose();
    }

    // Readiness arrived since the socket was last found empty, but that may have been the data already
    // read (the event can trail the read). A one-byte peek tells, so that an idle connection does not
    // start a receive, with its buffer, that would only wait.
    private bool IsDrained(long seenEvents)
    {
        byte probe;
        nint n = recv(Fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0 || Marshal.GetLastPInvokeError() != EAGAIN) return false;
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
            fixed (byte* p = buffer) n = recv(Fd, p, buffer.Length, MSG_DONTWAIT);
            if (n >= 0)
            {
                // A short read emptied the socket as of the events seen so far.
                if (n < buffer.Length) Volatile.Write(ref _readDrainedAt, seenEvents);
                return (int)n;
            }
            errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (errno == EAGAIN) Volatile.Write(ref _readDrainedAt, seenEvents);
            return -1;
        }
    }

    private int TrySend(ReadOnlySpan<byte> data, out int errno)
    {
        errno = 0;
        int total = 0;
        while (total < data.Length)
        {
            nint n;
            fixed (byte* p = data) n = send(Fd, p + total, data.Length - total, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
            {
                total += (int)n;
                continue;
            }
            errno = Marshal.GetLastPInvokeError();
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
        private readonly object _gate = new();
        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = false };
        private Memory<byte> _receiveBuffer;
        private ReadOnlyMemory<byte> _sendData;
        private FileRegion? _file;
        private bool _pending;
        private bool _waitOnly;
        private CancellationTokenRegistration _cancellation;

        public short Version => _core.Version;

        public ValueTask<int> Start(Memory<byte> receiveBuffer, ReadOnlyMemory<byte> sendData, long seenEvents,
            CancellationToken cancellationToken, bool waitOnly = false, FileRegion? file = null)
        {
            lock (_gate)
            {
                _core.Reset();
                _receiveBuffer = receiveBuffer;
                _sendData = sendData;
                _file = file;
                _waitOnly = waitOnly;
                _pending = true;
            }
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Operation)state!).Cancel(token), this);
            }
            // Readiness that arrived between the failed attempt and arming would otherwise be lost
            // (edge-triggered): check the event count and retry if it moved.
            long now = isReceive ? Volatile.Read(ref owner._readEvents) : Volatile.Read(ref owner._writeEvents);
            if (now != seenEvents || Volatile.Read(ref owner._aborted) != 0) TryComplete();
            return new ValueTask<int>(this, _core.Version);
        }

        public void TryComplete()
        {
            int result = 0;
            Exception? error = null;
            lock (_gate)
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
                else if (_file is { } file)
                {
                    int errno = file.TrySend(owner.Fd);
                    if (errno == EAGAIN) return; // wait for the next EPOLLOUT
                    if (errno != 0) error = errno == -1 ? file.EndedEarly() : Failure("sendfile", errno);
                }
                else
                {
                    int sent = owner.TrySend(_sendData.Span, out int errno);
                    if (sent > 0) _sendData = _sendData[sent..];
                    if (sent < 0 && errno != EAGAIN) error = Failure("send", errno);
                    else if (!_sendData.IsEmpty) return; // wait for the next EPOLLOUT
                }
                Clear();
            }
            Finish(result, error);
        }

        private void Cancel(CancellationToken token)
        {
            lock (_gate)
            {
                if (!_pending) return;
                Clear();
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
}

using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.Win32.SafeHandles;

namespace Parley.Server.Transport;

/// <summary>The portable transport: <see cref="Socket"/>'s own asynchronous operations.</summary>
internal sealed class SocketTransport(Socket socket) : ConnectionTransport, IValueTaskSource<int>
{

    public override IPEndPoint? RemoteEndPoint { get; } = socket.RemoteEndPoint as IPEndPoint;

    public override IPEndPoint? LocalEndPoint { get; } = socket.LocalEndPoint as IPEndPoint;

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override int TryReceiveNow(Span<byte> buffer)
    {
        // Non-blocking for the one call (as in TrySendNow): a blocking Socket's Receive waits for bytes.
        socket.Blocking = false;
        try
        {
            int received = socket.Receive(buffer, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success) return received;
            if (error == SocketError.WouldBlock) return NothingArrived;
            throw new SocketException((int)error);
        }
        finally
        {
            socket.Blocking = true;
        }
    }

    public override bool HasUnreadBytes
    {
        get
        {
            try
            {
                return socket.Available > 0; // ioctl FIONREAD
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    // Socket's ValueTask operations come from a per-socket cached event-args object: passed through as they
    // are, a wait or a send allocates nothing.
    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        socket.SendAsync(data, SocketFlags.None, cancellationToken);

    public override async ValueTask SendFileAsync(ReadOnlyMemory<byte> prefix, SafeFileHandle file, long offset, int length, CancellationToken cancellationToken)
    {
        // Not disposed: disposing would close the caller's handle, which the caller owns.
        var stream = new FileStream(file, FileAccess.Read, bufferSize: 0, isAsync: file.IsAsync);
        using var args = new FileSendArgs();
        var fileElement = new SendPacketsElement(stream, offset, length);
        args.SendPacketsElements = prefix.IsEmpty ? [fileElement] : [new SendPacketsElement(prefix), fileElement];
        // SendPacketsAsync sends the prefix with send(2) and the file with sendfile(2): corked in between,
        // the head waits for the file's bytes instead of leaving as a tiny segment of its own (TCP_CORK,
        // tcp(7); nginx's tcp_nopush). Uncorking at the end pushes out whatever is left.
        bool corked = !prefix.IsEmpty && SetCork(true);
        try
        {
            using (cancellationToken.UnsafeRegister(static state => ((Socket)state!).Dispose(), socket))
            {
                await args.SendAsync(socket).ConfigureAwait(false);
            }
        }
        finally
        {
            if (corked) SetCork(false);
        }
        // SendPacketsAsync (sendfile(2) on Linux) stops early at the end of the file: the file shrank under us.
        if (args.BytesTransferred != prefix.Length + (long)length) throw new IOException("the file ended before the region that was announced");
        GC.KeepAlive(stream);
    }

    // Linux only; elsewhere the head simply goes first.
    private bool SetCork(bool on)
    {
        if (!OperatingSystem.IsLinux()) return false;
        Span<byte> value = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(value, on ? 1 : 0);
        try
        {
            socket.SetRawSocketOption(LinuxNative.IPPROTO_TCP, LinuxNative.TCP_CORK, value);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public override void SendBlocking(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[socket.Send(data, SocketFlags.None)..];
    }

    public override void TrySendNow(ReadOnlySpan<byte> data)
    {
        try
        {
            // A blocking socket's Send waits until the peer has read enough: a peer that reads nothing would
            // hold the caller (the heartbeat, sending a 408 before it closes the connection) for good. Made
            // non-blocking for the one send, it takes what fits in the socket's buffer and drops the rest.
            socket.Blocking = false;
            try
            {
                socket.Send(data, SocketFlags.None, out _);
            }
            finally
            {
                socket.Blocking = true;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private Action? _peerWatch;

    // The watch's zero-byte receive stays pending until the client sends again, which is usually the next
    // request, so it outlives the handler. The connection's wait for that request then joins it instead of
    // starting a second receive: two receives in flight at once would each need their own operation object
    // from Socket, which caches only one, and so allocate on every request that asked for its aborted token.
    private const int NoWatch = 0, Watching = 1, WatchingWithWaiter = 2;
    private int _watchState;
    private ValueTask<int> _watchReceive;
    private Action? _onWatchReceived;
    private ManualResetValueTaskSourceCore<int> _joinedWait;

    // A zero-byte receive completes when bytes or the end of stream arrive; with nothing then available to
    // read, it was the end (or a reset, which fails the receive).
    public override void WatchPeer(Action onClosed)
    {
        Volatile.Write(ref _peerWatch, onClosed);
        if (Interlocked.CompareExchange(ref _watchState, Watching, NoWatch) != NoWatch) return;
        try
        {
            _watchReceive = socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _watchReceive = ValueTask.FromException<int>(ex);
        }
        if (_watchReceive.IsCompleted) OnWatchReceived();
        else _watchReceive.GetAwaiter().UnsafeOnCompleted(_onWatchReceived ??= OnWatchReceived);
    }

    public override void StopPeerWatch() => Volatile.Write(ref _peerWatch, null);

    // The connection's wait for its next request: a watch's receive still pending is joined.
    public override ValueTask<int> WaitForDataAsync()
    {
        while (true)
        {
            int state = Volatile.Read(ref _watchState);
            if (state == NoWatch) return socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
            _joinedWait.Reset();
            if (Interlocked.CompareExchange(ref _watchState, WatchingWithWaiter, Watching) == Watching)
            {
                return new ValueTask<int>(this, _joinedWait.Version);
            }
        }
    }

    private void OnWatchReceived()
    {
        bool closed;
        Exception? error = null;
        try
        {
            _watchReceive.GetAwaiter().GetResult();
            closed = socket.Available == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            closed = true;
            error = ex;
        }
        _watchReceive = default;
        int state = Interlocked.Exchange(ref _watchState, NoWatch);
        if (closed && Interlocked.Exchange(ref _peerWatch, null) is { } onClosed) onClosed();
        if (state != WatchingWithWaiter) return;
        // The joined wait ends as its own zero-byte receive would have.
        if (error is null) _joinedWait.SetResult(0);
        else _joinedWait.SetException(error);
    }

    int IValueTaskSource<int>.GetResult(short token) => _joinedWait.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _joinedWait.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _joinedWait.OnCompleted(continuation, state, token, flags);

    public override void ShutdownSend() => socket.Shutdown(SocketShutdown.Send);

    public override void Abort()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public override void Dispose() => socket.Dispose();

    /// <summary>A SendPacketsAsync operation exposed as a task.</summary>
    private sealed class FileSendArgs : SocketAsyncEventArgs
    {
        private TaskCompletionSource? _completion;

        public Task SendAsync(Socket socket)
        {
            _completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!socket.SendPacketsAsync(this)) Complete();
            return _completion.Task;
        }

        protected override void OnCompleted(SocketAsyncEventArgs e) => Complete();

        private void Complete()
        {
            if (SocketError == SocketError.Success) _completion!.TrySetResult();
            else _completion!.TrySetException(new SocketException((int)SocketError));
        }
    }
}

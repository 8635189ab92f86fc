namespace Parley.Server;

// A flush asked for while the handler is still in its synchronous call waits for the handler to return,
// so that it leaves in the same write as the rest of the response. ASP.NET Core's JSON results serialize,
// flush (which starts a chunked response) and return: sent at once, the flush cost a second send(2) per
// request for the last chunk alone (strace: 2 sends per JSON request against Kestrel's 1, whose flush only
// hands the bytes to its transport's writer). The flush's promise still holds: the bytes leave as soon as
// the handler returns, whether it has finished (with the response, in one write) or goes on asynchronously
// (at once, before the connection waits for it).
internal sealed partial class HttpConnection
{
    private const int NoDeferredFlush = 0, FlushDeferred = 1, DeferredFlushSending = 2, DeferredFlushPending = 3;

    // Written by the handler's synchronous call (FlushDeferred), then claimed by whichever runs first: the
    // connection once the call has returned, or the handler's own next output operation.
    private int _deferredFlush;
    private Task? _deferredSend;
    // The thread inside the handler's synchronous call, 0 outside it.
    private int _handlerCallThread;

    private bool InHandlerCall => _handlerCallThread == Environment.CurrentManagedThreadId;

    private void BeginHandlerCall()
    {
        _deferredFlush = NoDeferredFlush;
        _deferredSend = null;
        _handlerCallThread = Environment.CurrentManagedThreadId;
    }

    /// <summary>
    /// The handler's call has returned. With <paramref name="sendWithResponse"/> a deferred flush gets no send
    /// of its own: the handler finished and it goes out with the rest of the response, or the peer is gone and
    /// nothing more is sent. Otherwise (still running, or failed, its flushed bytes then being owed before the
    /// close) it is sent now; the handler's output operations wait for that send (<see cref="SettleDeferredFlushAsync"/>).
    /// </summary>
    private void EndHandlerCall(bool sendWithResponse)
    {
        _handlerCallThread = 0;
        if (sendWithResponse)
        {
            _deferredFlush = NoDeferredFlush;
            return;
        }
        if (Interlocked.CompareExchange(ref _deferredFlush, DeferredFlushSending, FlushDeferred) != FlushDeferred) return;
        Task? pending = null;
        try
        {
            ValueTask send = FlushOutputAsync(default);
            if (send.IsCompletedSuccessfully) send.GetAwaiter().GetResult();
            else pending = send.AsTask();
        }
        catch (Exception ex)
        {
            pending = Task.FromException(ex);
        }
        if (pending is null)
        {
            Volatile.Write(ref _deferredFlush, NoDeferredFlush);
            return;
        }
        _deferredSend = pending;
        Volatile.Write(ref _deferredFlush, DeferredFlushPending);
    }

    /// <summary>
    /// Before the handler touches the output again outside its synchronous call: a flush still deferred is
    /// sent first; one the connection is sending is waited for, so the output is never written under a send.
    /// </summary>
    private ValueTask SettleDeferredFlushAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _deferredFlush) == NoDeferredFlush || InHandlerCall) return default;
        SpinWait spin = default;
        while (true)
        {
            switch (Volatile.Read(ref _deferredFlush))
            {
                case NoDeferredFlush:
                    return default;
                case FlushDeferred:
                    if (Interlocked.CompareExchange(ref _deferredFlush, NoDeferredFlush, FlushDeferred) == FlushDeferred) return FlushOutputAsync(cancellationToken);
                    break;
                case DeferredFlushSending:
                    spin.SpinOnce(); // the connection is between claiming the flush and publishing its send
                    break;
                default:
                    return AwaitDeferredSendAsync();
            }
        }
    }

    private async ValueTask AwaitDeferredSendAsync()
    {
        try
        {
            await _deferredSend!.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _deferredFlush, NoDeferredFlush, DeferredFlushPending);
        }
    }

    // Best effort, without waiting: the connection closes right after.
    private void SendDeferredFlushBeforeAbort()
    {
        if (Interlocked.CompareExchange(ref _deferredFlush, NoDeferredFlush, FlushDeferred) != FlushDeferred || _output.Length == 0) return;
        _transport.TrySendNow(_output.WrittenSpan);
        OutputSent();
    }

    // For the synchronous writers: a deferred send is waited for on this thread.
    private void SettleDeferredFlush()
    {
        ValueTask settle = SettleDeferredFlushAsync(default);
        if (settle.IsCompletedSuccessfully) settle.GetAwaiter().GetResult();
        else settle.AsTask().GetAwaiter().GetResult();
    }
}

namespace Parley.Server;

// The request's "aborted" signal: a token that fires when the connection ends while a request is being
// answered (the client went away, a timeout or a stop closed it, or the handler aborted it), so that a
// handler waiting on something else can give up.
internal sealed partial class HttpConnection
{
    // Made when a handler first asks for the token, then reused by the connection's later requests as
    // long as it never fired: most handlers never ask, and those that do cost no allocation per request.
    private CancellationTokenSource? _abortedSource;
    private bool _handlerAborted;
    private bool _peerWatched;
    private Action? _onPeerClosed;

    /// <summary>True once the handler asked for the connection to be aborted; nothing more is sent.</summary>
    internal bool HandlerAborted => _handlerAborted;

    internal CancellationToken RequestAborted
    {
        get
        {
            CancellationTokenSource source = _abortedSource ??= new CancellationTokenSource();
            // A connection already closed (before the handler asked) has its token fired at once.
            if (Volatile.Read(ref _phase) == (int)Phase.Closed) CancelQuietly(source);
            else if (_bodyComplete) WatchPeer();
            return source.Token;
        }
    }

    /// <summary>
    /// With the body read, nothing reads from the connection while the handler runs: the transport is asked
    /// to report the client's close, so that a handler waiting on something else (a long poll, an event
    /// stream between events) learns that nobody is listening any more.
    /// </summary>
    internal void WatchPeer()
    {
        // After a 101 the handler's stream reads the connection; it sees the close itself.
        if (_peerWatched || _abortedSource is null || _upgraded is not null) return;
        _peerWatched = true;
        _transport.WatchPeer(_onPeerClosed ??= SignalRequestAborted);
    }

    // Called when the handler is done: from here on the connection reads for itself.
    private void StopPeerWatch()
    {
        if (!_peerWatched) return;
        _peerWatched = false;
        _transport.StopPeerWatch();
    }

    // Called between requests: a token that never fired is reset for the next request.
    private void ResetRequestAborted()
    {
        if (_abortedSource is { } source && !source.TryReset()) _abortedSource = null;
    }

    private void SignalRequestAborted()
    {
        if (Volatile.Read(ref _abortedSource) is { } source) CancelQuietly(source);
    }

    private void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException ex)
        {
            // A handler's callback on the token failed; the connection is ending anyway.
            _options.ErrorLog.Report("a callback on the request's aborted token failed", ex);
        }
    }
}

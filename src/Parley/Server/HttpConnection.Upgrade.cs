using System.Diagnostics;
using Parley.Http1;

namespace Parley.Server;

// Switching protocols (RFC 9110 §7.8): the exchange ends with a 101 and the connection becomes a duplex
// stream the handler owns. From then on the engine reads and writes nothing of its own; it closes the
// connection once the handler has returned and the stream has been disposed (or at a stop).
internal sealed partial class HttpConnection
{
    private UpgradedStream? _upgraded;

    /// <summary>
    /// Sends <c>101 Switching Protocols</c> to <paramref name="protocol"/> (with the responses batched before
    /// it) and hands over the connection. Bytes the client sent after the request head are the stream's first.
    /// </summary>
    internal async ValueTask<Stream> SwitchProtocolsAsync(string protocol, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        if (_upgraded is not null) throw new InvalidOperationException("the connection has already switched protocols");
        if (ResponseHeadWritten) throw new InvalidOperationException("the response head has already been written");
        // RFC 9110 §7.8: a server MUST NOT switch to a protocol the client did not offer, and MUST ignore
        // Upgrade in an HTTP/1.0 request (IsUpgradeRequest is false for one).
        if (!_request.IsUpgradeRequest || !_request.OffersUpgrade(protocol))
        {
            throw new InvalidOperationException($"the request does not offer an upgrade to '{protocol}' (Connection: upgrade and Upgrade: {protocol} in an HTTP/1.1 request, RFC 9110 §7.8)");
        }
        // The new protocol starts right after the request's last byte: a body not yet read would be taken for it.
        if (!_bodyComplete) throw new InvalidOperationException("the request body must be read to its end before switching protocols");
        if (_exchange!.BodyBuffer is { Length: > 0 }) throw new InvalidOperationException("a 101 response has no body, but body bytes were written");

        StopPeerWatch();
        await SettleDeferredFlushAsync(cancellationToken).ConfigureAwait(false);
        _keepAlive = false;
        _response.SetSwitchingProtocols(protocol);
        WriteHead(BodyMode.Upgraded, -1);
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);

        byte[] early = _bodyPos < _end ? _buffer.AsSpan(_bodyPos, _end - _bodyPos).ToArray() : [];
        _start = _bodyPos = _end;
        var stream = new UpgradedStream(this, _transport, early);
        _upgraded = stream;
        // No deadline: the new protocol keeps its own time (a WebSocket's pings); only a stop ends it.
        SetPhase(Phase.Upgraded, long.MaxValue);
        return stream;
    }

    /// <summary>
    /// The WebSocket opening handshake (RFC 6455 §4.2.2) over <see cref="SwitchProtocolsAsync"/>; a request that
    /// is not a valid handshake is answered with 400 or 426 and gets null.
    /// </summary>
    internal async ValueTask<System.Net.WebSockets.WebSocket?> AcceptWebSocketAsync(WebSocketAcceptOptions options, CancellationToken cancellationToken)
    {
        if (ResponseHeadWritten) throw new InvalidOperationException("the response head has already been written");
        if (WebSocketHandshake.Check(_request) is { } refusal)
        {
            _response.StatusCode = refusal.Status;
            if (refusal.Status == 426)
            {
                if (_request.IsUpgradeRequest && _request.OffersUpgrade("websocket")) _response.Headers.Set("Sec-WebSocket-Version", "13");
                else _response.Headers.Set("Upgrade", "websocket");
            }
            _response.WriteText(refusal.Reason + "\n");
            return null;
        }
        string? subProtocol = WebSocketHandshake.ChooseSubProtocol(_request, options.SubProtocols);
        System.Net.WebSockets.WebSocketDeflateOptions? deflate = null;
        if (options.EnableCompression && WebSocketHandshake.TryNegotiateDeflate(_request, out deflate, out string? extension))
        {
            _response.Headers.Set("Sec-WebSocket-Extensions", extension!);
        }
        _response.Headers.Set("Sec-WebSocket-Accept", WebSocketHandshake.AcceptValue(_request.Headers["Sec-WebSocket-Key"]!));
        if (subProtocol is not null) _response.Headers.Set("Sec-WebSocket-Protocol", subProtocol);
        var stream = (UpgradedStream)await SwitchProtocolsAsync("websocket", cancellationToken).ConfigureAwait(false);
        var webSocket = System.Net.WebSockets.WebSocket.CreateFromStream(stream, new System.Net.WebSockets.WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = subProtocol,
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
            DangerousDeflateOptions = deflate,
        });
        return new ServerWebSocket(webSocket, stream, options.MaxMessageSize);
    }

    // The handler has returned after switching protocols: the exchange is logged as a 101, its objects go back
    // (the handler is done with them), and the connection waits for the stream to be disposed.
    private async ValueTask<bool> FinishUpgradedAsync(UpgradedStream stream, long started)
    {
        LogAccess(101, 0, started, rawTarget: false);
        EndTelemetry(101);
        GiveBackBuffer();
        DetachExchange();
        await stream.Disposed.ConfigureAwait(false);
        return false;
    }

    // Called by a stop: the upgraded connection is told (a WebSocket sends its close frame) or, when nothing
    // listens, closed at once.
    private void StopUpgraded()
    {
        UpgradedStream? stream = _upgraded;
        if (stream is null || !stream.NotifyServerStopping()) ForceClose();
    }
}

/// <summary>
/// The connection after a 101: bytes already received after the request head first, then the transport's
/// (decrypted on TLS). A zero-byte read waits for data without consuming any. One read and one write may be
/// in progress at once, as on a socket.
/// </summary>
internal sealed class UpgradedStream(HttpConnection connection, Transport.ConnectionTransport transport, byte[] early)
    : Transport.UpgradedTransportStream(transport, early)
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _onServerStopping;

    /// <summary>Completes when the stream is disposed.</summary>
    public Task Disposed => _disposed.Task;

    /// <summary>The connection this stream is (its id and endpoints stay readable).</summary>
    public HttpConnection Connection => connection;

    /// <summary>Set by the protocol on top (a WebSocket) to end itself cleanly when the server stops.</summary>
    public void OnServerStopping(Action onStopping) => Volatile.Write(ref _onServerStopping, onStopping);

    /// <summary>Runs the protocol's stop action; false when there is none (the caller closes the connection).</summary>
    public bool NotifyServerStopping()
    {
        if (Interlocked.Exchange(ref _onServerStopping, null) is not { } onStopping) return false;
        try
        {
            onStopping();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            return false;
        }
        return true;
    }

    protected override bool IsDisposed => _disposed.Task.IsCompleted;

    protected override void Dispose(bool disposing)
    {
        // Ends both directions at once (a pending read returns), after TLS's close_notify where it can leave
        // at once; the connection's loop releases the descriptor.
        if (_disposed.TrySetResult())
        {
            try
            {
                UnderlyingTransport.ShutdownSend();
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The peer is gone already.
            }
            UnderlyingTransport.Abort();
        }
        base.Dispose(disposing);
    }
}

using System.Net.WebSockets;

namespace Parley.Server;

/// <summary>
/// The WebSocket a handler gets from <see cref="HttpResponse.AcceptWebSocketAsync"/>: the base library's
/// (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>, which does the framing, masking
/// checks, close handshake and keep-alive pings) with what a server adds around it: a bound on the size of a
/// message the peer may send, and a 1001 close when the server stops.
/// </summary>
internal sealed class ServerWebSocket : WebSocket
{
    private readonly WebSocket _inner;
    private readonly UpgradedStream _stream;
    private readonly long _maxMessageSize;
    private long _messageBytes;

    public ServerWebSocket(WebSocket inner, UpgradedStream stream, long maxMessageSize)
    {
        _inner = inner;
        _stream = stream;
        _maxMessageSize = maxMessageSize;
        // RFC 6455 §7.4.1: 1001, "an endpoint is going away, such as a server going down". The peer answers
        // with its close, the handler's receive then ends, and the connection closes as usual.
        stream.OnServerStopping(() => _ = CloseForStopAsync());
    }

    private async Task CloseForStopAsync()
    {
        try
        {
            await _inner.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "server stopping", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Closed meanwhile, or already sending a close: the stop's drain period ends it anyway.
            _stream.Dispose();
        }
    }

    public override WebSocketCloseStatus? CloseStatus => _inner.CloseStatus;
    public override string? CloseStatusDescription => _inner.CloseStatusDescription;
    public override WebSocketState State => _inner.State;
    public override string? SubProtocol => _inner.SubProtocol;

    public override void Abort()
    {
        _inner.Abort();
        _stream.Dispose();
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        _inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        _inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Dispose()
    {
        _inner.Dispose();
        _stream.Dispose();
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        WebSocketReceiveResult result = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        await CountAsync(result.MessageType, result.Count, result.EndOfMessage).ConfigureAwait(false);
        return result;
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ValueWebSocketReceiveResult result = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        await CountAsync(result.MessageType, result.Count, result.EndOfMessage).ConfigureAwait(false);
        return result;
    }

    // The message so far, counted as the handler receives it (the base library reads a frame's payload only
    // as far as the caller's buffer), so an oversized message is refused without ever being held whole.
    private async ValueTask CountAsync(WebSocketMessageType type, int count, bool endOfMessage)
    {
        if (type == WebSocketMessageType.Close) return;
        _messageBytes += count;
        if (_messageBytes > _maxMessageSize)
        {
            string reason = $"message larger than {_maxMessageSize} bytes";
            try
            {
                await _inner.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, reason, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                // RFC 6455 §7.1.1: the server closes the TCP connection; the rest of the message is not read.
                Abort();
            }
            throw new WebSocketException(WebSocketError.Faulted, $"the peer sent a {reason}; closed with 1009 (Message Too Big)");
        }
        if (endOfMessage) _messageBytes = 0;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, messageFlags, cancellationToken);
}

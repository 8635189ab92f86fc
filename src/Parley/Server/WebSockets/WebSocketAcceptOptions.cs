namespace Parley.Server;

/// <summary>How <see cref="HttpResponse.AcceptWebSocketAsync"/> answers a WebSocket opening handshake.</summary>
public sealed class WebSocketAcceptOptions
{
    /// <summary>
    /// The subprotocols this endpoint speaks (RFC 6455 §1.9). The first one the client offers in
    /// <c>Sec-WebSocket-Protocol</c> (in the client's order of preference) is chosen; none when none matches.
    /// </summary>
    public IList<string> SubProtocols { get; } = new List<string>();

    /// <summary>How often the server sends a keep-alive ping (RFC 6455 §5.5.2); <see cref="TimeSpan.Zero"/> sends none. 30 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the server waits for the pong to a keep-alive ping before it aborts the connection (a peer
    /// that vanished without a close); <see cref="Timeout.InfiniteTimeSpan"/> waits forever. 30 seconds.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Accept permessage-deflate (RFC 7692) when the client offers it. On by default.</summary>
    public bool EnableCompression { get; set; } = true;

    /// <summary>
    /// The largest message the peer may send, in bytes (1 MiB; at least 1). A longer one is answered with close code 1009
    /// (Message Too Big, RFC 6455 §7.4.1) and the receive that saw it throws <see cref="System.Net.WebSockets.WebSocketException"/>.
    /// </summary>
    public long MaxMessageSize
    {
        get => _maxMessageSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _maxMessageSize = value;
        }
    }

    private long _maxMessageSize = 1024 * 1024;
}

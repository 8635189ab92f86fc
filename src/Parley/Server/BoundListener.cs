using System.Net;
using System.Net.Sockets;

namespace Parley.Server;

/// <summary>
/// A listening socket with what its connections need to know once, at accept: whether they speak TLS
/// (and with which policy) and which handler answers them.
/// </summary>
internal sealed class BoundListener(ListenerOptions options, Socket socket, TlsListener? tls, RequestHandler handler)
{
    public ListenerOptions Options { get; } = options;

    public Socket Socket { get; } = socket;

    /// <summary>The TLS policy; null for a plain listener.</summary>
    public TlsListener? Tls { get; } = tls;

    /// <summary>The server's handler, or the redirect to HTTPS.</summary>
    public RequestHandler Handler { get; } = handler;

    public IPEndPoint EndPoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

    /// <summary>The attributes of this listener's connection metrics, built once: server.address, server.port, network.type, network.transport.</summary>
    public KeyValuePair<string, object?>[] ConnectionTags => _connectionTags ??=
    [
        new(HttpTelemetry.ServerAddress, EndPoint.Address.IsIPv4MappedToIPv6 ? EndPoint.Address.MapToIPv4().ToString() : EndPoint.Address.ToString()),
        new(HttpTelemetry.ServerPort, EndPoint.Port),
        new(HttpTelemetry.NetworkType, EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4"),
        new(HttpTelemetry.NetworkTransport, "tcp"),
    ];

    private KeyValuePair<string, object?>[]? _connectionTags;
}

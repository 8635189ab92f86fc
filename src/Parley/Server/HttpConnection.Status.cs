using System.Net;
using System.Text.Json;

namespace Parley.Server;

// What the status page shows of one connection. The figures are fields the connection keeps anyway or sets
// at its transitions (a flag around the handler call, the byte counts where receives and sends complete);
// they are read only when the page is asked for, from another thread, and may be a moment old.
internal sealed partial class HttpConnection
{
    // True from the handler's call until it has returned (the phase alone says Busy there).
    private volatile bool _inHandler;
    // True while the connection reads and discards before closing (CloseGracefullyAsync).
    private volatile bool _lingering;

    /// <summary>
    /// The client a trusted proxy's forwarding fields named in the latest request whose fields were read
    /// (the status page has them read for every request when trusted proxies are configured); null for none.
    /// </summary>
    internal volatile IPEndPoint? ForwardedClient;

    /// <summary>What the connection is doing now, in the status page's words.</summary>
    internal string StateName => (Phase)Volatile.Read(ref _phase) switch
    {
        Phase.Idle => RequestCount == 0 ? "awaiting-first-request" : "idle-keepalive",
        Phase.ReadingHead => "reading-head",
        Phase.ReadingBody => _lingering ? "closing" : "reading-body",
        Phase.Writing => "writing",
        Phase.Handshaking => "tls-handshake",
        Phase.ReadingProxyHeader => "reading-proxy-header",
        Phase.Upgraded => "upgraded",
        Phase.Closed => "closing",
        _ => _inHandler ? "in-handler" : "processing",
    };

    /// <summary>Writes this connection as one object of the status page's <c>connections</c> array.</summary>
    internal void WriteStatus(Utf8JsonWriter writer, long nowTicks, string transportName)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", Id);
        WriteEndPoint(writer, "peer", PeerEndPoint);
        // The client a PROXY protocol header named, else the peer.
        WriteEndPoint(writer, "client", _clientEndPoint ?? PeerEndPoint);
        if (ForwardedClient is { } forwarded) WriteEndPoint(writer, "forwardedFor", forwarded);
        WriteEndPoint(writer, "local", LocalEndPoint);
        writer.WriteString("transport", transportName);
        writer.WriteBoolean("tls", _tls is not null);
        if (TlsSession is { } session) writer.WriteString("tlsProtocol", session.ProtocolName);
        writer.WriteString("state", StateName);
        writer.WriteNumber("ageSeconds", Math.Round(Math.Max(0, nowTicks - _acceptedTicks) / 1000.0, 3));
        writer.WriteNumber("requests", RequestCount);
        writer.WriteNumber("bytesReceived", Volatile.Read(ref _transport.BytesReceived));
        writer.WriteNumber("bytesSent", Volatile.Read(ref _transport.BytesSent));
        writer.WriteEndObject();
    }

    private static void WriteEndPoint(Utf8JsonWriter writer, string name, IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            writer.WriteNull(name);
            return;
        }
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        // A forwarded client often comes without its port (X-Forwarded-For names the address alone).
        writer.WriteString(name, endPoint.Port == 0 ? address.ToString() : new IPEndPoint(address, endPoint.Port).ToString());
    }
}

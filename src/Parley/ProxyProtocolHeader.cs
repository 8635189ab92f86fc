using System.Net;

namespace Parley;

/// <summary>What a PROXY protocol header asked for (HAProxy's PROXY protocol, sections 2.1 and 2.2).</summary>
public enum ProxyProtocolCommand : byte
{
    /// <summary>
    /// The proxy opened the connection on its own behalf (a health check, version 2 only): the
    /// connection's own endpoints are the real ones and the header's addresses are ignored.
    /// </summary>
    Local,

    /// <summary>The connection is relayed for a client: <see cref="ProxyProtocolHeader.Source"/> is that client.</summary>
    Proxy,
}

/// <summary>One type-length-value record of a version 2 header (section 2.2.7 onward), kept as received.</summary>
/// <param name="Type">The record type, e.g. 0x01 ALPN, 0x02 AUTHORITY, 0x05 UNIQUE_ID, 0x20 SSL.</param>
/// <param name="Value">The record's value bytes.</param>
public readonly record struct ProxyProtocolTlv(byte Type, ReadOnlyMemory<byte> Value);

/// <summary>
/// The PROXY protocol header a load balancer sent ahead of a connection's bytes, on a listener with
/// <c>ListenerOptions.ProxyProtocol</c> set: who the client really is and, in version 2, what else the
/// balancer knew (TLVs). Read once per connection, before any TLS handshake.
/// </summary>
public sealed class ProxyProtocolHeader
{
    internal ProxyProtocolHeader(int version, ProxyProtocolCommand command, IPEndPoint? source, IPEndPoint? destination, ProxyProtocolTlv[] tlvs)
    {
        Version = version;
        Command = command;
        Source = source;
        Destination = destination;
        Tlvs = tlvs;
    }

    /// <summary>1 (the text header) or 2 (the binary header).</summary>
    public int Version { get; }

    /// <summary>Whether the connection is relayed for a client or is the balancer's own.</summary>
    public ProxyProtocolCommand Command { get; }

    /// <summary>
    /// The client's address and port; null when the header carries none that applies (<c>LOCAL</c>,
    /// version 1 <c>UNKNOWN</c>, a version 2 <c>UNSPEC</c> or <c>UNIX</c> address family). The connection's
    /// own peer is then the client.
    /// </summary>
    public IPEndPoint? Source { get; }

    /// <summary>The address and port the client connected to on the balancer; null as for <see cref="Source"/>.</summary>
    public IPEndPoint? Destination { get; }

    /// <summary>The version 2 TLV records in the order received (empty for version 1).</summary>
    public IReadOnlyList<ProxyProtocolTlv> Tlvs { get; }

    /// <summary>The value of the first TLV of <paramref name="type"/>, or null when there is none.</summary>
    public ReadOnlyMemory<byte>? FindTlv(byte type)
    {
        foreach (ProxyProtocolTlv tlv in Tlvs)
        {
            if (tlv.Type == type) return tlv.Value;
        }
        return null;
    }
}

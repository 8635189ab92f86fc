using System.Net;
using System.Net.Sockets;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>What the epoll transport relies on, checked on this kernel, and its address parsing.</summary>
public class EpollTransportTests
{
    [Fact]
    public async Task Accepted_sockets_inherit_TCP_NODELAY_from_the_listener()
    {
        // The epoll loops set TCP_NODELAY once, on the listener, and never on the connections.
        if (!OperatingSystem.IsLinux()) return;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using Socket accepted = await listener.AcceptAsync();
        Assert.True(accepted.NoDelay);
    }

    [Fact]
    public void Parses_IPv4_and_IPv6_socket_addresses()
    {
        // struct sockaddr_in: family (host order), port (network order), address.
        byte[] v4 = new byte[16];
        BitConverter.TryWriteBytes(v4.AsSpan(0, 2), (ushort)2);
        v4[2] = 0x1f; v4[3] = 0x90; // 8080
        v4[4] = 192; v4[5] = 0; v4[6] = 2; v4[7] = 1;
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8080), EpollTransport.ParseAddress(v4));

        // struct sockaddr_in6: family, port, flow info, address, scope id.
        byte[] v6 = new byte[28];
        BitConverter.TryWriteBytes(v6.AsSpan(0, 2), (ushort)10);
        v6[2] = 0x01; v6[3] = 0xbb; // 443
        IPAddress.Parse("fe80::1").GetAddressBytes().CopyTo(v6, 8);
        BitConverter.TryWriteBytes(v6.AsSpan(24, 4), 3u);
        IPEndPoint parsed = EpollTransport.ParseAddress(v6)!;
        Assert.Equal(443, parsed.Port);
        Assert.Equal(IPAddress.Parse("fe80::1%3"), parsed.Address);
        Assert.Equal(3, parsed.Address.ScopeId);

        // The address's own length is enough; shorter is none.
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8080), EpollTransport.ParseAddress(v4.AsSpan(0, 8)));
        Assert.Null(EpollTransport.ParseAddress(v4.AsSpan(0, 7)));
        Assert.Null(EpollTransport.ParseAddress(v6.AsSpan(0, 27)));

        Assert.Null(EpollTransport.ParseAddress(new byte[2]));
        Assert.Null(EpollTransport.ParseAddress(new byte[16])); // family 0 (AF_UNSPEC)
        Assert.Null(EpollTransport.ParseAddress(new byte[28])); // as long as an IPv6 one, still not an IP address
    }
}

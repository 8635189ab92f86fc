using System.Net;
using System.Net.Sockets;
using Parley.Server.Transport;
using static Parley.Tests.Server.Descriptors;

namespace Parley.Tests.Server;

/// <summary>
/// The listening socket's options and its failures (<see cref="ListenerSocket"/>), and what quiescing
/// answers for a listener that is gone (<see cref="ListenerQuiescing"/>). They run alone: one counts the
/// process's open descriptors, another closes a descriptor number of its choosing.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public class ListenerSocketTests
{
    [Fact]
    public void A_listener_has_SO_REUSEADDR_and_SO_REUSEPORT_only_when_asked()
    {
        using (Socket plain = ListenerSocket.Open(new IPEndPoint(IPAddress.Loopback, 0), reusePort: false))
        {
            Assert.True(ListenerSocket.HasReuseAddress(plain));
            Assert.False(ListenerSocket.HasReusePort(plain));
        }
        using Socket shared = ListenerSocket.Open(new IPEndPoint(IPAddress.Loopback, 0), reusePort: true);
        Assert.True(ListenerSocket.HasReuseAddress(shared));
        Assert.True(ListenerSocket.HasReusePort(shared));
    }

    [Fact]
    public void An_address_that_is_not_on_this_machine_is_named_as_such()
    {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
        IOException error = Assert.Throws<IOException>(() => ListenerSocket.Open(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0), reusePort: false));
        Assert.Equal("cannot listen on 192.0.2.1:0: address not available on this machine", error.Message);
    }

    [Fact]
    public void A_port_that_is_taken_is_refused_and_the_new_socket_closed_at_once()
    {
        using Socket first = ListenerSocket.Open(new IPEndPoint(IPAddress.Loopback, 0), reusePort: false);
        var endPoint = (IPEndPoint)first.LocalEndPoint!;
        int before = Directory.GetFiles("/proc/self/fd").Length;
        for (int i = 0; i < 20; i++)
        {
            IOException error = Assert.Throws<IOException>(() => ListenerSocket.Open(endPoint, reusePort: false));
            Assert.Equal($"cannot listen on 127.0.0.1:{endPoint.Port}: address already in use", error.Message);
        }
        // Not left to the finalizer: twenty refusals leave no descriptor behind (some slack for the runtime's own).
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length - before, int.MinValue, 5);
    }

    [Fact]
    public void A_disposed_listener_has_no_pending_connection()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        listener.Dispose();
        Assert.False(ListenerQuiescing.HasPendingConnection(listener));
    }

    [Fact]
    public void A_listener_whose_descriptor_is_gone_cannot_be_quiesced_and_has_no_pending_connection()
    {
        // A number above every descriptor the test host has open, closed behind the socket's back: every
        // call on it fails (EBADF) as a system call, not as a disposed object.
        int Gone = FreeBlockAboveOpen();
        Assert.Equal(-1, fcntl(Gone, 1 /* F_GETFD */, 0));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        Assert.Equal(Gone, dup2((int)listener.Handle, Gone));
        using var stale = new Socket(new SafeSocketHandle(Gone, ownsHandle: false));
        close(Gone);

        Assert.False(ListenerQuiescing.DropNewHandshakes(stale));
        Assert.False(ListenerQuiescing.HasPendingConnection(stale));
    }
}

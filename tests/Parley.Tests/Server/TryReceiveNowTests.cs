using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// The receive after a wait between requests, on both transports: it takes what has arrived, says when
/// nothing has (rather than wait: see IdleWakeTests for why), and sees the peer's end, all without
/// blocking; the Socket transport's socket blocks again after it, as its blocking sends need.
/// </summary>
public sealed class TryReceiveNowTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private EpollLoop? _loop;

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
        _loop?.Stop();
    }

    // An accepted connection under the named transport, its client, and a socket on the server's side to
    // look at (for epoll a view that does not own the descriptor, which the transport does).
    private async Task<(ConnectionTransport Server, Socket Client, Socket ServerSide)> ConnectAsync(string transport)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _owned.Add(client);
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket accepted = await listener.AcceptAsync();
        if (transport == "socket")
        {
            _owned.Add(accepted);
            return (new SocketTransport(accepted), client, accepted);
        }
        accepted.Blocking = false;
        int fd = (int)accepted.Handle;
        accepted.SafeHandle.SetHandleAsInvalid(); // the transport closes the descriptor
        _loop ??= new EpollLoop(0);
        var server = new EpollTransport(fd, [], _loop);
        _owned.Add(server);
        return (server, client, new Socket(new SafeSocketHandle(fd, ownsHandle: false)));
    }

    // Bytes or the end can be read on the server's side (what a readiness report would say), bounded.
    private static void WaitReadable(Socket serverSide) =>
        Assert.True(serverSide.Poll(ServerTiming.HangBound, SelectMode.SelectRead), "nothing became readable");

    [Theory]
    [InlineData("socket")]
    [InlineData("epoll")]
    public async Task Takes_what_has_arrived_says_when_nothing_has_and_sees_the_end_without_waiting(string transport)
    {
        (ConnectionTransport server, Socket client, Socket serverSide) = await ConnectAsync(transport);
        byte[] buffer = new byte[16];

        Assert.Equal(ConnectionTransport.NothingArrived, server.TryReceiveNow(buffer));

        client.Send("GET /"u8);
        WaitReadable(serverSide);
        Assert.Equal(5, server.TryReceiveNow(buffer));
        Assert.Equal("GET /", Encoding.ASCII.GetString(buffer, 0, 5));
        // All of it was taken: nothing more has arrived.
        Assert.Equal(ConnectionTransport.NothingArrived, server.TryReceiveNow(buffer));

        client.Shutdown(SocketShutdown.Send);
        WaitReadable(serverSide);
        Assert.Equal(0, server.TryReceiveNow(buffer));
        if (transport == "socket") Assert.True(serverSide.Blocking, "the socket was left non-blocking");
    }
}

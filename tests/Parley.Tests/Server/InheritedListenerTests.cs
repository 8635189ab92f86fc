using System.Net;
using System.Net.Sockets;
using Parley.Server;
using static Parley.Tests.Server.Descriptors;

namespace Parley.Tests.Server;

/// <summary>
/// A listener on a socket the server was given (<see cref="ListenerOptions.FromSocket"/>), as systemd socket
/// activation or a supervising process pass one: the server accepts on it, and stopping closes only the
/// server's own descriptor, so connections that arrive meanwhile wait for the next server on that socket.
/// </summary>
public class InheritedListenerTests : TransportTests
{
    [Fact]
    public async Task A_server_serves_a_given_socket_and_a_stop_leaves_it_listening_for_the_next()
    {
        // The socket as its owner holds it; each server gets a descriptor of its own, as a child process would.
        using var owned = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        owned.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        owned.Listen(64);
        var endPoint = (IPEndPoint)owned.LocalEndPoint!;
        // Both descriptors made up front, as two child processes would each have their own: in one process,
        // .NET's socket engine keeps the first descriptor's epoll registration while `owned` holds the socket
        // open, so a second descriptor that got the freed number back failed to register (EEXIST).
        using Socket firstCopy = Copy(owned);
        using Socket secondCopy = Copy(owned);

        await using (TestServer first = await StartOnAsync(firstCopy, "first"))
        {
            Assert.Equal(endPoint.Port, first.Port);
            Assert.Equal("first", await GetBodyAsync(endPoint));
            await first.Server.StopAsync();
        }

        // Nobody accepts now: the connection completes in the socket's queue and its request waits there.
        await using RawConnection waiting = await RawConnection.OpenAsync(endPoint);
        await waiting.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await using TestServer second = await StartOnAsync(secondCopy, "second");
        Assert.Equal("second", (await waiting.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_socket_that_is_not_listening_is_refused()
    {
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(Named("x"), options => options.Listeners.Add(ListenerOptions.FromSocket(bound))));
        Assert.StartsWith("ListenSocket must be a bound, listening TCP socket", error.Message);
    }

    private static Socket Copy(Socket owned) => new(new SafeSocketHandle(dup((int)owned.Handle), ownsHandle: true));

    private Task<TestServer> StartOnAsync(Socket copy, string name) =>
        StartAsync(Named(name), options => options.Listeners.Add(ListenerOptions.FromSocket(copy)));

    private static RequestHandler Named(string name) => (request, response) =>
    {
        response.WriteText(name);
        return ValueTask.CompletedTask;
    };

    private static async Task<string> GetBodyAsync(IPEndPoint endPoint)
    {
        await using RawConnection connection = await RawConnection.OpenAsync(endPoint);
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        return (await connection.ReadResponseAsync()).BodyText;
    }

}

/// <summary>The same on the epoll transport, whose stop must not shut a given socket down.</summary>
public class EpollInheritedListenerTests : InheritedListenerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

using System.Net;
using System.Net.Sockets;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>The portable transport's last words: sent without waiting on a peer that does not read.</summary>
public sealed class SocketTransportTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
    }

    // A connection whose client never reads, with small buffers on both sides so that they fill at once.
    private async Task<(SocketTransport Server, Socket Client)> ConnectAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        _owned.Add(client);
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket accepted = await listener.AcceptAsync();
        _owned.Add(accepted);
        accepted.SendBufferSize = 4096;
        return (new SocketTransport(accepted), client);
    }

    [Fact]
    public async Task Last_words_to_a_peer_that_does_not_read_do_not_wait_for_it()
    {
        (SocketTransport server, Socket client) = await ConnectAsync();
        // As on a served connection: asynchronous sends first.
        await server.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());

        // Far more than the two buffers hold: the send takes what fits and returns (a bound on a hang only).
        await Task.Run(() => server.TrySendNow(new byte[8 * 1024 * 1024])).WaitAsync(ServerTiming.HangBound);

        // What had been sent before is there, first.
        byte[] start = new byte[38];
        for (int read = 0; read < start.Length;) read += await client.ReceiveAsync(start.AsMemory(read), SocketFlags.None);
        Assert.Equal("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), start);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// The transport seen as a stream, as SslStream reads and writes it: the first bytes received kept when asked
/// (the client tells a server that answered a handshake in plain HTTP by them), whether a read completed at
/// once or had to wait, and whatever sizes the reads came in; left alone otherwise.
/// </summary>
public sealed class TransportStreamTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
    }

    private async Task<(SocketTransport Server, Socket Client)> ConnectAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _owned.Add(client);
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket accepted = await listener.AcceptAsync();
        var transport = new SocketTransport(accepted);
        _owned.Add(transport);
        return (transport, client);
    }

    [Fact]
    public async Task The_first_sixteen_bytes_are_kept_across_reads_that_waited_and_reads_that_did_not()
    {
        (SocketTransport transport, Socket client) = await ConnectAsync();
        var stream = new TransportStream(transport, keepFirstBytes: true);
        Assert.False(stream.CanSeek);
        byte[] buffer = new byte[64];

        // Nothing has arrived yet: this read waits for the bytes.
        ValueTask<int> waiting = stream.ReadAsync(buffer.AsMemory(0, 5));
        Assert.False(waiting.IsCompleted, "nothing was sent yet");
        client.Send("HTTP/"u8);
        Assert.Equal(5, await waiting.AsTask().WaitAsync(ServerTiming.HangBound));
        Assert.Equal("HTTP/", Encoding.ASCII.GetString(stream.FirstBytes));

        // On loopback the bytes are in the server's socket when Send returns: this read completes at once,
        // and only the first 16 bytes in all are kept.
        client.Send("1.1 400 Bad Request\r\n"u8);
        int read = 0;
        while (read < 21) read += await stream.ReadAsync(buffer.AsMemory(5 + read, 59 - read)).AsTask().WaitAsync(ServerTiming.HangBound);
        Assert.Equal("HTTP/1.1 400 Bad Request\r\n", Encoding.ASCII.GetString(buffer, 0, 26));
        Assert.Equal("HTTP/1.1 400 Bad", Encoding.ASCII.GetString(stream.FirstBytes));

        // Once 16 are kept, later reads leave them as they are.
        client.Send("Content-Length: 0\r\n\r\n"u8);
        Assert.True(await stream.ReadAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound) > 0);
        Assert.Equal("HTTP/1.1 400 Bad", Encoding.ASCII.GetString(stream.FirstBytes));
    }

    [Fact]
    public async Task The_first_bytes_of_a_read_that_waited_are_kept_when_it_brings_more_than_sixteen()
    {
        (SocketTransport transport, Socket client) = await ConnectAsync();
        var stream = new TransportStream(transport, keepFirstBytes: true);
        byte[] buffer = new byte[64];
        ValueTask<int> waiting = stream.ReadAsync(buffer);
        Assert.False(waiting.IsCompleted, "nothing was sent yet");
        client.Send("HTTP/1.1 400 Bad Request\r\n"u8);
        int read = await waiting.AsTask().WaitAsync(ServerTiming.HangBound);
        Assert.Equal("HTTP/1.1 400 Bad Request\r\n"[..read], Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal("HTTP/1.1 400 Bad Request\r\n"[..Math.Min(read, 16)], Encoding.ASCII.GetString(stream.FirstBytes));
    }

    [Fact]
    public async Task Without_being_asked_the_stream_keeps_no_bytes()
    {
        (SocketTransport transport, Socket client) = await ConnectAsync();
        var stream = new TransportStream(transport);
        client.Send("HTTP/1.1 400 Bad Request\r\n"u8);
        byte[] buffer = new byte[64];
        Assert.True(await stream.ReadAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound) > 0);
        Assert.Equal(0, stream.FirstBytes.Length);
    }
}

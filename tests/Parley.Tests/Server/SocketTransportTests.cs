using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// The portable transport below the connection: last words sent without waiting on a peer that does not
/// read (and the socket blocking again after them); a file region sent behind its prefix (a response head)
/// with sendfile(2), the head held back by TCP_CORK until file bytes join it and the socket uncorked after,
/// a file shorter than its region and a peer that resets failing the send instead of hanging it.
/// </summary>
public sealed class SocketTransportTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"parley-socket-transport-{Guid.NewGuid():N}.bin");

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
        File.Delete(_path);
    }

    // A file of random bytes, opened for asynchronous reads (as the static file handler opens its files).
    private (byte[] Content, SafeFileHandle Handle) MakeFile(int size)
    {
        byte[] content = RandomNumberGenerator.GetBytes(size);
        File.WriteAllBytes(_path, content);
        SafeFileHandle handle = File.OpenHandle(_path, options: FileOptions.Asynchronous);
        _owned.Add(handle);
        return (content, handle);
    }

    // TCP_CORK as the kernel has it for the socket: 1 while segments are held back until full.
    private static int CorkOf(Socket socket)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(LinuxNative.IPPROTO_TCP, LinuxNative.TCP_CORK, value);
        return BitConverter.ToInt32(value);
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket client, int count)
    {
        byte[] received = new byte[count];
        int read = 0;
        using var timeout = new CancellationTokenSource(ServerTiming.HangBound);
        while (read < count)
        {
            int n = await client.ReceiveAsync(received.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0) throw new IOException($"the connection ended after {read} of {count} bytes");
            read += n;
        }
        return received;
    }

    // A connection whose client never reads, with small buffers on both sides so that they fill at once.
    private async Task<(SocketTransport Server, Socket Client)> ConnectAsync()
    {
        (SocketTransport server, Socket client, _) = await ConnectWithSocketAsync();
        return (server, client);
    }

    // The same, with the server's socket, whose options the test reads.
    private async Task<(SocketTransport Server, Socket Client, Socket Accepted)> ConnectWithSocketAsync()
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
        return (new SocketTransport(accepted), client, accepted);
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

    [Fact]
    public async Task After_last_words_the_socket_blocks_again_so_a_blocking_send_still_waits_for_the_peer()
    {
        (SocketTransport server, Socket client) = await ConnectAsync();
        server.TrySendNow("last"u8);
        // Far more than the buffers hold: a socket left non-blocking would fail this send with WouldBlock.
        byte[] large = RandomNumberGenerator.GetBytes(1024 * 1024);
        Task send = Task.Run(() => server.SendBlocking(large));
        byte[] received = await ReadExactlyAsync(client, 4 + large.Length);
        await send.WaitAsync(ServerTiming.HangBound);
        Assert.Equal("last"u8.ToArray(), received[..4]);
        Assert.Equal(large, received[4..]);
    }

    [Theory]
    [InlineData(38, 0, 200_000)] // a head, then the whole file
    [InlineData(38, 12_345, 100_000)] // a head, then a region inside the file
    [InlineData(0, 7, 150_000)] // no head: a later slice of a large file
    public async Task A_file_region_goes_out_after_its_prefix_intact_and_leaves_the_socket_uncorked(int prefixLength, int offset, int length)
    {
        (SocketTransport server, Socket client, Socket accepted) = await ConnectWithSocketAsync();
        (byte[] content, SafeFileHandle file) = MakeFile(offset + length + 1000);
        byte[] prefix = RandomNumberGenerator.GetBytes(prefixLength);

        Task send = server.SendFileAsync(prefix, file, offset, length, CancellationToken.None).AsTask();
        byte[] received = await ReadExactlyAsync(client, prefixLength + length);
        await send.WaitAsync(ServerTiming.HangBound);

        Assert.Equal(prefix, received[..prefixLength]);
        Assert.Equal(content.AsSpan(offset, length).ToArray(), received[prefixLength..]);
        // Left corked, the region's last partial segment (and every later response) would wait for the
        // kernel's 200 ms cork timer.
        Assert.Equal(0, CorkOf(accepted));
        // Nothing stray after the region: the next send is the next thing the client reads.
        await server.SendAsync("next"u8.ToArray());
        Assert.Equal("next"u8.ToArray(), await ReadExactlyAsync(client, 4));
    }

    [Theory]
    [InlineData(38, 1)]
    [InlineData(0, 0)]
    public async Task A_head_in_front_of_a_file_is_held_back_corked_while_the_file_goes_out(int prefixLength, int corkedWhileSending)
    {
        (SocketTransport server, Socket client, Socket accepted) = await ConnectWithSocketAsync();
        const int length = 8 * 1024 * 1024; // far more than the buffers hold: the send waits for the client
        (byte[] content, SafeFileHandle file) = MakeFile(length);
        byte[] prefix = RandomNumberGenerator.GetBytes(prefixLength);

        Task send = server.SendFileAsync(prefix, file, 0, length, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        // With a head, the socket is corked from before the first byte goes until the last has gone; a later
        // slice of a file (no head) needs no cork.
        Assert.Equal(corkedWhileSending, CorkOf(accepted));

        byte[] received = await ReadExactlyAsync(client, prefixLength + length);
        await send.WaitAsync(ServerTiming.HangBound);
        Assert.Equal(0, CorkOf(accepted));
        Assert.Equal(prefix, received[..prefixLength]);
        Assert.True(content.AsSpan().SequenceEqual(received.AsSpan(prefixLength)), "the file's bytes differ");
    }

    [Fact]
    public async Task A_file_that_shrinks_under_the_send_fails_it_rather_than_end_it_short_as_if_complete()
    {
        (SocketTransport server, Socket client, Socket accepted) = await ConnectWithSocketAsync();
        const int length = 8 * 1024 * 1024;
        (_, SafeFileHandle file) = MakeFile(length);
        Task send = server.SendFileAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), file, 0, length, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        // The file is cut short while its pages go out (a file replaced in place under a static file server).
        using (var writer = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) writer.SetLength(1024 * 1024);

        // The client reads what comes, so that only the file's end can stop the send.
        Task reading = Task.Run(async () =>
        {
            byte[] buffer = new byte[65536];
            try
            {
                while (await client.ReceiveAsync(buffer, SocketFlags.None) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        });
        IOException failure = await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(ServerTiming.HangBound));
        Assert.Equal("the file ended before the region that was announced", failure.Message);
        Assert.Equal(0, CorkOf(accepted));
        client.Dispose();
        await reading.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task A_file_send_to_a_peer_that_resets_fails_instead_of_waiting_for_good()
    {
        (SocketTransport server, Socket client) = await ConnectAsync();
        (_, SafeFileHandle file) = MakeFile(8 * 1024 * 1024);
        Task send = server.SendFileAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), file, 0, 8 * 1024 * 1024, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        // An abortive close: the client's kernel answers the server's next segment with a reset.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        Exception failure = await Assert.ThrowsAnyAsync<Exception>(() => send.WaitAsync(ServerTiming.HangBound));
        Assert.True(failure is SocketException or IOException, $"failed with {failure}");
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// The epoll transport below the connection, driven directly: a file region sent behind its head with
/// sendfile(2) (at once, or resumed on EPOLLOUT for a slow reader), with TCP_NOTSENT_LOWAT set; a file shorter
/// than its region, a peer that resets and a cancelled send failing the send; the file handle's reference
/// held only while the region goes out; the peer's hang-up reported to a watch; a pending receive ended by Close.
/// </summary>
public sealed class EpollTransportSendFileTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"parley-epoll-transport-{Guid.NewGuid():N}.bin");
    private EpollLoop? _loop;

    public void Dispose()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
        _loop?.Stop();
        File.Delete(_path);
    }

    private (byte[] Content, SafeFileHandle Handle) MakeFile(int size)
    {
        byte[] content = RandomNumberGenerator.GetBytes(size);
        File.WriteAllBytes(_path, content);
        SafeFileHandle handle = File.OpenHandle(_path, options: FileOptions.Asynchronous);
        _owned.Add(handle);
        return (content, handle);
    }

    // True while some descriptor of this process still refers to the test's file.
    private bool FileStillOpen(int fd) =>
        new FileInfo($"/proc/self/fd/{fd}") is { Exists: true } link && link.LinkTarget == _path;

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

    // An accepted connection handed to an epoll transport (which owns its descriptor), with small buffers
    // so that a large send has to wait for the client. Optionally, the client writes before the transport
    // is made.
    private (EpollTransport Server, Socket Client, Socket View) Connect(Action<Socket>? beforeRegistering = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        _owned.Add(client);
        client.Connect(listener.LocalEndPoint!);
        Socket accepted = listener.Accept();
        accepted.Blocking = false;
        accepted.SendBufferSize = 4096;
        int fd = (int)accepted.Handle;
        accepted.SafeHandle.SetHandleAsInvalid(); // the transport closes the descriptor
        beforeRegistering?.Invoke(client);
        _loop ??= new EpollLoop(0);
        var server = new EpollTransport(fd, [], _loop);
        _owned.Add(server);
        // A view on the same socket to read its options; it does not own the descriptor.
        var view = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        return (server, client, view);
    }

    private static int OptionOf(Socket socket, int level, int name)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(level, name, value);
        return BitConverter.ToInt32(value);
    }

    [Theory]
    [InlineData(38, 0, 200_000)] // a head, then the whole file
    [InlineData(38, 12_345, 100_000)] // a head, then a region inside the file
    [InlineData(0, 7, 150_000)] // no head: a later slice of a file
    [InlineData(38, 0, 1000)] // small enough to go out at once
    public async Task A_file_region_goes_out_after_its_prefix_intact_and_the_file_is_released(int prefixLength, int offset, int length)
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, Socket view) = Connect();
        (byte[] content, SafeFileHandle file) = MakeFile(offset + length + 1000);
        int fileFd = (int)file.DangerousGetHandle();
        byte[] prefix = RandomNumberGenerator.GetBytes(prefixLength);

        Task send = server.SendFileAsync(prefix, file, offset, length, CancellationToken.None).AsTask();
        byte[] received = await ReadExactlyAsync(client, prefixLength + length);
        await send.WaitAsync(ServerTiming.HangBound);

        Assert.Equal(prefix, received[..prefixLength]);
        Assert.True(content.AsSpan(offset, length).SequenceEqual(received.AsSpan(prefixLength)), "the file's bytes differ");
        // The cap on bytes queued but not sent, set at the connection's first file send.
        Assert.Equal(64 * 1024, OptionOf(view, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_NOTSENT_LOWAT));
        // Nothing stray after the region: the next send is the next thing the client reads.
        await server.SendAsync("next"u8.ToArray());
        Assert.Equal("next"u8.ToArray(), await ReadExactlyAsync(client, 4));

        // The transport gave back its reference on the handle, exactly once: the handle still works, and
        // disposing it closes the file.
        Assert.Equal(1, RandomAccess.Read(file, new byte[1], 0));
        file.Dispose();
        Assert.False(FileStillOpen(fileFd), "the file stayed open after its handle was disposed");
    }

    [Fact]
    public async Task A_second_file_send_on_the_connection_goes_out_too()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, Socket view) = Connect();
        (byte[] content, SafeFileHandle file) = MakeFile(300_000);
        for (int i = 0; i < 2; i++)
        {
            Task send = server.SendFileAsync("head"u8.ToArray(), file, 0, content.Length, CancellationToken.None).AsTask();
            byte[] received = await ReadExactlyAsync(client, 4 + content.Length);
            await send.WaitAsync(ServerTiming.HangBound);
            Assert.True(content.AsSpan().SequenceEqual(received.AsSpan(4)), "the file's bytes differ");
        }
        Assert.Equal(64 * 1024, OptionOf(view, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_NOTSENT_LOWAT));
    }

    [Theory]
    [InlineData(38)]
    [InlineData(0)]
    public async Task A_file_shorter_than_its_region_fails_the_send_at_once(int prefixLength)
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        (byte[] content, SafeFileHandle file) = MakeFile(1000);
        int fileFd = (int)file.DangerousGetHandle();
        Task send = server.SendFileAsync(new byte[prefixLength], file, 0, 5000, CancellationToken.None).AsTask();
        IOException failure = await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(ServerTiming.HangBound));
        Assert.Equal("the file ended before the region that was announced", failure.Message);
        // What the file had went out behind the head.
        byte[] received = await ReadExactlyAsync(client, prefixLength + content.Length);
        Assert.Equal(content, received[prefixLength..]);
        file.Dispose();
        Assert.False(FileStillOpen(fileFd), "the file stayed open after its handle was disposed");
    }

    [Fact]
    public async Task A_file_that_shrinks_under_a_waiting_send_fails_it_rather_than_end_it_short()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        const int length = 8 * 1024 * 1024;
        (_, SafeFileHandle file) = MakeFile(length);
        Task send = server.SendFileAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), file, 0, length, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        using (var writer = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) writer.SetLength(1024 * 1024);

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
        client.Dispose();
        await reading.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task A_waiting_file_send_to_a_peer_that_resets_fails_as_a_sendfile_failure()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        (_, SafeFileHandle file) = MakeFile(8 * 1024 * 1024);
        int fileFd = (int)file.DangerousGetHandle();
        Task send = server.SendFileAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), file, 0, 8 * 1024 * 1024, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        IOException failure = await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(ServerTiming.HangBound));
        Assert.StartsWith("sendfile failed", failure.Message);
        file.Dispose();
        Assert.False(FileStillOpen(fileFd), "the file stayed open after its handle was disposed");
    }

    [Theory]
    [InlineData(38, "send failed")]
    [InlineData(0, "sendfile failed")]
    public async Task A_file_send_after_the_peer_reset_fails_at_once_naming_the_call(int prefixLength, string expected)
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        (_, SafeFileHandle file) = MakeFile(1000);
        var hungUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.WatchPeer(() => hungUp.TrySetResult());
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        await hungUp.Task.WaitAsync(ServerTiming.HangBound); // the reset has arrived
        Task send = server.SendFileAsync(new byte[prefixLength], file, 0, 1000, CancellationToken.None).AsTask();
        IOException failure = await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(ServerTiming.HangBound));
        Assert.StartsWith(expected, failure.Message);
    }

    [Fact]
    public async Task A_file_handle_disposed_while_its_region_goes_out_stays_open_until_the_region_is_sent()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        const int length = 4 * 1024 * 1024;
        (byte[] content, SafeFileHandle file) = MakeFile(length);
        int fileFd = (int)file.DangerousGetHandle();
        Task send = server.SendFileAsync("head"u8.ToArray(), file, 0, length, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        file.Dispose(); // the transport's reference keeps the descriptor
        Assert.True(FileStillOpen(fileFd), "the file was closed under a send");
        byte[] received = await ReadExactlyAsync(client, 4 + length);
        await send.WaitAsync(ServerTiming.HangBound);
        Assert.True(content.AsSpan().SequenceEqual(received.AsSpan(4)), "the file's bytes differ");
        Assert.False(FileStillOpen(fileFd), "the file stayed open after its region was sent");
    }

    [Fact]
    public async Task A_waiting_file_send_is_cancelled_by_its_token_and_releases_the_file()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, _, _) = Connect();
        (_, SafeFileHandle file) = MakeFile(8 * 1024 * 1024);
        int fileFd = (int)file.DangerousGetHandle();
        using var cancel = new CancellationTokenSource();
        Task send = server.SendFileAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), file, 0, 8 * 1024 * 1024, cancel.Token).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(ServerTiming.HangBound));
        file.Dispose();
        Assert.False(FileStillOpen(fileFd), "the file stayed open after its handle was disposed");
    }

    [Fact]
    public async Task A_watch_set_before_the_peer_hangs_up_is_told_of_it()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        Assert.True(server.IsQuiet());
        var hungUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.WatchPeer(() => hungUp.TrySetResult());
        client.Shutdown(SocketShutdown.Send);
        await hungUp.Task.WaitAsync(ServerTiming.HangBound);
        Assert.False(server.IsQuiet());

        // A watch set once the hang-up is known is told at once.
        var late = new TaskCompletionSource();
        server.WatchPeer(() => late.TrySetResult());
        Assert.True(late.Task.IsCompleted);
    }

    [Fact]
    public async Task Bytes_from_the_peer_end_a_watch_so_its_later_hang_up_is_not_reported_to_it()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        bool told = false;
        server.WatchPeer(() => told = true);
        client.Send("abc"u8);
        // Completes once the loop has reported the bytes (and so ended the watch).
        await server.WaitForDataAsync().AsTask().WaitAsync(ServerTiming.HangBound);
        byte[] buffer = new byte[100];
        Assert.Equal(3, await server.ReceiveAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound));
        Task<int> end = server.ReceiveAsync(buffer).AsTask();
        client.Shutdown(SocketShutdown.Send);
        // The loop tells a watch of a hang-up before it completes the receive.
        Assert.Equal(0, await end.WaitAsync(ServerTiming.HangBound));
        Assert.False(told, "a watch ended by the peer's bytes was told of its hang-up");
    }

    [Fact]
    public async Task Data_already_reported_is_received_by_a_receive_when_ready()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, Socket client, _) = Connect();
        Assert.True(server.IsQuiet());
        client.Send("abc"u8);
        // Wait until the loop has reported the bytes, without reading them.
        await server.WaitForDataAsync().AsTask().WaitAsync(ServerTiming.HangBound);
        Assert.False(server.IsQuiet());
        byte[] buffer = new byte[100];
        int n = await server.ReceiveWhenReadyAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound);
        Assert.Equal("abc"u8.ToArray(), buffer[..n]);
    }

    [Fact]
    public async Task The_end_of_stream_after_data_read_is_received_by_a_receive_when_ready()
    {
        if (!EpollLoop.IsSupported) return;
        // Bytes and the end of stream both there before registration: one report carries both.
        (EpollTransport server, _, _) = Connect(client =>
        {
            client.Send("abc"u8);
            client.Shutdown(SocketShutdown.Send);
        });
        var hungUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.WatchPeer(() => hungUp.TrySetResult());
        await hungUp.Task.WaitAsync(ServerTiming.HangBound);
        byte[] buffer = new byte[100];
        Assert.Equal(3, await server.ReceiveAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound));
        Assert.Equal(0, await server.ReceiveWhenReadyAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound));
    }

    [Fact]
    public async Task Close_ends_a_pending_receive()
    {
        if (!EpollLoop.IsSupported) return;
        (EpollTransport server, _, _) = Connect();
        Task<int> receive = server.ReceiveAsync(new byte[100]).AsTask();
        Assert.False(receive.IsCompleted, "the client has sent nothing");
        server.Close();
        Assert.False(server.HasUnreadBytes); // a closed connection has nothing to read
        try
        {
            await receive.WaitAsync(ServerTiming.HangBound);
        }
        catch (IOException)
        {
        }
    }
}

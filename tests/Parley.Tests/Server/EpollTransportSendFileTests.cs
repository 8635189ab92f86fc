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
/// held only while the region goes out; the peer's hang-up reported to a watch; a pending receive or file send
/// ended by Close; a report of bytes already read that leaves a receive waiting; a second Dispose, a cancelled
/// send and a late send after dispose that leave the loop and other connections alone; a client connect that
/// waits for the listener; failures that name their call and error; the descriptor held through the calls
/// that borrow it and closed at Dispose (and at a refusal); write readiness kept apart from reads and watches.
/// </summary>
// Some tests place a socket with dup2(2) at a descriptor number above the open ones: they run alone, as the
// other tests that do so (SocketActivationTests), so that no two pick the same number at once.
[Collection(ProcessStateCollection.Name)]
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
    // With placeAt, the transport gets the socket under that descriptor number (from a free block).
    private (EpollTransport Server, Socket Client, Socket View) Connect(Action<Socket>? beforeRegistering = null, int placeAt = -1)
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
        if (placeAt >= 0)
        {
            Assert.Equal(placeAt, Descriptors.dup2(fd, placeAt));
            Descriptors.close(fd);
            fd = placeAt;
        }
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

    [Fact]
    public async Task Close_ends_a_pending_file_send_and_releases_the_file()
    {
        (EpollTransport server, _, _) = Connect();
        (_, SafeFileHandle file) = MakeFile(8 * 1024 * 1024);
        int fileFd = (int)file.DangerousGetHandle();
        Task send = server.SendFileAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), file, 0, 8 * 1024 * 1024, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        server.Close();
        await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(ServerTiming.HangBound));
        file.Dispose();
        Assert.False(FileStillOpen(fileFd), "the file stayed open after its handle was disposed");
    }

    [Fact]
    public async Task A_connection_disposed_again_after_Close_leaves_its_loop_place_to_one_later_connection()
    {
        (EpollTransport gone, _, _) = Connect();
        gone.Close();
        gone.Dispose(); // an owner may dispose what it closed
        // The two next connections each get their own place: both are told of their bytes.
        (EpollTransport first, Socket firstClient, _) = Connect();
        (EpollTransport second, Socket secondClient, _) = Connect();
        Task<int> firstReceive = first.ReceiveAsync(new byte[10]).AsTask();
        Task<int> secondReceive = second.ReceiveAsync(new byte[10]).AsTask();
        Assert.False(firstReceive.IsCompleted || secondReceive.IsCompleted, "the clients have sent nothing");
        firstClient.Send("a"u8);
        secondClient.Send("b"u8);
        Assert.Equal(1, await firstReceive.WaitAsync(ServerTiming.HangBound));
        Assert.Equal(1, await secondReceive.WaitAsync(ServerTiming.HangBound));
    }

    [Fact]
    public async Task A_send_now_after_dispose_does_not_reach_the_socket_that_got_the_descriptor_number()
    {
        int number = Descriptors.FreeBlockAboveOpen();
        (EpollTransport gone, _, _) = Connect(placeAt: number);
        gone.Dispose(); // closes the descriptor
        // Another connection's socket under the same number, as a later accept could have it.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using (Socket accepted = listener.Accept()) Assert.Equal(number, Descriptors.dup2((int)accepted.Handle, number));
        using var other = new Socket(new SafeSocketHandle(number, ownsHandle: true));

        gone.TrySendNow("stray"u8); // a heartbeat's late send
        other.Send("mine"u8);
        // The other connection's own bytes are the first its client reads.
        Assert.Equal("mine"u8.ToArray(), await ReadExactlyAsync(client, 4));
    }

    [Fact]
    public async Task A_receive_woken_by_a_report_of_bytes_already_read_keeps_waiting()
    {
        (EpollTransport holder, Socket holderClient, _) = Connect();
        (EpollTransport first, Socket firstClient, Socket firstView) = Connect();
        (EpollTransport second, Socket secondClient, Socket secondView) = Connect();
        (EpollTransport third, Socket thirdClient, Socket thirdView) = Connect();
        // Peer watches run on the loop's thread: the first two hold it until released.
        using var release = new ManualResetEventSlim();
        using var releaseAgain = new ManualResetEventSlim();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heldAgain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thirdTold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        holder.WatchPeer(() =>
        {
            held.TrySetResult();
            release.Wait(ServerTiming.HangBound);
        });
        first.WatchPeer(() =>
        {
            heldAgain.TrySetResult();
            releaseAgain.Wait(ServerTiming.HangBound);
        });
        third.WatchPeer(() => thirdTold.TrySetResult());
        try
        {
            holderClient.Shutdown(SocketShutdown.Send);
            await held.Task.WaitAsync(ServerTiming.HangBound);
            // While the loop is held, three reports become ready, in this order: the first's hang-up, the
            // second's bytes, the third's hang-up. The loop fetches them together once released.
            firstClient.Shutdown(SocketShutdown.Send);
            Assert.True(SpinWait.SpinUntil(() => firstView.Poll(0, SelectMode.SelectRead), ServerTiming.HangBound));
            secondClient.Send("abc"u8);
            Assert.True(SpinWait.SpinUntil(() => secondView.Poll(0, SelectMode.SelectRead), ServerTiming.HangBound));
            thirdClient.Shutdown(SocketShutdown.Send);
            Assert.True(SpinWait.SpinUntil(() => thirdView.Poll(0, SelectMode.SelectRead), ServerTiming.HangBound));
            release.Set();
            await heldAgain.Task.WaitAsync(ServerTiming.HangBound);

            // The loop is held at the first's report; the second's is fetched but not yet handled. Its
            // bytes are read now, and a receive waits for more.
            byte[] buffer = new byte[100];
            Assert.Equal(3, await second.ReceiveAsync(buffer).AsTask().WaitAsync(ServerTiming.HangBound));
            Task<int> next = second.ReceiveAsync(buffer).AsTask();
            Assert.False(next.IsCompleted, "the client has sent nothing more");
            releaseAgain.Set();
            // Handled in order: once the third's hang-up is told, the report of bytes already read has
            // woken the receive, which found nothing and waits on.
            await thirdTold.Task.WaitAsync(ServerTiming.HangBound);
            Assert.False(next.IsCompleted, "a report of bytes already read completed the receive");
            secondClient.Send("def"u8);
            Assert.Equal(3, await next.WaitAsync(ServerTiming.HangBound));
            Assert.Equal("def"u8.ToArray(), buffer[..3]);
        }
        finally
        {
            release.Set();
            releaseAgain.Set();
        }
    }

    [Fact]
    public async Task A_cancelled_send_leaves_the_connection_able_to_send()
    {
        (EpollTransport server, Socket client, _) = Connect();
        byte[] large = new byte[8 * 1024 * 1024];
        using var cancel = new CancellationTokenSource();
        Task send = server.SendAsync(large, cancel.Token).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(ServerTiming.HangBound));

        // What the cancelled send queued, then the next send's bytes, end the stream. The next send is too
        // large to go out at once: it waits for the client too.
        byte[] after = new byte[1024 * 1024 + 4];
        "next"u8.CopyTo(after.AsSpan(^4..));
        Task next = Task.Run(async () =>
        {
            await server.SendAsync(after);
            server.ShutdownSend();
        });
        var received = new MemoryStream();
        byte[] buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(ServerTiming.HangBound);
        int n;
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) received.Write(buffer, 0, n);
        await next.WaitAsync(ServerTiming.HangBound);
        Assert.Equal("next"u8.ToArray(), received.ToArray()[^4..]);
    }

    [Fact]
    public async Task A_client_connect_is_not_done_before_the_listener_takes_it()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        // Two connections fill the accept queue (a backlog of 1 holds two); a third SYN is dropped until
        // there is room again, and is sent again a second later (tcp(7)).
        using var waiting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        waiting.Connect(listener.LocalEndPoint!);
        using var waitingToo = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        waitingToo.Connect(listener.LocalEndPoint!);
        _loop ??= new EpollLoop(0);
        Task<EpollTransport> connecting = Parley.Client.EpollConnect.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, _loop, CancellationToken.None).AsTask();
        Assert.False(connecting.IsCompleted, "the connect was reported done while the listener had no room for it");
        List<Socket> accepted = [listener.Accept(), listener.Accept()]; // room for it
        _owned.AddRange(accepted);
        EpollTransport client = await connecting.WaitAsync(ServerTiming.HangBound);
        _owned.Add(client);
        accepted.Add(listener.Accept());
        _owned.Add(accepted[^1]);
        Socket peer = accepted.Single(socket => socket.RemoteEndPoint!.Equals(client.LocalEndPoint));
        await client.SendAsync("hi"u8.ToArray());
        Assert.Equal("hi"u8.ToArray(), await ReadExactlyAsync(peer, 2));
    }

    private static bool DescriptorOpen(int fd) => Descriptors.fcntl(fd, Descriptors.F_GETFD, 0) >= 0;

    [Fact]
    public async Task A_receive_and_sends_after_the_peer_reset_fail_naming_the_call_and_the_error()
    {
        (EpollTransport server, Socket client, _) = Connect();
        var hungUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.WatchPeer(() => hungUp.TrySetResult());
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        await hungUp.Task.WaitAsync(ServerTiming.HangBound);
        // The reset is reported once, to the first call; later sends find the connection gone.
        IOException receive = await Assert.ThrowsAsync<IOException>(() => server.ReceiveAsync(new byte[10]).AsTask());
        Assert.Equal("recv failed: Connection reset by peer (errno 104)", receive.Message);
        IOException send = await Assert.ThrowsAsync<IOException>(() => server.SendAsync("x"u8.ToArray()).AsTask());
        Assert.Equal("send failed: Broken pipe (errno 32)", send.Message);
        IOException blocking = Assert.Throws<IOException>(() => server.SendBlocking("x"u8));
        Assert.Equal("send failed: Broken pipe (errno 32)", blocking.Message);
    }

    [Fact]
    public async Task A_waiting_receive_and_a_waiting_send_fail_naming_their_call_when_the_peer_resets()
    {
        (EpollTransport server, Socket client, _) = Connect();
        Task<int> receive = server.ReceiveAsync(new byte[10]).AsTask();
        Task send = server.SendAsync(new byte[8 * 1024 * 1024]).AsTask();
        Assert.False(receive.IsCompleted || send.IsCompleted, "the client has neither sent nor read anything");
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        IOException receiveFailure = await Assert.ThrowsAsync<IOException>(() => receive.WaitAsync(ServerTiming.HangBound));
        IOException sendFailure = await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(ServerTiming.HangBound));
        Assert.StartsWith("recv failed: ", receiveFailure.Message);
        Assert.StartsWith("send failed: ", sendFailure.Message);
    }

    [Fact]
    public void The_descriptor_stays_open_through_the_calls_that_borrow_it_and_closes_at_Dispose()
    {
        int number = Descriptors.FreeBlockAboveOpen();
        (EpollTransport server, _, _) = Connect(placeAt: number);
        Assert.NotNull(server.LocalEndPoint);
        server.TrySendNow("x"u8);
        Assert.False(server.HasUnreadBytes);
        server.Abort();
        server.Abort();
        Assert.True(DescriptorOpen(number), "the descriptor was closed while the connection still owns it");
        server.Dispose();
        Assert.False(DescriptorOpen(number), "the descriptor stayed open after Dispose");
    }

    [Fact]
    public async Task After_Dispose_a_watch_is_told_at_once_and_a_wait_for_data_ends()
    {
        (EpollTransport server, _, _) = Connect();
        server.Dispose();
        bool told = false;
        server.WatchPeer(() => told = true);
        Assert.True(told, "a watch set on a disposed connection was not told");
        Assert.Equal(0, await server.WaitForDataAsync().AsTask().WaitAsync(ServerTiming.HangBound));
    }

    [Fact]
    public async Task The_token_of_a_finished_send_does_not_cancel_a_later_one()
    {
        (EpollTransport server, Socket client, _) = Connect();
        const int length = 1024 * 1024;
        using var firstCancel = new CancellationTokenSource();
        Task first = server.SendAsync(new byte[length], firstCancel.Token).AsTask();
        Assert.False(first.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        await ReadExactlyAsync(client, length);
        await first.WaitAsync(ServerTiming.HangBound);

        Task second = server.SendAsync(new byte[length]).AsTask();
        Assert.False(second.IsCompleted, "the client has read nothing of it yet; the send cannot have finished");
        firstCancel.Cancel();
        await ReadExactlyAsync(client, length);
        await second.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task A_wait_for_connected_after_the_loop_reported_the_socket_writable_completes()
    {
        (EpollTransport server, _, _) = Connect(); // connected, so writable from its registration on
        // The loop handles reports in the order they became ready: once a later connection's hang-up is
        // told, the first one's writability has been reported.
        (EpollTransport later, Socket laterClient, _) = Connect();
        var told = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        later.WatchPeer(() => told.TrySetResult());
        laterClient.Shutdown(SocketShutdown.Send);
        await told.Task.WaitAsync(ServerTiming.HangBound);
        await server.WaitConnectedAsync(CancellationToken.None).AsTask().WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task Write_readiness_neither_ends_a_peer_watch_nor_completes_a_wait_for_data()
    {
        (EpollTransport server, Socket client, _) = Connect();
        var hungUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.WatchPeer(() => hungUp.TrySetResult());
        // A send that waits for the client: the loop reports the socket writable while the watch is set.
        const int length = 1024 * 1024;
        Task send = server.SendAsync(new byte[length]).AsTask();
        Assert.False(send.IsCompleted, "the client has read nothing yet; the send cannot have finished");
        await ReadExactlyAsync(client, length);
        await send.WaitAsync(ServerTiming.HangBound);
        await server.SendAsync(ReadOnlyMemory<byte>.Empty).AsTask().WaitAsync(ServerTiming.HangBound); // nothing to send: done

        Task<int> wait = server.WaitForDataAsync().AsTask();
        Assert.False(wait.IsCompleted, "the client has sent nothing");
        Assert.False(hungUp.Task.IsCompleted, "the client has not hung up");
        client.Shutdown(SocketShutdown.Send);
        await hungUp.Task.WaitAsync(ServerTiming.HangBound);
        await wait.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task Unread_bytes_are_bytes_not_the_end_of_stream()
    {
        (EpollTransport server, Socket client, Socket view) = Connect();
        Assert.False(server.HasUnreadBytes);
        client.Send("a"u8);
        Assert.True(SpinWait.SpinUntil(() => server.HasUnreadBytes, ServerTiming.HangBound));
        Assert.Equal(1, await server.ReceiveAsync(new byte[10]).AsTask().WaitAsync(ServerTiming.HangBound));
        client.Shutdown(SocketShutdown.Send);
        Assert.True(SpinWait.SpinUntil(() => view.Poll(0, SelectMode.SelectRead), ServerTiming.HangBound));
        Assert.False(server.HasUnreadBytes, "the end of stream was taken for unread bytes");
    }

    [Fact]
    public async Task A_refused_connection_gets_its_response_then_the_end_and_its_descriptor_is_closed()
    {
        int number = Descriptors.FreeBlockAboveOpen();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using (Socket accepted = listener.Accept()) Assert.Equal(number, Descriptors.dup2((int)accepted.Handle, number));

        EpollTransport.Refuse(number, "HTTP/1.1 503 Service Unavailable\r\n\r\n"u8);
        Assert.False(DescriptorOpen(number), "the refused connection's descriptor stayed open");
        byte[] received = await ReadExactlyAsync(client, 36);
        Assert.Equal("HTTP/1.1 503 Service Unavailable\r\n\r\n"u8.ToArray(), received);
        Assert.Equal(0, await client.ReceiveAsync(new byte[1].AsMemory(), SocketFlags.None).AsTask().WaitAsync(ServerTiming.HangBound));
    }
}

using System.Net;
using System.Net.Sockets;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// How a stop stops accepting (docs/deploy.md, "Draining on SIGTERM", step 3) without losing what the kernel
/// already took: a listener that drops new handshakes completes no connection for a client arriving now,
/// while the connection already in its accept queue, and the request its client sent on it, wait intact for
/// the accept that empties the queue. Closing the listener at once would have reset that connection, and a
/// balancer that had sent a POST on it answers 502. The rolling restart behind nginx
/// (<c>NginxRollingRestartTests</c>) sees the loss only now and then; this shows the mechanism every time.
/// </summary>
public class ListenerQuiescingTests
{
    [Fact]
    public async Task A_quiesced_listener_completes_no_new_handshake_and_keeps_the_queued_connection_with_its_request()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;

        // Completed by the kernel and queued, not accepted yet; its client has already sent a request.
        using var queued = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await queued.ConnectAsync(endPoint);
        byte[] request = "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"u8.ToArray();
        await queued.SendAsync(request);
        Assert.True(ListenerQuiescing.HasPendingConnection(listener));

        Assert.True(ListenerQuiescing.DropNewHandshakes(listener));

        // A client arriving now: its SYN is dropped, so it gets no connection (on loopback one completes at
        // once otherwise). It would retry, and be refused once the listener is closed.
        using (var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await late.ConnectAsync(endPoint, giveUp.Token));
        }

        // The established connection is not filtered: what its client sends now arrives too.
        byte[] more = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        await queued.SendAsync(more);
        using Socket accepted = await listener.AcceptAsync();
        Assert.Equal(queued.LocalEndPoint, accepted.RemoteEndPoint);
        byte[] arrived = await ReceiveExactlyAsync(accepted, request.Length + more.Length);
        Assert.Equal([.. request, .. more], arrived);
        // The late client left nothing in the queue.
        Assert.False(ListenerQuiescing.HasPendingConnection(listener));

        // And the answer reaches the client.
        byte[] answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray();
        await accepted.SendAsync(answer);
        Assert.Equal(answer, await ReceiveExactlyAsync(queued, answer.Length));
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        byte[] buffer = new byte[count];
        int received = 0;
        while (received < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, $"the connection closed after {received} of {count} bytes");
            received += n;
        }
        return buffer;
    }
}

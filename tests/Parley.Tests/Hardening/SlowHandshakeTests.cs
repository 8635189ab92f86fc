using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Hardening;

/// <summary>
/// Slowloris before TLS begins: clients that open TCP to an HTTPS listener and then say nothing, stop in the
/// middle of their ClientHello, or dribble a real ClientHello a byte at a time. They cannot keep a normal
/// client from being served, and each is closed by the handshake timeout with one error-log line.
/// </summary>
public class SlowHandshakeTests : TransportTests
{
    private const int PerKind = 100;
    // Long enough that 300 connections and three normal handshakes fit inside it on a busy 2-core machine:
    // the test checks the order (served while all are open), not a speed.
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    protected override bool OverTls => true;

    private static ValueTask Hello(HttpRequest request, HttpResponse response)
    {
        response.WriteText("Hello");
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Handshakes_that_stall_or_dribble_cannot_keep_a_normal_client_out_and_end_at_the_handshake_timeout()
    {
        byte[] clientHello = await RealClientHelloAsync();
        await using TestServer server = await StartAsync(Hello, o => o.Listeners[0].Tls!.HandshakeTimeout = HandshakeTimeout);
        var clock = Stopwatch.StartNew();
        var sockets = new Socket[3 * PerKind];
        var closedAt = new Task<TimeSpan?>[sockets.Length];
        var openedAt = new TimeSpan[sockets.Length];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, sockets.Length).Select(async i =>
            {
                // Taken before the connect: the server's deadline starts at its accept, never earlier.
                openedAt[i] = clock.Elapsed;
                sockets[i] = await Hostile.ConnectAsync(server.Port);
                closedAt[i] = (i % 3) switch
                {
                    0 => ClosedAtAsync(sockets[i], clock, dribble: null), // says nothing at all
                    1 => StallAfterAsync(sockets[i], clientHello.AsMemory(0, 10), clock), // the start of a ClientHello, then nothing
                    _ => ClosedAtAsync(sockets[i], clock, dribble: clientHello), // a real ClientHello, one byte every 200 ms
                };
            }));

            // While every one of them is still open, a real client handshakes and is served, several times.
            for (int i = 0; i < 3; i++)
            {
                await using RawConnection connection = await server.ConnectAsync();
                await connection.SendAsync("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Assert.Equal("Hello", (await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(60))).BodyText);
            }
            TimeSpan served = clock.Elapsed;
            Assert.True(closedAt.All(t => !t.IsCompleted), $"{closedAt.Count(t => t.IsCompleted)} slow handshakes ended before the normal client was served");

            TimeSpan?[] closed = await Task.WhenAll(closedAt);
            for (int i = 0; i < closed.Length; i++)
            {
                string kind = (i % 3) switch { 0 => "a silent connection", 1 => "a stalled ClientHello", _ => "a dribbled ClientHello" };
                Assert.True(closed[i] is not null, $"{kind} was not closed within {(HandshakeTimeout + ServerTiming.Heartbeat + ServerTiming.LoadAllowance).TotalSeconds} s");
                TimeSpan lived = closed[i]!.Value - openedAt[i];
                Assert.True(lived >= HandshakeTimeout - ServerTiming.CoarseClock, $"{kind} was closed after {lived.TotalSeconds:F1} s, before the {HandshakeTimeout.TotalSeconds} s handshake timeout");
            }
            Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(60)),
                $"{server.Server.ConnectionCount} connections still open after the handshake timeout");
            // One error-log line each, and none for the normal clients.
            string[] errors;
            lock (server.Errors) errors = [.. server.Errors];
            Assert.Equal(sockets.Length, errors.Count(e => e.Contains($"did not finish within {HandshakeTimeout.TotalSeconds:0} s", StringComparison.Ordinal)));
            Assert.Equal(sockets.Length, errors.Length);
        }
        finally
        {
            foreach (Socket socket in sockets) socket?.Dispose();
        }
    }

    private static async Task<TimeSpan?> StallAfterAsync(Socket socket, ReadOnlyMemory<byte> start, Stopwatch clock)
    {
        await socket.SendAsync(start, SocketFlags.None);
        return await ClosedAtAsync(socket, clock, dribble: null);
    }

    // Waits for the server's close (EOF or reset), sending the next byte of `dribble` every 200 ms meanwhile;
    // null when the server keeps it open past the handshake timeout and some slack.
    private static async Task<TimeSpan?> ClosedAtAsync(Socket socket, Stopwatch clock, byte[]? dribble)
    {
        // The close is due at the first heartbeat after the handshake timeout; a loaded machine may add more.
        using var cts = new CancellationTokenSource(HandshakeTimeout + ServerTiming.Heartbeat + ServerTiming.LoadAllowance);
        var buffer = new byte[1024];
        int sent = 0;
        try
        {
            Task<int> receive = socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).AsTask();
            while (true)
            {
                if (await Task.WhenAny(receive, Task.Delay(200, cts.Token)) == receive)
                {
                    // A server that stops a handshake sends nothing (or a TLS alert) and closes.
                    if (await receive == 0) return clock.Elapsed;
                    receive = socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).AsTask();
                    continue;
                }
                if (dribble is not null && sent < dribble.Length) await socket.SendAsync(dribble.AsMemory(sent++, 1), SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            return clock.Elapsed;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    // The first record a real client sends: SslStream's ClientHello, caught on a loopback socket of our own.
    private static async Task<byte[]> RealClientHelloAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using Socket peer = await listener.AcceptSocketAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var tls = new SslStream(new NetworkStream(client, ownsSocket: false));
        Task handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        }, cts.Token);
        using var received = new NetworkStream(peer, ownsSocket: false);
        var header = new byte[5];
        await received.ReadExactlyAsync(header, cts.Token);
        Assert.Equal(0x16, header[0]); // a handshake record (RFC 8446 §5.1)
        var record = new byte[5 + (header[3] << 8 | header[4])];
        header.CopyTo(record, 0);
        await received.ReadExactlyAsync(record.AsMemory(5), cts.Token);
        client.Close();
        peer.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        tls.Dispose();
        return record;
    }
}

/// <summary>The same over the epoll transport.</summary>
public class EpollSlowHandshakeTests : SlowHandshakeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

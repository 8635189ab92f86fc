using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Parley.Server;
using Parley.Server.Transport;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// Issue 18, memory per idle TLS connection: between requests the server waits through SslStream with a
/// zero-byte read, which SslStream passes down to the transport as a wait that holds no buffer. Were the
/// wait to become a receive into a buffer (a stream under SslStream that answers a zero-byte read at once,
/// or SslStream reading ahead), every idle TLS connection would hold SslStream's 16 KiB+ read buffer.
/// The transport under TLS records each read SslStream makes of it.
/// </summary>
public class IdleTlsConnectionTests
{
    [Fact]
    public async Task An_idle_tls_connection_waits_on_its_transport_without_a_buffer_and_then_reads_the_next_request()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using Socket accepted = await listener.AcceptAsync();

        var recording = new RecordingTransport(new SocketTransport(accepted));
        var tls = new TlsTransport(recording, new TlsListener(TestServer.TestTlsOptions()));
        await using var clientTls = new SslStream(new NetworkStream(client, ownsSocket: false));
        ValueTask<TlsTransport.HandshakeResult> handshake = tls.HandshakeAsync();
        await clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        Assert.Equal(TlsTransport.HandshakeResult.Secure, await handshake);

        // A first request and its answer, as a keep-alive connection has before it goes idle.
        await clientTls.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        byte[] received = new byte[4096];
        Assert.Equal(18, await tls.ReceiveAsync(received));
        await tls.SendAsync("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
        Assert.Equal(27, await clientTls.ReadAsync(received));

        // Idle: the connection's wait is pending, and what is pending under it is a wait, not a receive.
        ValueTask<int> idle = tls.WaitForDataAsync();
        Assert.False(idle.IsCompleted);
        Assert.Equal(RecordingTransport.Call.Wait, recording.Calls[^1].Kind);

        await clientTls.WriteAsync("GET /next HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal(0, await idle);
        Assert.Equal(22, await tls.ReceiveAsync(received));
        // Only now, with a record there, does SslStream receive into a buffer.
        Assert.Equal(RecordingTransport.Call.Receive, recording.Calls[^1].Kind);
        Assert.True(recording.Calls[^1].Length > 0);
        Assert.Equal("GET /next HTTP/1.1\r\n\r\n", System.Text.Encoding.ASCII.GetString(received, 0, 22));
        tls.Dispose();
    }

    /// <summary>A transport that forwards to a real one and records the reads made of it, in order.</summary>
    private sealed class RecordingTransport(ConnectionTransport inner) : ForwardingTransport(inner)
    {
        public enum Call { Receive, Wait }

        public readonly record struct Read(Call Kind, int Length);

        public List<Read> Calls { get; } = [];

        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ValueTask<int> receive = Inner.ReceiveAsync(buffer, cancellationToken);
            lock (Calls) Calls.Add(new(Call.Receive, buffer.Length));
            return receive;
        }

        public override ValueTask<int> WaitForDataAsync()
        {
            ValueTask<int> wait = Inner.WaitForDataAsync();
            lock (Calls) Calls.Add(new(Call.Wait, 0));
            return wait;
        }
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Parley.Server;
using Parley.Server.Transport;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// Issue 18, memory per idle TLS connection: between requests the server waits through SslStream with a
/// zero-byte read, which SslStream passes down to the transport as a wait that holds no buffer. Were the
/// wait to become a receive into a buffer (a stream under SslStream that answers a zero-byte read at once,
/// or SslStream reading ahead), every idle TLS connection would hold SslStream's 16 KiB+ read buffer.
/// The transport under TLS records each read SslStream makes of it; it can also end a wait at once with
/// nothing to read, which SslStream must carry on by itself.
/// </summary>
public sealed class IdleTlsConnectionTests : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private Socket? _accepted;
    private SslStream? _clientTls;
    private TlsTransport? _tls;

    public async ValueTask DisposeAsync()
    {
        _tls?.Dispose();
        if (_clientTls is not null) await _clientTls.DisposeAsync();
        _accepted?.Dispose();
        _client.Dispose();
        _listener.Dispose();
    }

    // A TLS connection over the recording transport that has had a first request and its answer, as a
    // keep-alive connection has before it goes idle.
    private async Task<(TlsTransport Tls, RecordingTransport Recording, SslStream Client)> AfterAFirstExchangeAsync()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        await _client.ConnectAsync(_listener.LocalEndPoint!);
        _accepted = await _listener.AcceptAsync();

        var recording = new RecordingTransport(new SocketTransport(_accepted));
        _tls = new TlsTransport(recording, new TlsListener(TestServer.TestTlsOptions()));
        _clientTls = new SslStream(new NetworkStream(_client, ownsSocket: false));
        ValueTask<TlsTransport.HandshakeResult> handshake = _tls.HandshakeAsync();
        await _clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        Assert.Equal(TlsTransport.HandshakeResult.Secure, await handshake);

        await _clientTls.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        byte[] received = new byte[4096];
        Assert.Equal(18, await _tls.ReceiveAsync(received));
        await _tls.SendAsync("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
        Assert.Equal(27, await _clientTls.ReadAsync(received));
        return (_tls, recording, _clientTls);
    }

    [Fact]
    public async Task An_idle_tls_connection_waits_on_its_transport_without_a_buffer_and_then_reads_the_next_request()
    {
        (TlsTransport tls, RecordingTransport recording, SslStream clientTls) = await AfterAFirstExchangeAsync();

        // Idle: the connection's wait is pending, and what is pending under it is a wait, not a receive.
        ValueTask<int> idle = tls.WaitForDataAsync();
        Assert.False(idle.IsCompleted);
        Assert.Equal(RecordingTransport.Call.Wait, recording.Calls[^1].Kind);

        await clientTls.WriteAsync("GET /next HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal(0, await idle);
        byte[] received = new byte[4096];
        Assert.Equal(22, await tls.ReceiveAsync(received));
        // Only now, with a record there, does SslStream receive into a buffer.
        Assert.Equal(RecordingTransport.Call.Receive, recording.Calls[^1].Kind);
        Assert.True(recording.Calls[^1].Length > 0);
        Assert.Equal("GET /next HTTP/1.1\r\n\r\n", System.Text.Encoding.ASCII.GetString(received, 0, 22));
    }

    [Fact]
    public async Task A_wait_under_tls_that_ends_with_nothing_to_read_is_carried_on_by_SslStream_until_a_record_comes()
    {
        // The connection relies on this: TlsTransport cannot say "nothing arrived" (TryReceiveNow), so an
        // empty wake of the transport's wait (see IdleWakeTests) must not end the TLS wait. SslStream, its
        // zero-byte read passed down and answered, goes on to receive a record, and waits for it.
        (TlsTransport tls, RecordingTransport recording, SslStream clientTls) = await AfterAFirstExchangeAsync();
        recording.EndNextWaitAtOnce = true;

        ValueTask<int> idle = tls.WaitForDataAsync();
        Assert.False(idle.IsCompleted);
        Assert.Equal(RecordingTransport.Call.Receive, recording.Calls[^1].Kind);
        Assert.Equal(RecordingTransport.Call.Wait, recording.Calls[^2].Kind);

        await clientTls.WriteAsync("GET /next HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal(0, await idle);
        byte[] received = new byte[4096];
        Assert.Equal(22, await tls.ReceiveAsync(received));
        Assert.Equal("GET /next HTTP/1.1\r\n\r\n", System.Text.Encoding.ASCII.GetString(received, 0, 22));
    }

    /// <summary>A transport that forwards to a real one and records the reads made of it, in order.</summary>
    private sealed class RecordingTransport(ConnectionTransport inner) : ForwardingTransport(inner)
    {
        public enum Call { Receive, Wait }

        public readonly record struct Read(Call Kind, int Length);

        public List<Read> Calls { get; } = [];

        /// <summary>Makes the next wait end at once with nothing to read, as a readiness report for bytes already taken ends it.</summary>
        public bool EndNextWaitAtOnce { get; set; }

        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ValueTask<int> receive = Inner.ReceiveAsync(buffer, cancellationToken);
            lock (Calls) Calls.Add(new(Call.Receive, buffer.Length));
            return receive;
        }

        public override ValueTask<int> WaitForDataAsync()
        {
            ValueTask<int> wait = EndNextWaitAtOnce ? ValueTask.FromResult(0) : Inner.WaitForDataAsync();
            EndNextWaitAtOnce = false;
            lock (Calls) Calls.Add(new(Call.Wait, 0));
            return wait;
        }
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Parley.Client;
using Parley.Server.Transport;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary>
/// The client's TLS transport below the exchange: a file region sent through TLS chunk by chunk, last
/// words, and the half-close (close_notify, then FIN), read back by a loopback <see cref="SslStream"/> server.
/// </summary>
public sealed class TlsClientTransportTests : IAsyncLifetime
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // A bound on hangs, not on speed.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    private TlsClientTransport _client = null!;
    private NetworkStream _serverRaw = null!;
    private SslStream _server = null!;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"parley-tls-file-{Guid.NewGuid():N}.bin");
    private readonly byte[] _file = RandomNumberGenerator.GetBytes(100_000);

    public async Task InitializeAsync()
    {
        await File.WriteAllBytesAsync(_path, _file, Test);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task<Socket> accept = listener.AcceptSocketAsync(Test).AsTask();
        await socket.ConnectAsync(IPAddress.Loopback, port, Test);
        _serverRaw = new NetworkStream(await accept, ownsSocket: true);
        _server = new SslStream(_serverRaw, leaveInnerStreamOpen: true);
        _client = new TlsClientTransport(new SocketTransport(socket));

        var options = new ParleyClientOptions();
        options.ExtraTrustedRoots.AddRange(TestCertificates.CaCollection());
        SslClientAuthenticationOptions handshake = new ClientTlsPolicy(options).OptionsFor(Origin.Of(new Uri($"https://localhost:{port}/")));
        await Task.WhenAll(
            _client.HandshakeAsync(handshake, Test),
            _server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TestCertificates.Server.Certificate }, Test));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        await _serverRaw.DisposeAsync();
        File.Delete(_path);
    }

    /// <summary>Everything the server receives until the client's close_notify.</summary>
    private async Task<byte[]> ReceiveAllAsync()
    {
        var received = new MemoryStream();
        await _server.CopyToAsync(received, Test).WaitAsync(HangBound);
        return received.ToArray();
    }

    [Fact]
    public async Task A_file_region_goes_out_after_its_prefix_exactly_and_in_order()
    {
        byte[] prefix = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n\r\n");
        using (var file = File.OpenHandle(_path))
        {
            // More than one chunk, from an offset; then a region shorter than a chunk with nothing before it.
            await _client.SendFileAsync(prefix, file, offset: 1_000, length: 40_000, Test);
            await _client.SendFileAsync(ReadOnlyMemory<byte>.Empty, file, offset: 0, length: 10, Test);
        }
        _client.ShutdownSend();

        byte[] expected = [.. prefix, .. _file.AsSpan(1_000, 40_000), .. _file.AsSpan(0, 10)];
        Assert.Equal(expected, await ReceiveAllAsync());
    }

    [Fact]
    public async Task A_region_past_the_end_of_the_file_is_an_error_naming_it()
    {
        using var file = File.OpenHandle(_path);

        var ex = await Assert.ThrowsAsync<IOException>(() =>
            _client.SendFileAsync(ReadOnlyMemory<byte>.Empty, file, offset: _file.Length - 50, length: 100, Test).AsTask().WaitAsync(HangBound));

        Assert.Equal("the file ended before the region that was announced", ex.Message);
    }

    [Fact]
    public async Task The_half_close_sends_close_notify_and_then_ends_the_tcp_stream()
    {
        _client.TrySendNow("last words"u8);
        _client.ShutdownSend();

        // close_notify ends the TLS stream after the last words; the FIN behind it ends the TCP stream.
        Assert.Equal("last words"u8.ToArray(), await ReceiveAllAsync());
        Assert.Equal(0, await _serverRaw.ReadAsync(new byte[16], Test).AsTask().WaitAsync(HangBound));
    }

    [Fact]
    public void Last_words_on_a_closed_transport_are_dropped_without_an_error()
    {
        _client.Dispose();

        _client.TrySendNow("too late"u8);
    }
}

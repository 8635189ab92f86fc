using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// What a failed TLS handshake is called, against a raw loopback socket playing a server that reads the
/// client's first TLS record and then answers wrongly: an alert, plain HTTP, or nothing at all.
/// </summary>
public class TlsHandshakeFailureTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // A bound on hangs, not on speed.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    // RFC 8446 §6: an alert record (content type 21, legacy version 3.3, length 2) of level fatal (2).
    private static byte[] FatalAlert(byte description) => [21, 3, 3, 0, 2, 2, description];

    private const byte HandshakeFailure = 40;
    private const byte ProtocolVersion = 70;

    /// <summary>
    /// Accepts connections one after another; for each it reads the client's first TLS record (the
    /// ClientHello), sends <c>answer</c> (nothing if empty), and then either closes or waits for the client
    /// to close, counting the connections the client closed.
    /// </summary>
    private sealed class HelloAnsweringServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _closedByClient;

        public HelloAnsweringServer(byte[] answer, bool closeAfterAnswer)
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    using Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
                    await using var stream = new NetworkStream(socket);
                    byte[] header = new byte[5];
                    await stream.ReadExactlyAsync(header, _stop.Token);
                    await stream.ReadExactlyAsync(new byte[(header[3] << 8) | header[4]], _stop.Token);
                    if (answer.Length > 0) await stream.WriteAsync(answer, _stop.Token);
                    if (closeAfterAnswer) continue;
                    // The client refused the answer: it must close its end (a read of 0, or a reset).
                    try
                    {
                        while (await stream.ReadAsync(new byte[64], _stop.Token) > 0) { }
                    }
                    catch (IOException)
                    {
                    }
                    Interlocked.Increment(ref _closedByClient);
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public string Url => $"https://127.0.0.1:{Port}/";

        public int ClosedByClient => Volatile.Read(ref _closedByClient);

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private static async Task<ParleyHttpException> FailAsync(ParleyClient client, string url) =>
        await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(url, Test));

    [Fact]
    public async Task A_server_closing_during_the_handshake_is_a_handshake_failure_named_by_the_tls_layer()
    {
        await using var server = new HelloAnsweringServer([], closeAfterAnswer: true);
        using var client = new ParleyClient();

        ParleyHttpException ex = await FailAsync(client, server.Url);

        Assert.Equal(ParleyErrorKind.TlsHandshakeFailed, ex.Kind);
        // The TLS layer's exception is the whole story here (it has no inner one), so it is quoted once.
        Exception cause = Assert.IsAssignableFrom<Exception>(ex.InnerException);
        Assert.Null(cause.InnerException);
        Assert.Equal($"TLS handshake with 127.0.0.1 port {server.Port} failed: {cause.Message}", ex.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task A_handshake_failure_alert_names_the_innermost_cause_closes_the_connection_and_frees_the_slot()
    {
        await using var server = new HelloAnsweringServer(FatalAlert(HandshakeFailure), closeAfterAnswer: false);
        // One connection per origin, and a request deadline as the hang bound: a slot kept by the failed
        // handshake would make the second request wait for it and time out.
        using var client = new ParleyClient(new ParleyClientOptions { MaxConnectionsPerOrigin = 1, RequestTimeout = HangBound });

        for (int attempt = 1; attempt <= 2; attempt++)
        {
            ParleyHttpException ex = await FailAsync(client, server.Url);

            Assert.Equal(ParleyErrorKind.TlsHandshakeFailed, ex.Kind);
            var cause = Assert.IsType<AuthenticationException>(ex.InnerException);
            Exception innermost = cause;
            while (innermost.InnerException is not null) innermost = innermost.InnerException;
            Assert.NotSame(cause, innermost);
            Assert.Equal($"TLS handshake with 127.0.0.1 port {server.Port} failed: {cause.Message} ({innermost.Message})", ex.Message);
            Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.ClosedByClient == attempt, HangBound),
                $"the server still waits for the client to close connection {attempt}");
        }
        Assert.Equal(0, client.ConnectionCount);
    }

    [Theory]
    [InlineData(SslProtocols.None, "the system's default versions")]
    [InlineData(SslProtocols.Tls12, "Tls12")]
    public async Task A_protocol_version_alert_names_the_versions_the_client_offered(SslProtocols offered, string named)
    {
        await using var server = new HelloAnsweringServer(FatalAlert(ProtocolVersion), closeAfterAnswer: false);
        using var client = new ParleyClient(new ParleyClientOptions { TlsProtocols = offered });

        ParleyHttpException ex = await FailAsync(client, server.Url);

        Assert.Equal(ParleyErrorKind.TlsProtocolVersionMismatch, ex.Kind);
        Assert.StartsWith($"no TLS version in common with 127.0.0.1 port {server.Port} (this client offers {named}): ", ex.Message);
        Assert.Contains("protocol version", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_plain_http_answer_is_quoted_up_to_the_end_of_its_status_line()
    {
        // The whole answer fits the 16 bytes the client keeps, line ends included: only the line is quoted.
        await using var server = new HelloAnsweringServer(Encoding.ASCII.GetBytes("HTTP/1.0 400\r\n\r\n"), closeAfterAnswer: true);
        using var client = new ParleyClient();

        ParleyHttpException ex = await FailAsync(client, server.Url);

        Assert.Equal(ParleyErrorKind.PlainHttpFromTlsServer, ex.Kind);
        Assert.Equal($"127.0.0.1 port {server.Port} answered plain HTTP ('HTTP/1.0 400...'), not TLS: does the URL mean http://?", ex.Message);
    }
}

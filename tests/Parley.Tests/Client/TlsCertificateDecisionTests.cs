using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Client;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary>
/// Which server certificates the client accepts and how it names a refusal, against a loopback
/// <see cref="SslStream"/> server presenting certificates made for each case (a chain with an expired
/// intermediate, a forged signature, a client certificate), and what the session report says.
/// </summary>
public class TlsCertificateDecisionTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // A bound on hangs, not on speed.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    private static ParleyClientOptions TrustingTestCa(ISessionObserver? observer = null, TransportKind transport = TransportKind.Sockets)
    {
        var options = new ParleyClientOptions { Observer = observer, Transport = transport };
        options.ExtraTrustedRoots.AddRange(TestCertificates.CaCollection());
        return options;
    }

    /// <summary>Test CA -> "Parley Test Expired Intermediate" (expired yesterday) -> localhost (valid now), and the intermediate.</summary>
    private static readonly Lazy<(X509Certificate2 Leaf, X509Certificate2 Intermediate)> s_expiredIntermediate = new(() =>
    {
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=Parley Test Expired Intermediate", intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        intermediateRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(intermediateRequest.PublicKey, false));
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(TestCertificates.Ca.Certificate, true, false));
        using X509Certificate2 intermediatePublic = intermediateRequest.Create(
            TestCertificates.Ca.Certificate, DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(-1), Serial());
        X509Certificate2 leaf = Leaf(intermediatePublic, intermediateKey, DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(30), withAuthorityKeyId: true);
        return (leaf, X509CertificateLoader.LoadCertificate(intermediatePublic.RawData));
    });

    /// <summary>localhost "issued by" the test CA by name, but signed by another key: its signature does not verify.</summary>
    private static readonly Lazy<X509Certificate2> s_forged = new(() =>
    {
        using var impostorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var impostorRequest = new CertificateRequest(TestCertificates.Ca.Certificate.SubjectName, impostorKey, HashAlgorithmName.SHA256);
        impostorRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        impostorRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 impostor = impostorRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return Leaf(impostor, impostorKey, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), withAuthorityKeyId: false);
    });

    private static byte[] Serial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER (RFC 5280 §4.1.2.2)
        return serial;
    }

    // Signed through a signature generator, which (unlike CertificateRequest.Create with an issuer
    // certificate) lets a leaf outlive its issuer, as the expired-intermediate case needs.
    private static X509Certificate2 Leaf(X509Certificate2 issuer, ECDsa issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter, bool withAuthorityKeyId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        if (withAuthorityKeyId) request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 signed = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notAfter, Serial());
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        // A PKCS#12 round trip gives a key SslStream accepts on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A loopback HTTPS server: for each connection a server-side handshake with one certificate (and its
    /// intermediates), then HTTP/1.1 answers "got N bytes" to each request, with <c>Connection: close</c>
    /// for the path <c>/close</c>, after which it waits for the client to close the connection.
    /// </summary>
    private sealed class SslStreamServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly SslServerAuthenticationOptions _options;
        private readonly Task _loop;
        private readonly List<Task> _connections = [];
        private int _closedByClient;

        public SslStreamServer(X509Certificate2 certificate, X509Certificate2Collection? intermediates = null, bool alpn = true)
        {
            _options = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = SslStreamCertificateContext.Create(certificate, intermediates, offline: true),
                ApplicationProtocols = alpn ? [SslApplicationProtocol.Http11] : null,
            };
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_connections) _connections.Add(ServeAsync(socket));
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public string Url => $"https://localhost:{Port}/";

        public int ClosedByClient => Volatile.Read(ref _closedByClient);

        private async Task ServeAsync(Socket socket)
        {
            using (socket)
            await using (var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false)))
            {
                try
                {
                    await ssl.AuthenticateAsServerAsync(_options, _stop.Token);
                    while (await ReadHeadAsync(ssl) is { } head)
                    {
                        long length = ContentLength(head);
                        byte[] buffer = new byte[64 * 1024];
                        for (long left = length; left > 0;)
                        {
                            int read = await ssl.ReadAsync(buffer.AsMemory(0, (int)Math.Min(left, buffer.Length)), _stop.Token);
                            if (read == 0) return;
                            left -= read;
                        }
                        bool close = head.StartsWith("GET /close ", StringComparison.Ordinal);
                        string body = $"got {length} bytes";
                        await ssl.WriteAsync(Encoding.ASCII.GetBytes(
                            $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n{(close ? "Connection: close\r\n" : "")}\r\n{body}"), _stop.Token);
                        if (close)
                        {
                            // The client closes its end: a read of 0 (or a reset) follows.
                            while (await ssl.ReadAsync(buffer, _stop.Token) > 0) { }
                            Interlocked.Increment(ref _closedByClient);
                            return;
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
                {
                    // A refused handshake or an ended test; the client's side is what the tests assert.
                }
            }
        }

        private async Task<string?> ReadHeadAsync(SslStream ssl)
        {
            var head = new List<byte>();
            byte[] one = new byte[1];
            while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
            {
                if (await ssl.ReadAsync(one, _stop.Token) == 0) return null;
                head.Add(one[0]);
            }
            return Encoding.ASCII.GetString(head.ToArray());
        }

        private static long ContentLength(string head)
        {
            foreach (string line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) return long.Parse(line["Content-Length:".Length..].Trim());
            }
            return 0;
        }

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
            Task[] connections;
            lock (_connections) connections = [.. _connections];
            await Task.WhenAll(connections);
        }
    }

    private sealed class SessionObserver : ISessionObserver
    {
        public List<TlsSessionInfo> Sessions { get; } = [];

        public void OnEvent(in SessionEvent e)
        {
            if (e.Tls is { } tls) lock (Sessions) Sessions.Add(tls);
        }
    }

    private static async Task<ParleyHttpException> RefusedAsync(ParleyClientOptions options, string url)
    {
        using var client = new ParleyClient(options);
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(url, Test));
        Assert.Equal(0, client.ConnectionCount);
        return ex;
    }

    [Fact]
    public async Task A_callback_refusing_a_valid_certificate_is_named_as_the_reason()
    {
        await using var server = new SslStreamServer(TestCertificates.Server.Certificate);
        var seen = new List<SslPolicyErrors>();
        ParleyClientOptions options = TrustingTestCa();
        options.ServerCertificateValidationCallback = (_, _, _, errors) =>
        {
            lock (seen) seen.Add(errors);
            return false;
        };

        ParleyHttpException ex = await RefusedAsync(options, server.Url);

        // The certificate itself is fine (under an extra root, for localhost): only the callback said no.
        Assert.Equal([SslPolicyErrors.None], seen);
        Assert.Equal(ParleyErrorKind.CertificateUntrusted, ex.Kind);
        Assert.Equal("the certificate of localhost ('localhost') was refused by the ServerCertificateValidationCallback", ex.Message);
    }

    [Fact]
    public async Task An_expired_intermediate_is_named_as_a_certificate_in_the_chain()
    {
        (X509Certificate2 leaf, X509Certificate2 intermediate) = s_expiredIntermediate.Value;
        await using var server = new SslStreamServer(leaf, [intermediate]);

        ParleyHttpException ex = await RefusedAsync(TrustingTestCa(), server.Url);

        Assert.Equal(ParleyErrorKind.CertificateNotTimeValid, ex.Kind);
        Assert.Equal("a certificate in the chain of localhost ('localhost', issued by 'CN=Parley Test Expired Intermediate') has expired or is not yet valid", ex.Message);
    }

    [Fact]
    public async Task A_signature_that_does_not_verify_is_named_with_the_chains_status_not_as_an_untrusted_root()
    {
        await using var server = new SslStreamServer(s_forged.Value);

        ParleyHttpException ex = await RefusedAsync(TrustingTestCa(), server.Url);

        Assert.Equal(ParleyErrorKind.CertificateUntrusted, ex.Kind);
        Assert.StartsWith("the certificate chain of localhost ('localhost') is not valid: ", ex.Message);
        Assert.Contains(nameof(X509ChainStatusFlags.NotSignatureValid), ex.Message);
    }

    [Theory]
    [InlineData("expired", "expired on")]
    [InlineData("not-yet-valid", "is not valid until")]
    public async Task A_leaf_outside_its_validity_names_the_date_to_the_second(string name, string phrase)
    {
        TestCertificate certificate = name == "expired" ? TestCertificates.Expired : TestCertificates.NotYetValid;
        await using var server = new SslStreamServer(certificate.Certificate);

        ParleyHttpException ex = await RefusedAsync(TrustingTestCa(), server.Url);

        DateTime date = (name == "expired" ? certificate.Certificate.NotAfter : certificate.Certificate.NotBefore).ToUniversalTime();
        Assert.Equal(ParleyErrorKind.CertificateNotTimeValid, ex.Kind);
        Assert.Equal($"the certificate of localhost ('localhost') {phrase} {date:yyyy'-'MM'-'dd HH':'mm':'ss} UTC", ex.Message);
    }

    [Theory]
    [InlineData(true, "http/1.1")]
    [InlineData(false, null)]
    public async Task The_session_report_names_the_negotiated_protocol_only_when_alpn_chose_one(bool alpn, string? protocol)
    {
        await using var server = new SslStreamServer(TestCertificates.Server.Certificate, alpn: alpn);
        var observer = new SessionObserver();
        using var client = new ParleyClient(TrustingTestCa(observer));

        Assert.Equal("got 0 bytes", await client.GetStringAsync(server.Url, Test));

        TlsSessionInfo session = Assert.Single(observer.Sessions);
        Assert.Equal(protocol, session.ApplicationProtocol);
        Assert.Equal("localhost", session.TargetHost);
        Assert.Equal("localhost, 127.0.0.1, ::1", session.ServerCertificateNames);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_streamed_upload_larger_than_the_socket_buffers_arrives_whole_over_tls(TransportKind transport)
    {
        await using var server = new SslStreamServer(TestCertificates.Server.Certificate);
        using var client = new ParleyClient(TrustingTestCa(transport: transport));
        const int Size = 8 * 1024 * 1024;

        // A stream body goes out chunk by chunk: each TLS write must end before the next one starts.
        var request = new ParleyRequest("POST", server.Url + "upload") { Content = ParleyContent.FromStream(new MemoryStream(new byte[Size]), Size) };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal($"got {Size} bytes", await response.ReadAsStringAsync(Test));
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_tls_connection_the_server_asked_to_close_is_closed_by_the_client(TransportKind transport)
    {
        await using var server = new SslStreamServer(TestCertificates.Server.Certificate);
        using var client = new ParleyClient(TrustingTestCa(transport: transport));

        Assert.Equal("got 0 bytes", await client.GetStringAsync(server.Url + "close", Test));

        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.ClosedByClient == 1, HangBound), "the server still waits for the client to close");
        Assert.Equal(0, client.ConnectionCount);
    }
}

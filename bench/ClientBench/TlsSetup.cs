using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Server;

/// <summary>
/// The https variant of the benchmark (<c>-- N ROUNDS tls</c>): the server listens with TLS (a self-signed
/// ECDSA P-256 certificate for 127.0.0.1 made at start, its PEM written to a temp file the client trusts),
/// and every client verifies it: ParleyClient through ExtraTrustedRoots, HttpClient through a custom trust
/// store, curl through --cacert.
/// </summary>
internal static class TlsSetup
{
    /// <summary>The server's certificate, and the PEM file of it for the clients.</summary>
    public static (X509Certificate2 Certificate, string PemPath) MakeCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        X509Certificate2 certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        string pem = Path.Combine(Path.GetTempPath(), $"clientbench-{Environment.ProcessId}.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem() + "\n");
        return (certificate, pem);
    }

    public static void Listen(HttpServerOptions options, X509Certificate2 certificate) =>
        options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, new ServerTlsOptions { Certificate = ServerCertificate.FromCertificate(certificate) }));

    public static void Trust(ParleyClientOptions options, string pemPath) => options.ExtraTrustedRoots.ImportFromPemFile(pemPath);

    public static void Trust(SocketsHttpHandler handler, string pemPath)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(pemPath);
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        handler.SslOptions.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
    }

    /// <summary>
    /// The handshake time a resumed session saves, measured on new connections to the server, interleaved
    /// (one of each kind per step, so the machine's load falls on all three alike): ParleyClient
    /// (<c>Connection: close</c>, so every request opens a connection; SslStream resumes the session from the
    /// tickets the server sent), timed from its TlsHandshakeStarting to TlsHandshakeDone events; and bare
    /// SslStream handshakes with the same trust, with <c>AllowTlsResume = false</c> (always the full
    /// handshake) and with resumption. Medians in ms, on the client's core; 20 warm-up steps not counted.
    /// </summary>
    public static async Task MeasureResumptionAsync(Uri uri, string pemPath, int count)
    {
        var observer = new HandshakeTimer();
        var options = new ParleyClientOptions { UserAgent = null, Observer = observer };
        Trust(options, pemPath);
        using var client = new ParleyClient(options);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(pemPath);
        var full = new List<double>();
        var resumed = new List<double>();
        for (int i = 0; i < count + 20; i++)
        {
            var request = new ParleyRequest("GET", uri);
            request.Headers.Add("Connection", "close");
            using (ParleyResponse response = await client.SendAsync(request))
            {
                _ = await response.ReadAsByteArrayAsync();
            }
            double fullMs = await SslStreamExchangeAsync(uri, roots[0], allowResume: false);
            double resumedMs = await SslStreamExchangeAsync(uri, roots[0], allowResume: true);
            if (i < 20) continue;
            full.Add(fullMs);
            resumed.Add(resumedMs);
        }
        double parley = Median(observer.Durations.Skip(20).ToList()), fullMedian = Median(full), resumedMedian = Median(resumed);
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"TLS handshake on a new connection, median of {count} interleaved: ParleyClient (resuming) {parley:0.000} ms; SslStream alone: full (AllowTlsResume = false) {fullMedian:0.000} ms, resumed {resumedMedian:0.000} ms ({fullMedian - resumedMedian:0.000} ms saved)"));
    }

    private static SslClientAuthenticationOptions? s_resuming, s_full;

    /// <summary>One exchange over a new connection (as ParleyClient's: the TLS 1.3 ticket comes with the response); returns the handshake's ms.</summary>
    private static async Task<double> SslStreamExchangeAsync(Uri uri, X509Certificate2 root, bool allowResume)
    {
        // One options object per kind, as ParleyClient keeps one per origin.
        SslClientAuthenticationOptions options = allowResume ? s_resuming ??= Make(true) : s_full ??= Make(false);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, uri.Port);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        long start = Stopwatch.GetTimestamp();
        await ssl.AuthenticateAsClientAsync(options);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        await ssl.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET /plaintext HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n\r\n"));
        byte[] buffer = new byte[4096];
        while (await ssl.ReadAsync(buffer) > 0)
        {
        }
        return ms;

        SslClientAuthenticationOptions Make(bool resume) => new()
        {
            TargetHost = uri.Host,
            AllowTlsResume = resume,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { root }, RevocationMode = X509RevocationMode.NoCheck },
        };
    }

    private static double Median(List<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed class HandshakeTimer : ISessionObserver
    {
        private long _started;

        public List<double> Durations { get; } = [];

        public void OnEvent(in SessionEvent e)
        {
            if (e.Kind == SessionEventKind.TlsHandshakeStarting) _started = e.Timestamp;
            else if (e.Kind == SessionEventKind.TlsHandshakeDone) Durations.Add(Stopwatch.GetElapsedTime(_started, e.Timestamp).TotalMilliseconds);
        }
    }
}

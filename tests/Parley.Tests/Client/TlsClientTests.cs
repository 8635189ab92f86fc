using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary>The client over https against Python's ssl-wrapped http.server, with the shared test certificates.</summary>
public sealed class TlsClientTests(PythonTlsServers servers) : IClassFixture<PythonTlsServers>
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static ParleyClientOptions Trusting(TransportKind transport = TransportKind.Sockets, ISessionObserver? observer = null)
    {
        var options = new ParleyClientOptions { Transport = transport, Observer = observer };
        options.ExtraTrustedRoots.ImportFromPemFile(TestCertificates.CaBundlePath);
        return options;
    }

    /// <summary>Records each TLS session the client reports.</summary>
    private sealed class TlsObserver : ISessionObserver
    {
        public List<TlsSessionInfo> Sessions { get; } = [];
        public List<SessionEventKind> Kinds { get; } = [];

        public void OnEvent(in SessionEvent e)
        {
            lock (Kinds)
            {
                Kinds.Add(e.Kind);
                if (e.Tls is { } tls) Sessions.Add(tls);
            }
        }
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Gets_over_https_trusting_the_test_ca_and_reuses_the_tls_connection(TransportKind transport)
    {
        var observer = new TlsObserver();
        using var client = new ParleyClient(Trusting(transport, observer));

        string first = await client.GetStringAsync(servers.Url("good") + "one", Test);
        string second = await client.GetStringAsync(servers.Url("good") + "two", Test);

        Assert.StartsWith("good /one client= port=", first);
        Assert.StartsWith("good /two client= port=", second);
        // Same client port: the second request went over the same TLS connection.
        Assert.Equal(first.Split(' ')[3], second.Split(' ')[3]);
        Assert.Equal(1, client.ConnectionCount);
        TlsSessionInfo session = Assert.Single(observer.Sessions);
        Assert.Equal(SslProtocols.Tls13, session.Protocol);
        Assert.Equal("http/1.1", session.ApplicationProtocol);
        Assert.Equal("localhost", session.TargetHost);
        Assert.Equal(TestCertificates.Server.Certificate.Thumbprint, session.ServerCertificate!.Thumbprint);
        Assert.Equal(
            [SessionEventKind.Resolving, SessionEventKind.Resolved, SessionEventKind.Connecting, SessionEventKind.TlsHandshakeStarting,
             SessionEventKind.TlsHandshakeDone, SessionEventKind.Connected],
            observer.Kinds.Take(6));
    }

    [Fact]
    public async Task Verifies_an_ip_address_url_against_the_certificates_ip_names()
    {
        using var client = new ParleyClient(Trusting());
        Assert.StartsWith("good /ip", await client.GetStringAsync(servers.Url("good", "127.0.0.1") + "ip", Test));
    }

    [Theory]
    [InlineData("expired", ParleyErrorKind.CertificateNotTimeValid, "('localhost') expired on ")]
    [InlineData("not-yet-valid", ParleyErrorKind.CertificateNotTimeValid, "('localhost') is not valid until ")]
    [InlineData("wrong-host", ParleyErrorKind.CertificateNameMismatch, "is for 'wrong.parley.test', not 'localhost'")]
    [InlineData("self-signed", ParleyErrorKind.CertificateUntrusted, "('localhost') is self-signed and not trusted")]
    public async Task Refuses_each_bad_certificate_with_its_own_kind_and_message(string listener, ParleyErrorKind kind, string message)
    {
        using var client = new ParleyClient(Trusting());
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync(servers.Url(listener), Test).AsTask());
        Assert.Equal(kind, ex.Kind);
        Assert.Contains(message, ex.Message);
        Assert.StartsWith("the certificate of localhost ", ex.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Refuses_a_certificate_from_a_ca_only_trusted_when_configured()
    {
        using var client = new ParleyClient();
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync(servers.Url("good"), Test).AsTask());
        Assert.Equal(ParleyErrorKind.CertificateUntrusted, ex.Kind);
        Assert.Contains("is issued by 'CN=Parley Test CA, O=Parley tests', which is not a trusted root", ex.Message);
    }

    [Fact]
    public async Task A_validation_callback_decides_and_sees_the_errors()
    {
        SslPolicyErrors seen = SslPolicyErrors.None;
        var options = new ParleyClientOptions
        {
            ServerCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                seen = errors;
                return certificate!.GetCertHashString() == TestCertificates.SelfSigned.Certificate.Thumbprint;
            },
        };
        using var client = new ParleyClient(options);
        Assert.StartsWith("self-signed /pinned", await client.GetStringAsync(servers.Url("self-signed") + "pinned", Test));
        Assert.Equal(SslPolicyErrors.RemoteCertificateChainErrors, seen);

        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync(servers.Url("wrong-host"), Test).AsTask());
        Assert.Equal(SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch, seen);
        Assert.Equal(ParleyErrorKind.CertificateUntrusted, ex.Kind);
    }

    [Fact]
    public async Task Names_the_lack_of_a_common_tls_version()
    {
        var options = Trusting();
        options.TlsProtocols = SslProtocols.Tls13;
        using var client = new ParleyClient(options);
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync(servers.Url("tls12"), Test).AsTask());
        Assert.Equal(ParleyErrorKind.TlsProtocolVersionMismatch, ex.Kind);
        Assert.Contains("no TLS version in common with localhost port", ex.Message);

        // The same server is fine when TLS 1.2 is allowed.
        using var lenient = new ParleyClient(Trusting());
        Assert.StartsWith("tls12 /", await lenient.GetStringAsync(servers.Url("tls12"), Test));
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_stalled_handshake_times_out_as_such(TransportKind transport)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var options = Trusting(transport);
        options.TlsHandshakeTimeout = TimeSpan.FromMilliseconds(300);
        using var client = new ParleyClient(options);

        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync($"https://localhost:{port}/", Test).AsTask());
        Assert.Equal(ParleyErrorKind.TlsHandshakeTimeout, ex.Kind);
        Assert.Contains("timed out after 300 ms", ex.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Sends_the_client_certificate_when_the_server_requires_one()
    {
        var options = Trusting();
        options.ClientCertificate = TestCertificates.Client.Certificate;
        using var client = new ParleyClient(options);
        Assert.StartsWith("client-cert / client=parley-test-client ", await client.GetStringAsync(servers.Url("client-cert"), Test));

        // Without one the server ends the connection (in TLS 1.3 after the client's side of the handshake).
        using var anonymous = new ParleyClient(Trusting());
        await Assert.ThrowsAsync<ParleyHttpException>(() => anonymous.GetStringAsync(servers.Url("client-cert"), Test).AsTask());
    }

    [Fact]
    public async Task An_https_to_http_redirect_is_followed_without_the_credentials()
    {
        var options = Trusting();
        options.FollowRedirects = true;
        using var client = new ParleyClient(options);
        string plain = $"http://127.0.0.1:{servers.Port("plain")}/landed";

        var down = ParleyRequest.Get($"{servers.Url("good")}redirect?to={Uri.EscapeDataString(plain)}");
        down.Headers.Add("Authorization", "Bearer secret");
        using (ParleyResponse response = await client.SendAsync(down, Test))
        {
            string body = await response.ReadAsStringAsync(Test);
            Assert.StartsWith("plain /landed ", body);
            Assert.EndsWith("auth=None\n", body);
            Assert.Equal(new Uri(plain), response.RequestUri);
            Assert.Equal(1, response.RedirectCount);
        }

        // Within the https origin the credentials stay.
        var same = ParleyRequest.Get($"{servers.Url("good")}redirect?to={Uri.EscapeDataString(servers.Url("good") + "kept")}");
        same.Headers.Add("Authorization", "Bearer secret");
        Assert.EndsWith("auth=Bearer secret\n", await GetBodyAsync(client, same));

        // http -> https is followed too (another origin, so without the credentials).
        var up = ParleyRequest.Get($"http://127.0.0.1:{servers.Port("plain")}/redirect?to={Uri.EscapeDataString(servers.Url("good") + "up")}");
        up.Headers.Add("Authorization", "Bearer secret");
        string upBody = await GetBodyAsync(client, up);
        Assert.StartsWith("good /up ", upBody);
        Assert.EndsWith("auth=None\n", upBody);
    }

    private static async Task<string> GetBodyAsync(ParleyClient client, ParleyRequest request)
    {
        using ParleyResponse response = await client.SendAsync(request, Test);
        return await response.ReadAsStringAsync(Test);
    }

    [Fact]
    public async Task HttpClient_over_ParleyHandler_speaks_https_and_reports_a_bad_certificate()
    {
        using var http = new HttpClient(new ParleyHandler(Trusting()));
        Assert.StartsWith("good /handler", await http.GetStringAsync(servers.Url("good") + "handler", Test));

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync(servers.Url("expired"), Test));
        Assert.Equal(ParleyErrorKind.CertificateNotTimeValid, Assert.IsType<ParleyHttpException>(ex.InnerException).Kind);
        Assert.Equal(HttpRequestError.SecureConnectionError, ex.HttpRequestError);
    }
}

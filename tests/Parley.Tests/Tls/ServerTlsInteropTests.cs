using System.Text;
using Parley.Server;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// The server's TLS listeners against real TLS clients on loopback: <c>openssl s_client</c> (versions,
/// ALPN, SNI, client certificate requests) and <c>curl --cacert</c> (verification and keep-alive reuse).
/// </summary>
public class ServerTlsInteropTests : TransportTests
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    private static ValueTask DescribeSession(HttpRequest request, HttpResponse response)
    {
        TlsSession tls = request.TlsSession!;
        response.WriteText($"{request.Scheme} {tls.ProtocolName} alpn={tls.ApplicationProtocol} client={tls.ClientCertificate?.Subject} n={request.RequestNumberOnConnection}\n");
        return ValueTask.CompletedTask;
    }

    private Task<TestServer> StartTlsAsync(Action<ServerTlsOptions>? tls = null) =>
        StartAsync(DescribeSession, options =>
        {
            ServerTlsOptions tlsOptions = TestServer.TestTlsOptions();
            tls?.Invoke(tlsOptions);
            options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, tlsOptions));
        });

    // s_client sends the request, keeps reading after its input ends (-ign_eof) until the server closes.
    private static Task<ToolResult> SClientAsync(int port, params string[] extra) =>
        ExternalTool.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", TestCertificates.CaBundlePath, "-ign_eof", .. extra],
            ToolTimeout, stdin: Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));

    [Theory]
    [InlineData("-tls1_3", "TLSv1.3")]
    [InlineData("-tls1_2", "TLSv1.2")]
    public async Task Openssl_negotiates_tls_1_3_and_1_2_with_alpn_http_1_1(string versionFlag, string version)
    {
        await using var server = await StartTlsAsync();
        ToolResult result = (await SClientAsync(server.Port, versionFlag, "-alpn", "http/1.1", "-servername", "localhost")).EnsureSuccess();
        string all = result.StdOut + result.StdErr;
        Assert.Contains($"Protocol  : {version}", all);
        Assert.Contains("ALPN protocol: http/1.1", all);
        Assert.Contains("Verify return code: 0 (ok)", all);
        Assert.Contains("HTTP/1.1 200 OK", all);
        Assert.Contains($"https {version} alpn=http/1.1 client= n=1", all);
        // No certificate request unless configured.
        Assert.DoesNotContain("Requested Signature Algorithms", all);
    }

    [Theory]
    [InlineData("-tls1_1")]
    [InlineData("-tls1")]
    public async Task Openssl_is_refused_tls_1_1_and_older(string versionFlag)
    {
        await using var server = await StartTlsAsync();
        // SECLEVEL=0 lets this OpenSSL offer the old version at all: the refusal must come from the server.
        ToolResult result = await SClientAsync(server.Port, versionFlag, "-cipher", "DEFAULT@SECLEVEL=0");
        Assert.NotEqual(0, result.ExitCode);
        string all = result.StdOut + result.StdErr;
        Assert.DoesNotContain("HTTP/1.1 200", all);
        Assert.Contains("alert protocol version", all);
    }

    [Fact]
    public async Task Openssl_sni_picks_the_certificate_for_the_name_asked_for()
    {
        await using var server = await StartTlsAsync(tls =>
            tls.CertificatesByHostName[TestCertificates.WrongHostName] = ServerCertificate.FromCertificate(TestCertificates.WrongHost.Certificate));
        ToolResult named = (await SClientAsync(server.Port, "-servername", TestCertificates.WrongHostName)).EnsureSuccess();
        Assert.Contains($"subject=CN = {TestCertificates.WrongHostName}", named.StdOut);
        ToolResult other = (await SClientAsync(server.Port, "-servername", "localhost")).EnsureSuccess();
        Assert.Contains("subject=CN = localhost", other.StdOut);
    }

    [Fact]
    public async Task Openssl_is_asked_for_a_client_certificate_when_configured_and_the_request_sees_it()
    {
        await using var server = await StartTlsAsync(tls =>
        {
            tls.ClientCertificateMode = ClientCertificateMode.Allowed;
            tls.ClientCertificateValidation = (certificate, _, _) => certificate is null || certificate.Issuer == TestCertificates.Ca.Certificate.Subject;
        });
        ToolResult without = (await SClientAsync(server.Port, "-tls1_3")).EnsureSuccess();
        Assert.Contains("Requested Signature Algorithms", without.StdOut);
        Assert.Contains("client= n=1", without.StdOut);

        TestCertificateFiles client = TestCertificates.WriteFiles(TestCertificates.Client);
        ToolResult with = (await SClientAsync(server.Port, "-tls1_3", "-cert", client.CertificatePath, "-key", client.KeyPath)).EnsureSuccess();
        Assert.Contains("client=CN=parley-test-client n=1", with.StdOut);
    }

    [Fact]
    public async Task Curl_verifies_the_certificate_with_cacert_and_reuses_the_connection()
    {
        await using var server = await StartTlsAsync();
        string url = $"https://localhost:{server.Port}/";
        ToolResult result = (await ExternalTool.RunAsync("curl", ["-sS", "-v", "--cacert", TestCertificates.CaBundlePath, url, url, url], ToolTimeout)).EnsureSuccess();
        // One TLS connection carried all three requests.
        Assert.Equal("https TLSv1.3 alpn=http/1.1 client= n=1\nhttps TLSv1.3 alpn=http/1.1 client= n=2\nhttps TLSv1.3 alpn=http/1.1 client= n=3\n", result.StdOut);
        Assert.Contains("SSL certificate verify ok", result.StdErr);
    }

    [Fact]
    public async Task Curl_without_the_ca_refuses_the_server()
    {
        await using var server = await StartTlsAsync();
        ToolResult result = await ExternalTool.RunAsync("curl", ["-sS", $"https://localhost:{server.Port}/"], ToolTimeout);
        // curl 60: the peer's certificate could not be verified against the known CAs.
        Assert.Equal(60, result.ExitCode);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollServerTlsInteropTests : ServerTlsInteropTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

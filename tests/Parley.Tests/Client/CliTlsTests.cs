using System.Net;
using System.Net.Sockets;
using Parley.Tests.Interop;
using Parley.Tests.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary><c>parley get</c> over https (the built CLI as a process) against Python's ssl-wrapped http.server.</summary>
public sealed class CliTlsTests(PythonTlsServers servers) : IClassFixture<PythonTlsServers>
{
    private static Task<ToolResult> RunAsync(params string[] args) => CliTests.RunAsync(args);

    private static string CaBundle => TestCertificates.CaBundlePath;

    [Fact]
    public async Task Verbose_shows_the_tls_phase_and_the_handshake_column_of_the_timing_line()
    {
        ToolResult result = await RunAsync("get", "-v", "--cacert", CaBundle, servers.Url("good") + "cli");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("good /cli ", result.StdOut);
        var certificate = TestCertificates.Server.Certificate;
        string[] lines = result.StdErr.Split('\n');
        int Line(string text) => Array.FindIndex(lines, l => l == text);
        int tcp = Line($"* TCP connected to 127.0.0.1 port {servers.Port("good")}; TLS handshake ...");
        int tls = Array.FindIndex(lines, l => l.StartsWith("* TLS: TLSv1.3, TLS_", StringComparison.Ordinal) && l.EndsWith(", ALPN http/1.1", StringComparison.Ordinal));
        int subject = Line("* Server certificate: subject CN=localhost");
        int names = Line("*   names: localhost, 127.0.0.1, ::1");
        int issuer = Line("*   issuer: CN=Parley Test CA, O=Parley tests");
        int valid = Line($"*   valid: {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC to {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC");
        int fingerprint = Line($"*   SHA-256 fingerprint: {TestCertificates.Server.Sha256Hex}");
        int connected = Array.FindIndex(lines, l => l.StartsWith("* Connected to localhost (127.0.0.1 port ", StringComparison.Ordinal));
        int request = Line("> GET /cli HTTP/1.1");
        Assert.True(tcp >= 0 && tcp < tls && tls < subject && subject < names && names < issuer && issuer < valid
            && valid < fingerprint && fingerprint < connected && connected < request, result.StdErr);
        string timing = Assert.Single(lines, l => l.StartsWith("* Timing:", StringComparison.Ordinal));
        Assert.Matches(@"^\* Timing: DNS [\d.]+ ms, connect [\d.]+ ms, TLS [\d.]+ ms, request sent [\d.]+ ms, first byte", timing);
    }

    [Theory]
    [InlineData("expired", 8, "the certificate of localhost ('localhost') expired on ")]
    [InlineData("not-yet-valid", 8, "the certificate of localhost ('localhost') is not valid until ")]
    [InlineData("wrong-host", 9, "the certificate of localhost is for 'wrong.parley.test', not 'localhost'")]
    [InlineData("self-signed", 10, "the certificate of localhost ('localhost') is self-signed and not trusted (trust its CA with --cacert FILE, or skip verification with -k)")]
    public async Task Each_bad_certificate_gets_one_line_and_its_own_exit_code(string listener, int exitCode, string message)
    {
        ToolResult result = await RunAsync("get", "--cacert", CaBundle, servers.Url(listener));
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.StartsWith("parley: " + message, result.StdErr);
        Assert.Single(result.StdErr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Without_cacert_the_test_ca_is_untrusted_and_insecure_skips_verification_with_a_warning()
    {
        ToolResult untrusted = await RunAsync("get", servers.Url("good"));
        Assert.Equal(10, untrusted.ExitCode);
        Assert.StartsWith("parley: the certificate of localhost ('localhost') is issued by 'CN=Parley Test CA, O=Parley tests', which is not a trusted root", untrusted.StdErr);

        ToolResult insecure = await RunAsync("get", "-k", servers.Url("self-signed") + "k");
        Assert.Equal(0, insecure.ExitCode);
        Assert.StartsWith("self-signed /k ", insecure.StdOut);
        Assert.Equal("parley: warning: --insecure: the server's certificate is not verified, so anyone on the path can impersonate the server", insecure.StdErr.Trim());
    }

    [Fact]
    public async Task Names_a_missing_common_version_a_plain_http_server_and_a_stalled_handshake()
    {
        // The tls12 listener is fine for a client that allows TLS 1.2 (the default)...
        Assert.Equal(0, (await RunAsync("get", "--cacert", CaBundle, servers.Url("tls12"))).ExitCode);

        // ...a plain HTTP server on an https URL (Parley's own server answers a ClientHello with a plain 400)...
        await using (var plain = await TestServer.StartAsync((_, response) => { response.WriteText("plain"); return ValueTask.CompletedTask; }))
        {
            ToolResult result = await RunAsync("get", $"https://127.0.0.1:{plain.Port}/");
            Assert.Equal(13, result.ExitCode);
            Assert.StartsWith($"parley: 127.0.0.1 port {plain.Port} answered plain HTTP ('HTTP/1.1 400 Bad...'), not TLS", result.StdErr);
        }

        // ...and a server that accepts and says nothing.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        // The whole exchange has 3 s: time enough to connect on a busy machine, so the handshake is what stalls.
        ToolResult stalled = await RunAsync("get", "--timeout", "3", $"https://localhost:{port}/");
        Assert.Equal(14, stalled.ExitCode);
        Assert.StartsWith($"parley: TLS handshake with localhost port {port} timed out after ", stalled.StdErr);
    }

    [Fact]
    public async Task Sends_a_client_certificate_from_cert_and_key_files()
    {
        var client = TestCertificates.WriteFiles(TestCertificates.Client);
        ToolResult result = await RunAsync("get", "--cacert", CaBundle, "--cert", client.CertificatePath, "--key", client.KeyPath, servers.Url("client-cert"));
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("client-cert / client=parley-test-client ", result.StdOut);

        ToolResult missingKey = await RunAsync("get", "--cert", client.CertificatePath, servers.Url("client-cert"));
        Assert.Equal(2, missingKey.ExitCode);
        Assert.StartsWith($"parley: --cert {client.CertificatePath}: needs a PEM certificate and its private key", missingKey.StdErr);

        ToolResult noFile = await RunAsync("get", "--cacert", "/nonexistent/ca.pem", servers.Url("good"));
        Assert.Equal(2, noFile.ExitCode);
        Assert.StartsWith("parley: --cacert wants an existing file, not '/nonexistent/ca.pem' (no such file)", noFile.StdErr);
        Assert.Single(noFile.StdErr.Trim().Split('\n')); // one line
    }

    [Fact]
    public async Task Help_lists_the_tls_exit_codes()
    {
        ToolResult help = await RunAsync("get", "--help");
        Assert.Contains("8 server certificate expired or not yet valid", help.StdOut);
        Assert.Contains("14 TLS handshake timed out", help.StdOut);
        Assert.Contains("--cacert", help.StdOut);
        Assert.Contains("-k, --insecure", help.StdOut);
    }
}

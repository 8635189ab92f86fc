using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Parley.Tests.Interop;
using Parley.Tests.Tls;

namespace Parley.Tests.Cli;

/// <summary>
/// <c>parley serve --https</c> as a real process: the development certificate (made once, reused, printed
/// with its fingerprint), curl and headless Chromium over HTTPS, HSTS, and the HTTP→HTTPS redirect listener.
/// </summary>
public sealed class ServeHttpsTests : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    // The user's data folder of the server processes: the development certificate goes there, not into $HOME.
    private readonly string _dataHome = Directory.CreateTempSubdirectory("parley-serve-https-").FullName;

    public void Dispose() => Directory.Delete(_dataHome, recursive: true);

    private string DevelopmentCertificatePath => Path.Combine(_dataHome, "parley", "dev-cert", "localhost.pem");

    private async Task<RunningTool> StartAsync(int port, params string[] extra)
    {
        RunningTool server = ExternalTool.Start("dotnet", [CliAssembly, "serve", "--https", "--port", port.ToString(), .. extra],
            environment: new Dictionary<string, string?> { ["XDG_DATA_HOME"] = _dataHome });
        await server.WaitForPortAsync(port, ToolTimeout);
        // The certificate lines follow the listening line; wait for the last one.
        var clock = Stopwatch.StartNew();
        while (!server.StdOut.Contains("https://localhost:") && !server.StdOut.Contains("Certificate: ") && clock.Elapsed < ToolTimeout) await Task.Delay(50);
        return server;
    }

    private static string Fingerprint(string output) => Regex.Match(output, "SHA-256 fingerprint: ([0-9A-F:]+)").Groups[1].Value;

    [Fact]
    public async Task The_development_certificate_is_made_once_printed_and_trusted_by_curl_with_cacert()
    {
        int port = Loopback.FreePort();
        string firstFingerprint;
        await using (RunningTool server = await StartAsync(port, "--quiet"))
        {
            Assert.Contains($"listening on https://127.0.0.1:{port}/", server.StdOut);
            Assert.Contains($"Development certificate (made now, self-signed for localhost, 127.0.0.1 and ::1", server.StdOut);
            Assert.Contains(DevelopmentCertificatePath, server.StdOut);
            Assert.Contains($"curl --cacert {DevelopmentCertificatePath} https://localhost:{port}/", server.StdOut);
            firstFingerprint = Fingerprint(server.StdOut);
            using X509Certificate2 onDisk = X509CertificateLoader.LoadCertificateFromFile(DevelopmentCertificatePath);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(onDisk.RawData)), firstFingerprint.Replace(":", ""));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.ChangeExtension(DevelopmentCertificatePath, ".key")));

            string url = $"https://localhost:{port}/";
            ToolResult result = (await ExternalTool.RunAsync("curl", ["-sS", "-D", "-", "--cacert", DevelopmentCertificatePath, url, url], ToolTimeout)).EnsureSuccess();
            Assert.Contains("HTTP/1.1 200 OK", result.StdOut);
            // The walkthrough's HSTS field, over TLS.
            Assert.Contains("Strict-Transport-Security: max-age=31536000; includeSubDomains", result.StdOut);
            // The page shows the TLS session beside the raw request, and the second request reused the connection.
            Assert.Matches(@"Over TLS: TLSv1\.3, cipher suite TLS_\w+, SNI localhost, ALPN http/1\.1\.", result.StdOut);
            Assert.Contains("Request #2 on this TCP connection", result.StdOut);
        }
        // A second run reuses the certificate.
        await using (RunningTool again = await StartAsync(port, "--quiet"))
        {
            Assert.Contains("Development certificate (reused", again.StdOut);
            Assert.Equal(firstFingerprint, Fingerprint(again.StdOut));
        }
    }

    [Fact]
    public async Task The_redirect_listener_sends_curl_to_https_and_curl_L_follows_it()
    {
        int port = Loopback.FreePort(), plainPort = Loopback.FreePort();
        await using RunningTool server = await StartAsync(port, "--redirect-http", plainPort.ToString());
        await server.WaitForPortAsync(plainPort, ToolTimeout);
        Assert.Contains($"Redirecting http://127.0.0.1:{plainPort}/ to HTTPS", server.StdOut);

        ToolResult redirect = (await ExternalTool.RunAsync("curl", ["-sS", "-D", "-", "-o", "/dev/null", $"http://localhost:{plainPort}/contact?x=1"], ToolTimeout)).EnsureSuccess();
        Assert.Contains("HTTP/1.1 301 Moved Permanently", redirect.StdOut);
        Assert.Contains($"Location: https://localhost:{port}/contact?x=1", redirect.StdOut);
        // Never HSTS over plain HTTP (RFC 6797 §7.2).
        Assert.DoesNotContain("Strict-Transport-Security", redirect.StdOut);

        ToolResult followed = (await ExternalTool.RunAsync("curl",
            ["-sS", "-L", "--cacert", DevelopmentCertificatePath, "-o", "/dev/null", "-w", "%{http_code} %{url_effective} %{num_redirects}", $"http://localhost:{plainPort}/contact"], ToolTimeout)).EnsureSuccess();
        Assert.Equal($"200 https://localhost:{port}/contact 1", followed.StdOut);

        ToolResult post = (await ExternalTool.RunAsync("curl", ["-sS", "-D", "-", "-o", "/dev/null", "-d", "a=1", $"http://localhost:{plainPort}/contact_form.php"], ToolTimeout)).EnsureSuccess();
        Assert.Contains("HTTP/1.1 308 Permanent Redirect", post.StdOut);
    }

    [Fact]
    public async Task Given_pem_files_serve_uses_them()
    {
        TestCertificateFiles files = TestCertificates.WriteFiles(TestCertificates.Server);
        int port = Loopback.FreePort();
        await using RunningTool server = await StartAsync(port, "--cert", files.CertificatePath, "--key", files.KeyPath, "--quiet");
        Assert.Contains($"Certificate: {files.CertificatePath}", server.StdOut);
        Assert.False(File.Exists(DevelopmentCertificatePath));
        ToolResult result = (await ExternalTool.RunAsync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", TestCertificates.CaBundlePath, $"https://localhost:{port}/"], ToolTimeout)).EnsureSuccess();
        Assert.Equal("200", result.StdOut);
    }

    [Fact]
    public async Task Certificate_options_without_https_or_a_bad_key_fail_with_exit_2()
    {
        TestCertificateFiles files = TestCertificates.WriteFiles(TestCertificates.Server);
        ToolResult withoutHttps = await ExternalTool.RunAsync("dotnet", [CliAssembly, "serve", "--cert", files.CertificatePath, "--key", files.KeyPath], ToolTimeout);
        Assert.Equal(2, withoutHttps.ExitCode);
        Assert.Contains("go with --https", withoutHttps.StdErr);
        TestCertificateFiles other = TestCertificates.WriteFiles(TestCertificates.SelfSigned);
        ToolResult mismatched = await ExternalTool.RunAsync("dotnet", [CliAssembly, "serve", "--https", "--port", "0", "--cert", files.CertificatePath, "--key", other.KeyPath], ToolTimeout);
        Assert.Equal(2, mismatched.ExitCode);
        Assert.StartsWith("parley: cannot load the certificate:", mismatched.StdErr.Trim());
    }

    [Fact]
    public async Task Chromium_loads_the_demo_over_https_trusting_the_development_key_and_follows_the_redirect()
    {
        int port = Loopback.FreePort(), plainPort = Loopback.FreePort();
        await using RunningTool server = await StartAsync(port, "--redirect-http", plainPort.ToString(), "--quiet");
        await server.WaitForPortAsync(plainPort, ToolTimeout);
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(DevelopmentCertificatePath);
        string spki = Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

        using var doc = await BrowserDriver.RunTrustingAsync("page", spki, $"http://localhost:{plainPort}/");
        var root = doc.RootElement;
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal($"https://localhost:{port}/", root.GetProperty("url").GetString());
        Assert.Equal("max-age=31536000; includeSubDomains", root.GetProperty("headers").GetProperty("strict-transport-security").GetString());
        Assert.Matches(@"Over TLS: TLSv1\.3, cipher suite TLS_\w+, SNI localhost, ALPN http/1\.1\.", root.GetProperty("bodyText").GetString());
        // Every request of the page (the stylesheet too) went over HTTPS and succeeded.
        foreach (var request in root.GetProperty("requests").EnumerateArray())
        {
            string url = request.GetProperty("url").GetString()!;
            if (url.StartsWith($"http://localhost:{plainPort}/", StringComparison.Ordinal)) continue;
            Assert.StartsWith($"https://localhost:{port}/", url);
            Assert.InRange(request.GetProperty("status").GetInt32(), 200, 399);
        }
    }
}

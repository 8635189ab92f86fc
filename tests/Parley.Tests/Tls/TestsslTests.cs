using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Parley.Server;
using Parley.Tests.Interop;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// testssl.sh (Debian package <c>testssl.sh</c>) grades a TLS listener, bounded in time: no finding rated
/// HIGH or CRITICAL. The certificate is signed by the test CA (given to testssl with <c>--add-ca</c>) and
/// names a CRL distribution point, as a real certificate does: the grade is of the server, not of a
/// self-signed test certificate.
/// </summary>
public class TestsslTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    private static X509Certificate2 CertificateWithRevocationInfo()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(TestCertificates.Ca.Certificate, true, false));
        request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension(["http://crl.parley.test/ca.crl"]));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using X509Certificate2 signed = request.Create(TestCertificates.Ca.Certificate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(60), serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    [Fact]
    public async Task Testssl_finds_nothing_rated_high_or_critical()
    {
        var tls = new ServerTlsOptions { Certificate = ServerCertificate.FromCertificate(CertificateWithRevocationInfo()) };
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText("ok");
            return default;
        }, options =>
        {
            options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, tls));
            options.StrictTransportSecurity = new StrictTransportSecurityOptions { MaxAge = TimeSpan.FromDays(365) };
        });
        string json = Path.Combine(Path.GetTempPath(), $"parley-testssl-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            // --sneaky: a browser-like user agent; --warnings off: no questions (no stdin in CI).
            ToolResult result = await ExternalTool.RunAsync("testssl",
                ["--quiet", "--color", "0", "--warnings", "off", "--sneaky", "--add-ca", TestCertificates.CaBundlePath, "--jsonfile", json, $"127.0.0.1:{server.Port}"], Limit);
            Assert.True(File.Exists(json), $"testssl wrote no findings (exit {result.ExitCode}):\n{ToolResult.Tail(result.StdOut)}\n{ToolResult.Tail(result.StdErr)}");
            using JsonDocument findings = JsonDocument.Parse(File.ReadAllText(json));
            var severe = findings.RootElement.EnumerateArray()
                .Where(f => f.GetProperty("severity").GetString() is "HIGH" or "CRITICAL")
                .Select(f => $"{f.GetProperty("severity").GetString()} {f.GetProperty("id").GetString()}: {f.GetProperty("finding").GetString()}")
                .ToList();
            Assert.True(severe.Count == 0, "testssl rated these HIGH or CRITICAL:\n" + string.Join("\n", severe));
            // It did grade the server: protocols were tested.
            Assert.Contains(findings.RootElement.EnumerateArray(), f => f.GetProperty("id").GetString() == "TLS1_3" && f.GetProperty("finding").GetString()!.StartsWith("offered", StringComparison.Ordinal));
            Assert.Contains(findings.RootElement.EnumerateArray(), f => f.GetProperty("id").GetString() == "TLS1_1" && f.GetProperty("finding").GetString() == "not offered");
        }
        finally
        {
            File.Delete(json);
        }
    }
}

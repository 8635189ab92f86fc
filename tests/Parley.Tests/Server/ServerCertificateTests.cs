using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Server;

/// <summary>
/// Server certificates made from objects and files, and what a TLS listener does when their files change:
/// the arguments refused, a new certificate taken, a broken or missing file reported with the previous
/// certificate kept, and the listener's own checks of its options. The reloads are driven by calling the
/// listener's reload directly (the server's heartbeat calls it once a second), so no test waits on a timer.
/// </summary>
public sealed class ServerCertificateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("parley-server-certificate-").FullName;
    private readonly List<string> _errors = [];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Log(string message, Exception? exception)
    {
        lock (_errors) _errors.Add(message);
    }

    private string CertificatePath => Path.Combine(_directory, "cert.pem");

    private string KeyPath => Path.Combine(_directory, "key.pem");

    // Writes a certificate's PEM files; each write moves the modification time on, so that the change is seen
    // however coarse the file system's clock.
    private int _writes;

    private void WritePem(TestCertificate certificate, string? key = null)
    {
        File.WriteAllText(CertificatePath, certificate.CertificatePem);
        File.WriteAllText(KeyPath, key ?? certificate.KeyPem);
        DateTime stamp = DateTime.UtcNow.AddMinutes(++_writes);
        File.SetLastWriteTimeUtc(CertificatePath, stamp);
        File.SetLastWriteTimeUtc(KeyPath, stamp);
    }

    private static string Sha256(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    // What a handshake for hostName would present, by the options the listener hands SslStream.
    private static string Presented(TlsListener listener, string? hostName = "localhost") =>
        Sha256(listener.OptionsFor(hostName).ServerCertificateContext!.TargetCertificate);

    [Fact]
    public void A_certificate_object_is_refused_when_null_or_without_its_private_key()
    {
        Assert.Throws<ArgumentNullException>("certificate", () => ServerCertificate.FromCertificate(null!));
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(TestCertificates.Server.Certificate.RawData);
        var ex = Assert.Throws<ArgumentException>("certificate", () => ServerCertificate.FromCertificate(publicOnly));
        Assert.StartsWith("the certificate has no private key", ex.Message);
    }

    [Fact]
    public void A_pkcs12_file_without_a_private_key_is_refused_naming_the_file()
    {
        string path = Path.Combine(_directory, "no-key.pfx");
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(TestCertificates.Server.Certificate.RawData);
        File.WriteAllBytes(path, publicOnly.Export(X509ContentType.Pkcs12, "pass"));

        var ex = Assert.Throws<CryptographicException>(() => ServerCertificate.FromPfxFile(path, "pass"));

        Assert.Equal($"{path} holds no certificate with a private key", ex.Message);
    }

    [Fact]
    public void Changed_files_are_loaded_and_presented_by_the_next_handshake()
    {
        WritePem(TestCertificates.Server);
        var listener = new TlsListener(new ServerTlsOptions { Certificate = ServerCertificate.FromPemFiles(CertificatePath, KeyPath) });
        Assert.Equal(TestCertificates.Server.Sha256Hex, Presented(listener));

        WritePem(TestCertificates.SelfSigned);
        listener.ReloadChangedCertificates(Log);

        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Presented(listener));
        Assert.Empty(_errors);
    }

    [Fact]
    public void Files_are_not_reloaded_when_reloading_is_turned_off()
    {
        WritePem(TestCertificates.Server);
        var listener = new TlsListener(new ServerTlsOptions
        {
            Certificate = ServerCertificate.FromPemFiles(CertificatePath, KeyPath),
            ReloadCertificateFiles = false,
        });

        WritePem(TestCertificates.SelfSigned);
        listener.ReloadChangedCertificates(Log);

        Assert.Equal(TestCertificates.Server.Sha256Hex, Presented(listener));
    }

    [Fact]
    public void A_certificate_a_selector_returned_is_reloaded_too()
    {
        WritePem(TestCertificates.Server);
        var chosen = ServerCertificate.FromPemFiles(CertificatePath, KeyPath);
        var listener = new TlsListener(new ServerTlsOptions
        {
            Certificate = ServerCertificate.FromCertificate(TestCertificates.WrongHost.Certificate),
            CertificateSelector = hostName => hostName == "chosen.parley.test" ? chosen : null,
        });
        Assert.Equal(TestCertificates.Server.Sha256Hex, Presented(listener, "chosen.parley.test"));

        WritePem(TestCertificates.SelfSigned);
        listener.ReloadChangedCertificates(Log);

        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Presented(listener, "chosen.parley.test"));
        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Sha256(chosen.Certificate));
    }

    [Fact]
    public void A_key_that_does_not_match_is_reported_and_the_previous_certificate_kept()
    {
        WritePem(TestCertificates.Server);
        var listener = new TlsListener(new ServerTlsOptions { Certificate = ServerCertificate.FromPemFiles(CertificatePath, KeyPath) });

        WritePem(TestCertificates.SelfSigned, key: TestCertificates.Server.KeyPem);
        listener.ReloadChangedCertificates(Log);

        string error = Assert.Single(_errors);
        Assert.StartsWith($"certificate {CertificatePath}, {KeyPath} changed but could not be loaded (keeping the previous one): ", error);
        Assert.Equal(TestCertificates.Server.Sha256Hex, Presented(listener));
    }

    [Fact]
    public void A_missing_key_file_is_reported_and_the_certificate_is_taken_once_the_files_are_back()
    {
        WritePem(TestCertificates.Server);
        var listener = new TlsListener(new ServerTlsOptions { Certificate = ServerCertificate.FromPemFiles(CertificatePath, KeyPath) });

        // A tool that removes the old files before it writes the new ones, seen in between.
        File.Delete(KeyPath);
        listener.ReloadChangedCertificates(Log);
        Assert.Contains("could not be loaded (keeping the previous one)", Assert.Single(_errors));
        Assert.Equal(TestCertificates.Server.Sha256Hex, Presented(listener));

        WritePem(TestCertificates.SelfSigned);
        listener.ReloadChangedCertificates(Log);
        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Presented(listener));
        Assert.Single(_errors);
    }

    private static ServerTlsOptions Options(Action<ServerTlsOptions> change)
    {
        ServerTlsOptions options = TestServer.TestTlsOptions();
        change(options);
        return options;
    }

    [Fact]
    public void A_listener_refuses_old_protocols_and_says_which_it_takes()
    {
#pragma warning disable SYSLIB0039 // TLS 1.1 named on purpose: the listener must refuse it
        var ex = Assert.Throws<ArgumentException>(() => new TlsListener(Options(o => o.EnabledProtocols = System.Security.Authentication.SslProtocols.Tls11)));
#pragma warning restore SYSLIB0039
        Assert.StartsWith("EnabledProtocols may hold only SslProtocols.Tls12 and SslProtocols.Tls13", ex.Message);
    }

    [Fact]
    public void A_listener_without_any_certificate_is_refused_saying_where_one_goes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TlsListener(new ServerTlsOptions()));
        Assert.StartsWith("a TLS listener needs a certificate (Certificate, CertificatesByHostName or CertificateSelector)", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_handshake_timeout_that_is_not_positive_is_refused(int seconds)
    {
        var ex = Assert.Throws<ArgumentException>(() => new TlsListener(Options(o => o.HandshakeTimeout = TimeSpan.FromSeconds(seconds))));
        Assert.StartsWith("HandshakeTimeout must be positive", ex.Message);
    }

    [Fact]
    public void A_wildcard_anywhere_but_the_whole_first_label_is_refused_naming_the_name()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TlsListener(Options(o =>
            o.CertificatesByHostName["a.*.parley.test"] = ServerCertificate.FromCertificate(TestCertificates.WrongHost.Certificate))));
        Assert.StartsWith("'a.*.parley.test': a wildcard may only be the whole first label (*.example.com)", ex.Message);
    }

    [Fact]
    public void A_name_with_an_empty_first_label_does_not_match_a_wildcard()
    {
        var wildcard = ServerCertificate.FromCertificate(TestCertificates.WrongHost.Certificate);
        var listener = new TlsListener(Options(o => o.CertificatesByHostName["*.wild.parley.test"] = wildcard));

        Assert.Same(wildcard, listener.Select("a.wild.parley.test"));
        Assert.NotSame(wildcard, listener.Select(".wild.parley.test"));
    }

    [Fact]
    public void A_handshake_for_a_name_without_a_certificate_fails_naming_the_name()
    {
        var listener = new TlsListener(new ServerTlsOptions
        {
            CertificatesByHostName = { ["only.parley.test"] = ServerCertificate.FromCertificate(TestCertificates.Server.Certificate) },
        });

        var ex = Assert.Throws<System.Security.Authentication.AuthenticationException>(() => listener.OptionsFor("else.parley.test"));

        Assert.Equal("no certificate for host name 'else.parley.test'", ex.Message);
    }
}

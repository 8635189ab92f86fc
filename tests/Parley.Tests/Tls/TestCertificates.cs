using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Parley.Tests.Tls;

/// <summary>
/// One certificate the tests made: the <see cref="X509Certificate2"/> with its private key (usable by
/// <c>SslStream</c> on either side), and the same certificate and key as PEM text for external tools.
/// </summary>
public sealed class TestCertificate
{
    internal TestCertificate(string name, X509Certificate2 certificate, AsymmetricAlgorithm key, TestCertificate? issuer)
    {
        Name = name;
        // A PKCS#12 round trip gives a certificate whose key every platform's SslStream accepts
        // (an ephemeral key attached by CopyWithPrivateKey is refused by SChannel, and costs nothing here).
        Certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        Issuer = issuer;
        CertificatePem = certificate.ExportCertificatePem() + "\n";
        KeyPem = key.ExportPkcs8PrivateKeyPem() + "\n";
        _key = key;
    }

    private readonly AsymmetricAlgorithm _key;

    /// <summary>The file-name stem of this certificate's PEM files ("server", "expired", ...).</summary>
    public string Name { get; }

    /// <summary>The certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate that signed this one; null when self-signed (the CA, <c>SelfSigned</c>).</summary>
    public TestCertificate? Issuer { get; }

    /// <summary>The certificate alone, PEM ("-----BEGIN CERTIFICATE-----").</summary>
    public string CertificatePem { get; }

    /// <summary>The unencrypted private key, PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").</summary>
    public string KeyPem { get; }

    /// <summary>The certificate followed by its issuers up to (not including) the self-signed root,
    /// the "full chain" file nginx's <c>ssl_certificate</c> expects. For a leaf signed by the test CA this
    /// is the leaf alone, since the root is what the client must already trust.</summary>
    public string ChainPem
    {
        get
        {
            var text = new StringBuilder(CertificatePem);
            for (var issuer = Issuer; issuer?.Issuer is not null; issuer = issuer.Issuer)
            {
                text.Append(issuer.CertificatePem);
            }
            return text.ToString();
        }
    }

    /// <summary>SHA-256 of the DER certificate, upper-case hex without separators.</summary>
    public string Sha256Hex => Convert.ToHexString(SHA256.HashData(Certificate.RawData));

    /// <summary>The private key encrypted with <paramref name="password"/> (PKCS#8, AES-256-CBC),
    /// "-----BEGIN ENCRYPTED PRIVATE KEY-----".</summary>
    public string EncryptedKeyPem(string password) =>
        _key.ExportEncryptedPkcs8PrivateKeyPem(
            password,
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)) + "\n";

    /// <summary>Certificate and key as a PKCS#12 (.pfx) blob protected by <paramref name="password"/>.</summary>
    public byte[] Pkcs12(string? password) => Certificate.Export(X509ContentType.Pkcs12, password);
}

/// <summary>Paths of one certificate's PEM files written by <see cref="TestCertificates.WriteFiles"/>.</summary>
public sealed record TestCertificateFiles(string CertificatePath, string KeyPath, string ChainPath);

/// <summary>
/// The certificates TLS tests use, made with <see cref="CertificateRequest"/> once per test run and
/// shared by every test (key generation is the slow part on a busy machine; ECDSA P-256 keys are
/// used wherever the peer accepts them, which all of curl, nginx, python, openssl and SslStream do).
/// <list type="bullet">
/// <item><see cref="Ca"/>: "Parley Test CA", the root the tests trust (via a PEM bundle or a callback).</item>
/// <item><see cref="Server"/>: localhost, 127.0.0.1 and ::1, signed by the CA: the good one.</item>
/// <item><see cref="Expired"/>, <see cref="NotYetValid"/>, <see cref="WrongHost"/>: each wrong in one way only
/// (validity, names), otherwise like <see cref="Server"/> and signed by the CA.</item>
/// <item><see cref="SelfSigned"/>: right names and dates, but its own issuer (no trusted root).</item>
/// <item><see cref="Client"/>: a client-authentication certificate signed by the CA.</item>
/// <item><see cref="ServerRsa"/>: like <see cref="Server"/> with an RSA 2048 key (made only when asked for).</item>
/// </list>
/// </summary>
public static class TestCertificates
{
    /// <summary>The names every good server certificate carries.</summary>
    public static readonly string[] LocalNames = ["localhost", "127.0.0.1", "::1"];

    /// <summary>The only name <see cref="WrongHost"/> carries.</summary>
    public const string WrongHostName = "wrong.parley.test";

    private static readonly Lazy<TestCertificate> s_ca = new(MakeCa);
    private static readonly Lazy<TestCertificate> s_server = new(() => MakeLeaf("server", "localhost", LocalNames, ValidNow(), ServerAuth));
    private static readonly Lazy<TestCertificate> s_expired = new(() => MakeLeaf("expired", "localhost", LocalNames,
        (DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(-30)), ServerAuth));
    private static readonly Lazy<TestCertificate> s_notYetValid = new(() => MakeLeaf("not-yet-valid", "localhost", LocalNames,
        (DateTimeOffset.UtcNow.AddDays(30), DateTimeOffset.UtcNow.AddDays(60)), ServerAuth));
    private static readonly Lazy<TestCertificate> s_wrongHost = new(() => MakeLeaf("wrong-host", WrongHostName, [WrongHostName], ValidNow(), ServerAuth));
    private static readonly Lazy<TestCertificate> s_selfSigned = new(MakeSelfSigned);
    private static readonly Lazy<TestCertificate> s_client = new(() => MakeLeaf("client", "parley-test-client", [], ValidNow(), ClientAuth));
    private static readonly Lazy<TestCertificate> s_serverRsa = new(() => MakeLeaf("server-rsa", "localhost", LocalNames, ValidNow(), ServerAuth, rsa: true));
    private static readonly Lazy<string> s_directory = new(MakeDirectory);

    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>The test root CA (self-signed, ECDSA P-256, CA:true, keyCertSign).</summary>
    public static TestCertificate Ca => s_ca.Value;

    /// <summary>The good server certificate: localhost, 127.0.0.1, ::1; signed by <see cref="Ca"/>.</summary>
    public static TestCertificate Server => s_server.Value;

    /// <summary>Expired 30 days ago; otherwise like <see cref="Server"/>.</summary>
    public static TestCertificate Expired => s_expired.Value;

    /// <summary>Valid from 30 days from now; otherwise like <see cref="Server"/>.</summary>
    public static TestCertificate NotYetValid => s_notYetValid.Value;

    /// <summary>Names only <see cref="WrongHostName"/>; otherwise like <see cref="Server"/>.</summary>
    public static TestCertificate WrongHost => s_wrongHost.Value;

    /// <summary>localhost, 127.0.0.1, ::1, valid now, but self-signed (no trusted root).</summary>
    public static TestCertificate SelfSigned => s_selfSigned.Value;

    /// <summary>A client-authentication certificate (CN=parley-test-client) signed by <see cref="Ca"/>.</summary>
    public static TestCertificate Client => s_client.Value;

    /// <summary>Like <see cref="Server"/> with an RSA 2048 key (slow to make; made on first use only).</summary>
    public static TestCertificate ServerRsa => s_serverRsa.Value;

    /// <summary>A collection holding only <see cref="Ca"/>, for <c>X509ChainPolicy.CustomTrustStore</c>.</summary>
    public static X509Certificate2Collection CaCollection() => [X509CertificateLoader.LoadCertificate(Ca.Certificate.RawData)];

    /// <summary>
    /// The folder (one per test run, under the temp folder) holding <c>ca.pem</c> and, for each
    /// certificate written with <see cref="WriteFiles"/>, <c>NAME.pem</c>, <c>NAME.key</c> and
    /// <c>NAME.chain.pem</c>.
    /// </summary>
    public static string Directory => s_directory.Value;

    /// <summary>Path of the CA bundle (<see cref="Ca"/> as PEM), for <c>curl --cacert</c>,
    /// <c>openssl -CAfile</c>, python's <c>cafile</c>, or Parley's extra roots.</summary>
    public static string CaBundlePath => Path.Combine(Directory, "ca.pem");

    private static readonly Lock s_writeLock = new();

    /// <summary>
    /// Writes <paramref name="certificate"/>'s PEM files into <see cref="Directory"/> (once; later calls
    /// return the same paths) for tools that read files: nginx, python's ssl, openssl, curl.
    /// </summary>
    public static TestCertificateFiles WriteFiles(TestCertificate certificate)
    {
        var files = new TestCertificateFiles(
            Path.Combine(Directory, certificate.Name + ".pem"),
            Path.Combine(Directory, certificate.Name + ".key"),
            Path.Combine(Directory, certificate.Name + ".chain.pem"));
        lock (s_writeLock)
        {
            if (!File.Exists(files.ChainPath))
            {
                File.WriteAllText(files.CertificatePath, certificate.CertificatePem);
                WritePrivate(files.KeyPath, certificate.KeyPem);
                File.WriteAllText(files.ChainPath, certificate.ChainPem);
            }
        }
        return files;
    }

    private static string MakeDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"parley-test-certs-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "ca.pem"), Ca.CertificatePem);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A tool still holding a file open: the temp folder is cleaned by the system later.
            }
        };
        return directory;
    }

    private static void WritePrivate(string path, string text)
    {
        File.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) ValidNow() =>
        (DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

    private static TestCertificate MakeCa()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Parley Test CA, O=Parley tests", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-365), DateTimeOffset.UtcNow.AddDays(365));
        return new TestCertificate("ca", certificate, key, issuer: null);
    }

    private static TestCertificate MakeSelfSigned()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafRequest("localhost", LocalNames, key, ServerAuth);
        var (notBefore, notAfter) = ValidNow();
        using var certificate = request.CreateSelfSigned(notBefore, notAfter);
        return new TestCertificate("self-signed", certificate, key, issuer: null);
    }

    private static TestCertificate MakeLeaf(
        string name, string commonName, string[] names,
        (DateTimeOffset NotBefore, DateTimeOffset NotAfter) validity, string usage, bool rsa = false)
    {
        var ca = Ca;
        AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsaKey
            ? new CertificateRequest($"CN={commonName}", rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={commonName}", (ECDsa)key, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, names, usage, rsa);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER (RFC 5280 §4.1.2.2)
        using var signed = request.Create(ca.Certificate, validity.NotBefore, validity.NotAfter, serial);
        using var withKey = key is RSA r ? signed.CopyWithPrivateKey(r) : signed.CopyWithPrivateKey((ECDsa)key);
        return new TestCertificate(name, withKey, key, ca);
    }

    private static CertificateRequest LeafRequest(string commonName, string[] names, ECDsa key, string usage)
    {
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, names, usage, rsa: false);
        return request;
    }

    private static void AddLeafExtensions(CertificateRequest request, string[] names, string usage, bool rsa)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var keyUsage = X509KeyUsageFlags.DigitalSignature | (rsa ? X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.None);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (names.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (string name in names)
            {
                if (IPAddress.TryParse(name, out var address))
                {
                    san.AddIpAddress(address);
                }
                else
                {
                    san.AddDnsName(name);
                }
            }
            request.CertificateExtensions.Add(san.Build(critical: false));
        }
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Cli;

/// <summary>
/// The self-signed certificate <c>parley serve --https</c> uses when given none: for localhost, 127.0.0.1
/// and ::1, made with <see cref="CertificateRequest"/> (ECDSA P-256), kept as PEM files under the user's data
/// folder (<c>$XDG_DATA_HOME/parley/dev-cert</c>, else <c>~/.local/share/parley/dev-cert</c>) and reused
/// until it has less than <see cref="RenewBefore"/> left.
/// </summary>
internal static class DevelopmentCertificate
{
    /// <summary>How long a new certificate is valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    /// <summary>A certificate with less than this left is replaced by a new one.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>Where the certificate and its key are kept.</summary>
    public static string Directory => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "parley", "dev-cert");

    public static string CertificatePath => Path.Combine(Directory, "localhost.pem");

    public static string KeyPath => Path.Combine(Directory, "localhost.key");

    /// <summary>Loads the kept certificate, or makes (and keeps) a new one when there is none, it does not load, or it nears expiry.</summary>
    public static (X509Certificate2 Certificate, bool Created) GetOrCreate()
    {
        if (TryLoad() is { } kept) return (kept, false);
        System.IO.Directory.CreateDirectory(Directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=Parley development certificate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + Lifetime);
        // The key first and private to the user; the certificate last, so a reader never pairs a new
        // certificate with an old key.
        WritePrivate(KeyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem() + "\n");
        return (X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath), true);
    }

    /// <summary>SHA-256 of the certificate, as colon-separated hex pairs (as browsers and openssl show it).</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(SHA256.HashData(certificate.RawData)).Chunk(2).Select(pair => new string(pair)));

    private static X509Certificate2? TryLoad()
    {
        if (!File.Exists(CertificatePath) || !File.Exists(KeyPath)) return null;
        try
        {
            X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
            if (certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow > RenewBefore) return certificate;
            certificate.Dispose();
            return null;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
        {
            return null;
        }
    }

    private static void WritePrivate(string path, string text)
    {
        using (File.Create(path))
        {
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, text);
    }
}

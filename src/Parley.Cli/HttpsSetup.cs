using System.Security.Cryptography;
using Parley.Server;

namespace Parley.Cli;

/// <summary>
/// What <c>parley serve --https</c> serves with: the certificate, the optional redirect port, lines to print
/// about them, and the development certificate's path when that is the one used.
/// </summary>
internal sealed record HttpsSetup(ServerCertificate Certificate, int? RedirectPort, IReadOnlyList<string> Notes, string? DevelopmentCertificatePath = null)
{
    /// <summary>
    /// The certificate from --cert/--key or --pfx, or the development certificate; null (after printing why)
    /// when the files cannot be loaded.
    /// </summary>
    public static HttpsSetup? Load(string? cert, string? key, string? keyPassword, string? pfx, string? pfxPassword, int? redirectPort, TextWriter stderr)
    {
        try
        {
            if (pfx is not null) return new HttpsSetup(ServerCertificate.FromPfxFile(pfx, pfxPassword), redirectPort, [$"Certificate: {Path.GetFullPath(pfx)} (reloaded when it changes)"]);
            if (cert is not null && key is not null)
            {
                return new HttpsSetup(ServerCertificate.FromPemFiles(cert, key, keyPassword), redirectPort, [$"Certificate: {Path.GetFullPath(cert)} (reloaded when it changes)"]);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            stderr.WriteLine($"parley: cannot load the certificate: {ex.Message}");
            return null;
        }

        (var certificate, bool created) = DevelopmentCertificate.GetOrCreate();
        string path = DevelopmentCertificate.CertificatePath;
        return new HttpsSetup(ServerCertificate.FromCertificate(certificate), redirectPort,
        [
            $"Development certificate ({(created ? "made now" : "reused")}, self-signed for localhost, 127.0.0.1 and ::1, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}): {path}",
            $"SHA-256 fingerprint: {DevelopmentCertificate.Fingerprint(certificate)}",
        ], path);
    }
}

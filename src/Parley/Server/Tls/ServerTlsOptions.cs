using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server;

/// <summary>
/// How a TLS listener negotiates: which certificate it presents (by SNI host name, through a callback, or
/// the default), whether it asks for client certificates, and how long a handshake may take. TLS 1.2 and
/// 1.3 only; ALPN offers <c>http/1.1</c>.
/// </summary>
public sealed class ServerTlsOptions
{
    /// <summary>The certificate presented when neither <see cref="CertificateSelector"/> nor <see cref="CertificatesByHostName"/> picks one (or the client sent no SNI).</summary>
    public ServerCertificate? Certificate { get; set; }

    /// <summary>
    /// Certificates by the host name the client asks for in SNI (RFC 6066 §3): an exact name
    /// (<c>www.example.com</c>) or a wildcard for one label (<c>*.example.com</c> matches
    /// <c>a.example.com</c>, not <c>example.com</c> nor <c>a.b.example.com</c>, as RFC 6125 §6.4.3).
    /// Names compare case-insensitively; an exact name wins over a wildcard.
    /// </summary>
    public IDictionary<string, ServerCertificate> CertificatesByHostName { get; } = new Dictionary<string, ServerCertificate>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Called first for every handshake with the SNI host name (null when the client sent none); a non-null
    /// result is used, null falls through to <see cref="CertificatesByHostName"/> and then <see cref="Certificate"/>.
    /// Runs on the connection's thread (an epoll loop's, with that transport): it must not block.
    /// </summary>
    public Func<string?, ServerCertificate?>? CertificateSelector { get; set; }

    /// <summary>Whether the server asks for a client certificate. Default <see cref="ClientCertificateMode.None"/>.</summary>
    public ClientCertificateMode ClientCertificateMode { get; set; } = ClientCertificateMode.None;

    /// <summary>
    /// Decides whether a client certificate is accepted: called with the certificate (null when the client
    /// sent none), its chain and what the platform's validation found. Without it, a certificate is accepted
    /// only when it validates against the system's trusted roots, and none is accepted only in
    /// <see cref="ClientCertificateMode.Allowed"/> mode.
    /// </summary>
    public Func<X509Certificate2?, X509Chain?, SslPolicyErrors, bool>? ClientCertificateValidation { get; set; }

    /// <summary>The TLS versions offered: <see cref="SslProtocols.Tls12"/> and/or <see cref="SslProtocols.Tls13"/> (older ones are refused). Default both.</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Longest time from accept to a finished handshake; a slower client is disconnected. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether certificates made from files are reloaded when the files change. Default true.</summary>
    public bool ReloadCertificateFiles { get; set; } = true;
}

/// <summary>Whether a TLS listener asks clients for a certificate.</summary>
public enum ClientCertificateMode
{
    /// <summary>No certificate is requested.</summary>
    None,
    /// <summary>A certificate is requested; a client without one is served, one with an invalid one is refused.</summary>
    Allowed,
    /// <summary>A valid certificate is required; the handshake fails without one.</summary>
    Required,
}

using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Client;

/// <summary>What a TLS handshake settled: version, cipher suite, ALPN protocol and the server's certificate.</summary>
public sealed class TlsSessionInfo
{
    internal TlsSessionInfo(SslStream ssl, string targetHost)
    {
        Protocol = ssl.SslProtocol;
        CipherSuite = ssl.NegotiatedCipherSuite;
        ApplicationProtocol = ssl.NegotiatedApplicationProtocol.Protocol.IsEmpty ? null : ssl.NegotiatedApplicationProtocol.ToString();
        ServerCertificate = ssl.RemoteCertificate is { } remote ? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()) : null;
        TargetHost = targetHost;
    }

    /// <summary>The TLS version, e.g. <see cref="SslProtocols.Tls13"/>.</summary>
    public SslProtocols Protocol { get; }

    /// <summary>The cipher suite, e.g. <c>TLS_AES_256_GCM_SHA384</c>.</summary>
    public TlsCipherSuite CipherSuite { get; }

    /// <summary>The protocol agreed by ALPN (RFC 7301), <c>http/1.1</c>; null when the server chose none.</summary>
    public string? ApplicationProtocol { get; }

    /// <summary>The server's certificate (without private key); null if the server sent none.</summary>
    public X509Certificate2? ServerCertificate { get; }

    /// <summary>The DNS names and IP addresses the server's certificate is for (else its common name); empty without a certificate.</summary>
    public string ServerCertificateNames => ServerCertificate is { } certificate ? ClientTlsPolicy.Names(certificate, quoted: false) : "";

    /// <summary>The host name the client asked for (sent as SNI unless it is an IP address) and verified.</summary>
    public string TargetHost { get; }
}

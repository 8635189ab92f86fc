using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server;

/// <summary>What a connection's TLS handshake settled on; the same for every request on the connection.</summary>
public sealed class TlsSession
{
    internal TlsSession(SslStream stream)
    {
        Protocol = stream.SslProtocol;
        CipherSuite = stream.NegotiatedCipherSuite;
        HostName = string.IsNullOrEmpty(stream.TargetHostName) ? null : stream.TargetHostName;
        ApplicationProtocol = stream.NegotiatedApplicationProtocol == default ? null : stream.NegotiatedApplicationProtocol.ToString();
        ClientCertificate = stream.RemoteCertificate as X509Certificate2;
    }

    /// <summary>The TLS version, e.g. <see cref="SslProtocols.Tls13"/>.</summary>
    public SslProtocols Protocol { get; }

    /// <summary>The cipher suite, e.g. <see cref="TlsCipherSuite.TLS_AES_128_GCM_SHA256"/>.</summary>
    public TlsCipherSuite CipherSuite { get; }

    /// <summary>The host name the client asked for with SNI (RFC 6066 §3), or null when it sent none.</summary>
    public string? HostName { get; }

    /// <summary>The protocol agreed with ALPN (RFC 7301), <c>http/1.1</c>, or null when the client offered none.</summary>
    public string? ApplicationProtocol { get; }

    /// <summary>The certificate the client presented, or null.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>The version as a name, e.g. <c>TLSv1.3</c> (as OpenSSL and nginx write it).</summary>
    public string ProtocolName => Protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => Protocol.ToString(),
    };
}

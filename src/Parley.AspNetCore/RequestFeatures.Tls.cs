using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Parley.Server;

namespace Parley.AspNetCore;

// The TLS features, offered on requests that came over TLS: what the engine's handshake settled on.
internal abstract partial class RequestFeatures : ITlsConnectionFeature, ITlsHandshakeFeature
{
    private TlsSession Tls => EngineRequest.TlsSession ?? throw new InvalidOperationException("the request did not come over TLS");

    private X509Certificate2? _clientCertificateSet;
    private bool _clientCertificateReplaced;

    X509Certificate2? ITlsConnectionFeature.ClientCertificate
    {
        get => _clientCertificateReplaced ? _clientCertificateSet : Tls.ClientCertificate;
        set
        {
            _clientCertificateSet = value;
            _clientCertificateReplaced = true;
        }
    }

    // The engine asks for a client certificate during the handshake (ServerTlsOptions.ClientCertificateMode),
    // never later: what the handshake got is all there is.
    Task<X509Certificate2?> ITlsConnectionFeature.GetClientCertificateAsync(CancellationToken cancellationToken) =>
        Task.FromResult(((ITlsConnectionFeature)this).ClientCertificate);

    SslProtocols ITlsHandshakeFeature.Protocol => Tls.Protocol;

    System.Net.Security.TlsCipherSuite? ITlsHandshakeFeature.NegotiatedCipherSuite => Tls.CipherSuite;

    string ITlsHandshakeFeature.HostName => Tls.HostName ?? "";

#pragma warning disable SYSLIB0058 // the legacy algorithm properties are part of the interface; the engine reports the cipher suite instead
    CipherAlgorithmType ITlsHandshakeFeature.CipherAlgorithm => CipherAlgorithmType.None;

    int ITlsHandshakeFeature.CipherStrength => 0;

    HashAlgorithmType ITlsHandshakeFeature.HashAlgorithm => HashAlgorithmType.None;

    int ITlsHandshakeFeature.HashStrength => 0;

    ExchangeAlgorithmType ITlsHandshakeFeature.KeyExchangeAlgorithm => ExchangeAlgorithmType.None;

    int ITlsHandshakeFeature.KeyExchangeStrength => 0;
#pragma warning restore SYSLIB0058

    private void ResetTls()
    {
        _clientCertificateSet = null;
        _clientCertificateReplaced = false;
    }
}

using System.Globalization;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Parley.Client;

/// <summary>
/// The client's TLS policy, apart from the mechanism (<see cref="TlsClientTransport"/>): what a handshake
/// offers (versions, ALPN <c>http/1.1</c>, SNI, a client certificate), which server certificates are
/// accepted (the system store plus <see cref="ParleyClientOptions.ExtraTrustedRoots"/>, the host name, or
/// the caller's callback), and what a failed handshake means, in one line naming what was wrong.
/// </summary>
internal sealed class ClientTlsPolicy
{
    private static readonly List<SslApplicationProtocol> Http11Only = [SslApplicationProtocol.Http11];

    // Why a certificate was refused, kept by the validation callback for the failure that follows it.
    private static readonly ConditionalWeakTable<object, ParleyHttpException> s_refusals = new();

    private readonly ParleyClientOptions _options;
    private readonly SslStreamCertificateContext? _clientCertificate;
    private readonly Lazy<X509ChainPolicy?> _chainPolicy;

    public ClientTlsPolicy(ParleyClientOptions options)
    {
        _options = options;
        _chainPolicy = new Lazy<X509ChainPolicy?>(ChainPolicy);
        if (options.ClientCertificate is { } certificate)
        {
            if (!certificate.HasPrivateKey)
            {
                throw new ArgumentException("ClientCertificate has no private key, so it cannot authenticate the client", nameof(options));
            }
            // A context sends the certificate whatever CA names the server lists (ClientCertificates would filter).
            _clientCertificate = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        }
    }

    /// <summary>
    /// The handshake options for one origin. Made once per origin and reused by its connections, so that
    /// SslStream can resume the origin's TLS session on a new connection (RFC 8446 §2.2).
    /// </summary>
    public SslClientAuthenticationOptions OptionsFor(Origin origin) => new()
    {
        // RFC 6066 §3: SslStream sends SNI for a host name, never for an IP literal; both are verified.
        TargetHost = origin.Host,
        ApplicationProtocols = Http11Only,
        EnabledSslProtocols = _options.TlsProtocols,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificateContext = _clientCertificate,
        CertificateChainPolicy = _chainPolicy.Value,
        RemoteCertificateValidationCallback = Validate,
    };

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        X509ChainStatusFlags chainFlags = Flags(chain);
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && certificate is not null && _options.ExtraTrustedRoots.Count > 0
            && (chainFlags & Untrusted) != 0)
        {
            // Not under an extra root: perhaps under a system one. If not there either, the first chain
            // (under the extra roots) says more, unless the system found a trusted root and another problem.
            X509ChainStatusFlags systemFlags = BuildWithSystemRoots(certificate, chain);
            if (systemFlags == X509ChainStatusFlags.NoError) errors &= ~SslPolicyErrors.RemoteCertificateChainErrors;
            else if ((systemFlags & Untrusted) == 0) chainFlags = systemFlags;
        }
        bool accepted = _options.ServerCertificateValidationCallback is { } callback
            ? callback(sender, certificate, chain, errors)
            : errors == SslPolicyErrors.None;
        if (!accepted)
        {
            string target = sender is SslStream ssl ? ssl.TargetHostName : "";
            s_refusals.AddOrUpdate(sender, Refusal(target, certificate, chainFlags, errors));
        }
        return accepted;
    }

    private const X509ChainStatusFlags Untrusted = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain;

    /// <summary>
    /// With <see cref="ParleyClientOptions.ExtraTrustedRoots"/>, the chain SslStream builds trusts them only
    /// (one small store: a custom store holding the system's ~150 roots as well was measured to cost about
    /// 2.7 ms per handshake); a chain they do not root is tried against the system store afterwards
    /// (<see cref="BuildWithSystemRoots"/>). Without them, null: SslStream's default, the system store.
    /// </summary>
    private X509ChainPolicy? ChainPolicy()
    {
        if (_options.ExtraTrustedRoots.Count == 0) return null;
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(_options.ExtraTrustedRoots);
        return policy;
    }

    private static X509ChainStatusFlags BuildWithSystemRoots(X509Certificate certificate, X509Chain? first)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (first is not null) chain.ChainPolicy.ExtraStore.AddRange(first.ChainPolicy.ExtraStore);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf) ? X509ChainStatusFlags.NoError : Flags(chain);
    }

    private static X509ChainStatusFlags Flags(X509Chain? chain)
    {
        var flags = X509ChainStatusFlags.NoError;
        if (chain is null) return flags;
        foreach (X509ChainStatus status in chain.ChainStatus) flags |= status.Status;
        return flags;
    }

    /// <summary>The one-line reason a certificate was refused; the most basic problem is named first.</summary>
    private static ParleyHttpException Refusal(string host, X509Certificate? received, X509ChainStatusFlags flags, SslPolicyErrors errors)
    {
        if (received is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return new(ParleyErrorKind.CertificateUntrusted, $"{host} sent no certificate");
        }
        using var certificate = X509CertificateLoader.LoadCertificate(received.GetRawCertData());
        string subject = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            DateTime now = DateTime.UtcNow;
            DateTime notAfter = certificate.NotAfter.ToUniversalTime(), notBefore = certificate.NotBefore.ToUniversalTime();
            string message = notAfter < now
                ? $"the certificate of {host} ('{subject}') expired on {Date(notAfter)}"
                : notBefore > now
                    ? $"the certificate of {host} ('{subject}') is not valid until {Date(notBefore)}"
                    : $"a certificate in the chain of {host} ('{subject}', issued by '{certificate.Issuer}') has expired or is not yet valid";
            return new(ParleyErrorKind.CertificateNotTimeValid, message);
        }
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0
            || ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && flags == X509ChainStatusFlags.NoError))
        {
            string message = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData)
                ? $"the certificate of {host} ('{subject}') is self-signed and not trusted"
                : $"the certificate of {host} ('{subject}') is issued by '{certificate.Issuer}', which is not a trusted root";
            return new(ParleyErrorKind.CertificateUntrusted, message);
        }
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return new(ParleyErrorKind.CertificateUntrusted, $"the certificate chain of {host} ('{subject}') is not valid: {flags}");
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return new(ParleyErrorKind.CertificateNameMismatch, $"the certificate of {host} is for {Names(certificate)}, not '{host}'");
        }
        return new(ParleyErrorKind.CertificateUntrusted, $"the certificate of {host} ('{subject}') was refused by the ServerCertificateValidationCallback");
    }

    private static string Date(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The names a certificate is for: its DNS names and IP addresses, else its common name.</summary>
    internal static string Names(X509Certificate2 certificate, bool quoted = true)
    {
        var names = new StringBuilder();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension alternatives) continue;
            foreach (string dns in alternatives.EnumerateDnsNames()) Append(names, dns);
            foreach (System.Net.IPAddress address in alternatives.EnumerateIPAddresses()) Append(names, address.ToString());
        }
        if (names.Length == 0) Append(names, certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        return names.ToString();

        void Append(StringBuilder names, string name)
        {
            if (names.Length > 0) names.Append(", ");
            if (quoted) names.Append('\'').Append(name).Append('\'');
            else names.Append(name);
        }
    }

    /// <summary>
    /// What a failed handshake means, most specific first: a stalled handshake, a refused certificate, a
    /// server speaking plain HTTP, no TLS version in common, or another handshake failure.
    /// </summary>
    public ParleyHttpException HandshakeFailure(Exception ex, TlsClientTransport tls, Origin origin, bool timedOut, long limitMs)
    {
        string where = $"{origin.Host} port {origin.Port}";
        if (timedOut)
        {
            return new(ParleyErrorKind.TlsHandshakeTimeout,
                $"TLS handshake with {where} timed out after {limitMs} ms: the server accepted the connection but did not complete the handshake", ex);
        }
        if (s_refusals.TryGetValue(tls.Ssl, out ParleyHttpException? refusal))
        {
            s_refusals.Remove(tls.Ssl);
            return new(refusal.Kind, refusal.Message, ex);
        }
        ReadOnlySpan<byte> first = tls.FirstBytesReceived;
        if (first.StartsWith("HTTP/"u8))
        {
            int end = first.IndexOfAny((byte)'\r', (byte)'\n');
            return new(ParleyErrorKind.PlainHttpFromTlsServer,
                $"{where} answered plain HTTP ('{ClientConnection.Printable(end < 0 ? first : first[..end])}...'), not TLS: does the URL mean http://?", ex);
        }
        string detail = Innermost(ex);
        if (IsVersionMismatch(ex))
        {
            string offered = _options.TlsProtocols == SslProtocols.None ? "the system's default versions" : _options.TlsProtocols.ToString();
            return new(ParleyErrorKind.TlsProtocolVersionMismatch,
                $"no TLS version in common with {where} (this client offers {offered}): {detail}", ex);
        }
        return new(ParleyErrorKind.TlsHandshakeFailed, $"TLS handshake with {where} failed: {detail}", ex);
    }

    // OpenSSL names the failure only in its error text: "unsupported protocol", an alert "protocol version", ...
    private static bool IsVersionMismatch(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            string text = e.Message;
            if (text.Contains("protocol version", StringComparison.OrdinalIgnoreCase)
                || text.Contains("unsupported protocol", StringComparison.OrdinalIgnoreCase)
                || text.Contains("no protocols available", StringComparison.OrdinalIgnoreCase)
                || text.Contains("version too low", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static string Innermost(Exception ex)
    {
        Exception inner = ex;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner == ex ? ex.Message : $"{ex.Message} ({inner.Message})";
    }
}

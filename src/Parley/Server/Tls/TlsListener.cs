using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server;

/// <summary>
/// The TLS policy of one listener: picks the certificate for each handshake and hands SslStream the
/// authentication options for it. One options object per certificate (rebuilt only when the certificate
/// is reloaded), each on the certificate's single <see cref="SslStreamCertificateContext"/>: SslStream keeps
/// its native TLS context, and with it the session cache that makes resumption work, on that context.
/// </summary>
internal sealed class TlsListener
{
    private static readonly List<SslApplicationProtocol> Http11Only = [SslApplicationProtocol.Http11];

    private readonly ServerTlsOptions _options;
    private readonly Dictionary<string, ServerCertificate> _exact;
    private readonly Dictionary<string, ServerCertificate> _wildcards;
    private readonly ServerCertificate[] _all;
    private readonly Lock _optionsLock = new();
    private readonly Dictionary<ServerCertificate, (int Generation, SslServerAuthenticationOptions Options)> _built = [];
    private readonly RemoteCertificateValidationCallback? _validateClient;

    public TlsListener(ServerTlsOptions options)
    {
        _options = options;
        if ((options.EnabledProtocols & ~(SslProtocols.Tls12 | SslProtocols.Tls13)) != 0 || options.EnabledProtocols == SslProtocols.None)
        {
            throw new ArgumentException("EnabledProtocols may hold only SslProtocols.Tls12 and SslProtocols.Tls13", nameof(options));
        }
        if (options.Certificate is null && options.CertificatesByHostName.Count == 0 && options.CertificateSelector is null)
        {
            throw new ArgumentException("a TLS listener needs a certificate (Certificate, CertificatesByHostName or CertificateSelector)", nameof(options));
        }
        if (options.HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentException("HandshakeTimeout must be positive", nameof(options));
        _exact = new(StringComparer.OrdinalIgnoreCase);
        _wildcards = new(StringComparer.OrdinalIgnoreCase);
        foreach ((string name, ServerCertificate certificate) in options.CertificatesByHostName)
        {
            if (name.StartsWith("*.", StringComparison.Ordinal)) _wildcards[name[2..]] = certificate;
            else if (name.Contains('*')) throw new ArgumentException($"'{name}': a wildcard may only be the whole first label (*.example.com)", nameof(options));
            else _exact[name] = certificate;
        }
        _all = [.. options.CertificatesByHostName.Values.Append(options.Certificate).OfType<ServerCertificate>().Distinct()];
        if (options.ClientCertificateMode != ClientCertificateMode.None) _validateClient = ValidateClientCertificate;
    }

    public TimeSpan HandshakeTimeout => _options.HandshakeTimeout;

    /// <summary>The certificate for a handshake that asked for <paramref name="hostName"/> (SNI), or null when there is none.</summary>
    public ServerCertificate? Select(string? hostName)
    {
        if (_options.CertificateSelector?.Invoke(hostName) is { } chosen) return chosen;
        if (!string.IsNullOrEmpty(hostName))
        {
            hostName = hostName.TrimEnd('.');
            if (_exact.TryGetValue(hostName, out ServerCertificate? exact)) return exact;
            int dot = hostName.IndexOf('.');
            if (dot > 0 && _wildcards.TryGetValue(hostName[(dot + 1)..], out ServerCertificate? wildcard)) return wildcard;
        }
        return _options.Certificate;
    }

    /// <summary>The options SslStream authenticates with for a client hello (the certificate chosen by SNI).</summary>
    public SslServerAuthenticationOptions OptionsFor(string? hostName)
    {
        ServerCertificate certificate = Select(hostName)
            ?? throw new AuthenticationException($"no certificate for host name '{hostName}'");
        lock (_optionsLock)
        {
            int generation = certificate.Generation;
            if (_built.TryGetValue(certificate, out var built) && built.Generation == generation) return built.Options;
            var options = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate.Context,
                EnabledSslProtocols = _options.EnabledProtocols,
                ApplicationProtocols = Http11Only,
                ClientCertificateRequired = _options.ClientCertificateMode != ClientCertificateMode.None,
                RemoteCertificateValidationCallback = _validateClient,
                // Revocation lists and OCSP would be fetched over the network during the handshake.
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            _built[certificate] = (generation, options);
            return options;
        }
    }

    /// <summary>Reloads the certificates whose files changed (called from the server's heartbeat).</summary>
    public void ReloadChangedCertificates(Action<string, Exception?>? errorLog)
    {
        if (!_options.ReloadCertificateFiles) return;
        ServerCertificate[] chosenByCallback;
        // Certificates a selector callback returned are reloaded too, once they have been used.
        lock (_optionsLock) chosenByCallback = [.. _built.Keys.Except(_all)];
        foreach (ServerCertificate certificate in _all) certificate.ReloadIfChanged(errorLog);
        foreach (ServerCertificate certificate in chosenByCallback) certificate.ReloadIfChanged(errorLog);
    }

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var client = certificate as X509Certificate2;
        if (_options.ClientCertificateValidation is { } validate) return validate(client, chain, errors);
        if (client is null) return _options.ClientCertificateMode == ClientCertificateMode.Allowed;
        return errors == SslPolicyErrors.None;
    }
}

namespace Parley.Client;

/// <summary>Where connections go and can be shared (RFC 6454 §4): scheme, host and port.</summary>
internal readonly record struct Origin(string Scheme, string Host, int Port)
{
    /// <summary>The origin of an absolute http or https URI; throws <see cref="NotSupportedException"/> for other schemes.</summary>
    public static Origin Of(Uri uri)
    {
        if (!uri.IsAbsoluteUri) throw new ArgumentException($"the request URI must be absolute: '{uri}'", nameof(uri));
        if (!IsSupported(uri))
        {
            throw new NotSupportedException($"unsupported scheme '{uri.Scheme}' in '{uri}': Parley speaks http:// and https://");
        }
        // IdnHost: an international name in punycode, an IPv6 literal without its brackets (HostField adds them).
        // Port: the one written, else the scheme's default (Uri knows http's and https's).
        return new Origin(uri.Scheme, uri.IdnHost, uri.Port);
    }

    /// <summary>True for the schemes the client speaks: http and https.</summary>
    public static bool IsSupported(Uri uri) => uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps;

    /// <summary>True for an https origin: connections to it speak TLS.</summary>
    public bool IsSecure => Scheme == Uri.UriSchemeHttps;

    // RFC 9110 §4.2.1, §4.2.2: 80 for http, 443 for https.
    private static int DefaultPort(string scheme) => scheme == Uri.UriSchemeHttps ? 443 : 80;

    /// <summary>The Host field value (RFC 9110 §7.2): the port is omitted when it is the scheme's default.</summary>
    public string HostField()
    {
        string host = Host.Contains(':') ? $"[{Host}]" : Host;
        return Port == DefaultPort(Scheme) ? host : $"{host}:{Port}";
    }

    /// <inheritdoc />
    public override string ToString() => $"{Scheme}://{HostField()}";
}

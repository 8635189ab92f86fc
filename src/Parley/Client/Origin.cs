namespace Parley.Client;

/// <summary>Where connections go and can be shared (RFC 6454 §4): scheme, host and port.</summary>
internal readonly record struct Origin(string Scheme, string Host, int Port)
{
    /// <summary>The origin of an absolute http URI; throws for other schemes (no TLS yet).</summary>
    public static Origin Of(Uri uri)
    {
        if (!uri.IsAbsoluteUri) throw new ArgumentException($"the request URI must be absolute: '{uri}'", nameof(uri));
        if (uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new NotSupportedException($"unsupported scheme '{uri.Scheme}' in '{uri}': Parley speaks plain http:// only");
        }
        string host = uri.IdnHost;
        if (host.Length > 1 && host[0] == '[') host = host[1..^1];
        return new Origin(uri.Scheme, host, uri.Port < 0 ? 80 : uri.Port);
    }

    /// <summary>The Host field value (RFC 9110 §7.2): the port is omitted when it is the default, 80.</summary>
    public string HostField()
    {
        string host = Host.Contains(':') ? $"[{Host}]" : Host;
        return Port == 80 ? host : $"{host}:{Port}";
    }

    /// <inheritdoc />
    public override string ToString() => $"{Scheme}://{HostField()}";
}

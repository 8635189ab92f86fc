using System.Globalization;

namespace Parley.AspNetCore;

/// <summary>
/// One address from the host's configuration, e.g. <c>http://localhost:5000</c>, <c>http://*:8080</c>,
/// <c>http://[::1]:0</c>: the hosts to bind and the port. <c>localhost</c> binds the IPv4 and IPv6
/// loopback addresses (IPv6 when the machine has it), <c>*</c>, <c>+</c> and other names bind every address.
/// </summary>
internal sealed record ListenAddress(string Scheme, string Host, int Port)
{
    public bool IsHttps => Scheme == "https";

    public bool IsLocalhost => Host.Equals("localhost", StringComparison.OrdinalIgnoreCase);

    public bool IsAnyHost => Host is "*" or "+" || (!IsLocalhost && !System.Net.IPAddress.TryParse(Host.Trim('[', ']'), out _));

    public static ListenAddress Parse(string address)
    {
        string text = address.Trim();
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) throw new FormatException($"'{address}' is not an address such as http://127.0.0.1:8080");
        string scheme = text[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https")) throw new FormatException($"'{address}': unknown scheme '{scheme}'");
        string authority = text[(schemeEnd + 3)..];
        int slash = authority.IndexOf('/');
        if (slash >= 0) authority = authority[..slash]; // a path base is not part of the binding
        string host;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0) throw new FormatException($"'{address}': unterminated IPv6 literal");
            host = authority[..(close + 1)];
            if (close + 1 < authority.Length)
            {
                if (authority[close + 1] != ':') throw new FormatException($"'{address}': expected ':' after the IPv6 literal");
                portText = authority[(close + 2)..];
            }
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            if (colon >= 0) portText = authority[(colon + 1)..];
        }
        if (host.Length == 0) throw new FormatException($"'{address}': no host");
        int port = scheme == "https" ? 443 : 80;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535))
        {
            throw new FormatException($"'{address}': '{portText}' is not a port");
        }
        return new ListenAddress(scheme, host, port);
    }

    /// <summary>The address as reported once bound, with the real port.</summary>
    public string Format(string host, int port) => $"{Scheme}://{host}:{port.ToString(CultureInfo.InvariantCulture)}";
}

using System.CommandLine;
using System.Net;
using Parley.Server;

namespace Parley.Cli;

/// <summary>
/// The options of <c>parley serve</c> for running behind a load balancer: which proxies' forwarding
/// fields to believe.
/// </summary>
internal sealed class UpstreamOptions
{
    private readonly Option<string[]> _trustedProxies = OptionValues.Texts("--trusted-proxy",
        "Believe X-Forwarded-For and X-Forwarded-Proto (or Forwarded, see --forwarded-headers) from this proxy: an address or a CIDR range such as 10.0.0.0/8; repeatable",
        TrustedProxyProblem);

    private readonly Option<ForwardedFields> _forwardedHeaders = OptionValues.Choice("--forwarded-headers",
        "With --trusted-proxy: XForwarded (X-Forwarded-For and -Proto, as nginx and HAProxy send them; the default), XForwardedWithHost (also X-Forwarded-Host) or Forwarded (RFC 7239 alone)",
        ForwardedFields.XForwarded);

    /// <summary>The forwarding fields to read, as the option names them.</summary>
    public enum ForwardedFields { XForwarded, XForwardedWithHost, Forwarded }

    public IEnumerable<Option> Options => [_trustedProxies, _forwardedHeaders];

    /// <summary>Sets the server options these command-line options ask for.</summary>
    public void Apply(ParseResult parse, HttpServerOptions options)
    {
        foreach (string text in parse.GetValue(_trustedProxies) ?? []) options.TrustedProxies.Add(ParseNetwork(text)!.Value);
        options.ForwardedHeaders = parse.GetValue(_forwardedHeaders) switch
        {
            ForwardedFields.Forwarded => ForwardedHeaders.Forwarded,
            ForwardedFields.XForwardedWithHost => ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            _ => ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
        };
    }

    // An address alone is the network of that one address (/32, /128).
    private static IPNetwork? ParseNetwork(string text)
    {
        if (IPNetwork.TryParse(text, out IPNetwork network)) return network;
        if (!text.Contains('/') && OptionValues.ListenAddress(text) is null && IPAddress.TryParse(text.Trim('[', ']'), out IPAddress? address))
        {
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        return null;
    }

    private static string? TrustedProxyProblem(string text) =>
        text is not ("*" or "localhost") && ParseNetwork(text) is not null ? null
        : $"wants an IP address (10.0.0.5, ::1) or a CIDR range with no bits set past its prefix (10.0.0.0/8, fd00::/8), not '{text}'";
}

using System.Net;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// The server's checked forwarding options: which proxies are trusted and which fields are read. Built
/// once by the <see cref="HttpServer"/> constructor, which throws on a contradictory configuration.
/// </summary>
internal sealed class ForwardedHeadersPolicy
{
    private readonly IPNetwork[] _trusted;
    private readonly ForwardedHeaders _fields;
    private readonly Func<IPAddress, bool> _isTrusted;

    private ForwardedHeadersPolicy(IPNetwork[] trusted, ForwardedHeaders fields)
    {
        _trusted = trusted;
        _fields = fields;
        _isTrusted = IsTrusted;
    }

    /// <summary>The policy, or null when nothing is trusted or no field is read (requests are then never looked at).</summary>
    public static ForwardedHeadersPolicy? Create(HttpServerOptions options)
    {
        ForwardedHeaders fields = options.ForwardedHeaders;
        const ForwardedHeaders all = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost | ForwardedHeaders.Forwarded;
        if ((fields & ~all) != 0) throw new ArgumentException($"ForwardedHeaders {fields} names an unknown field", nameof(options));
        if ((fields & ForwardedHeaders.Forwarded) != 0 && fields != ForwardedHeaders.Forwarded)
        {
            throw new ArgumentException("ForwardedHeaders.Forwarded replaces the X-Forwarded-* fields; it cannot be combined with them", nameof(options));
        }
        if (options.TrustedProxies.Count == 0 || fields == ForwardedHeaders.None) return null;
        // A network written IPv4-mapped (::ffff:10.0.0.0/104) means its IPv4 range: addresses are compared canonical.
        IPNetwork[] trusted = [.. options.TrustedProxies.Select(Canonical)];
        return new ForwardedHeadersPolicy(trusted, fields);
    }

    private static IPNetwork Canonical(IPNetwork network) =>
        network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
            ? new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
            : network;

    /// <summary>Whether the address (IPv4-mapped or not) is in a trusted network.</summary>
    public bool IsTrusted(IPAddress address)
    {
        address = ForwardedChain.Canonical(address);
        foreach (IPNetwork network in _trusted)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    /// <summary>
    /// What the request's forwarding fields say, walked from <paramref name="remote"/> (the TCP peer, or the
    /// client a PROXY protocol header named); null when no hop was used. Allocates, so only called when a
    /// handler asks for the remote address, scheme or host of a request from a trusted peer.
    /// </summary>
    public ForwardedResult? Resolve(IPEndPoint remote, RequestHeaders headers)
    {
        if (!IsTrusted(remote.Address)) return null;
        List<ForwardedHop> hops;
        if (_fields == ForwardedHeaders.Forwarded)
        {
            if (!headers.Contains("Forwarded")) return null;
            hops = ForwardedSyntax.ParseForwarded(headers.GetValues("Forwarded"));
        }
        else
        {
            IReadOnlyList<string> fors = Read(headers, ForwardedHeaders.XForwardedFor, "X-Forwarded-For");
            IReadOnlyList<string> protos = Read(headers, ForwardedHeaders.XForwardedProto, "X-Forwarded-Proto");
            IReadOnlyList<string> hosts = Read(headers, ForwardedHeaders.XForwardedHost, "X-Forwarded-Host");
            if (fors.Count + protos.Count + hosts.Count == 0) return null;
            hops = ForwardedSyntax.ParseXForwarded(fors, protos, hosts);
        }
        ForwardedResult result = ForwardedChain.Walk(remote, hops, _isTrusted);
        return result.HopsUsed > 0 ? result : null;
    }

    private IReadOnlyList<string> Read(RequestHeaders headers, ForwardedHeaders field, string name) =>
        (_fields & field) != 0 && headers.Contains(name) ? headers.GetValues(name) : [];
}

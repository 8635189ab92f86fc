using System.Net;

namespace Parley.Http1;

/// <summary>What the forwarding fields say about a request once the trusted hops are walked.</summary>
/// <param name="RemoteEndPoint">The client as the outermost trusted proxy saw it (the peer when no hop gave an address).</param>
/// <param name="Scheme">The scheme the outermost trusted hop reported, or null when none did.</param>
/// <param name="Host">The host the outermost trusted hop reported, or null when none did.</param>
/// <param name="HopsUsed">How many hops were taken from the fields (0: the fields were not used).</param>
internal readonly record struct ForwardedResult(IPEndPoint RemoteEndPoint, string? Scheme, string? Host, int HopsUsed);

/// <summary>
/// Walks the hops of a forwarding field from the right, as ASP.NET Core's ForwardedHeaders and nginx's
/// <c>real_ip_recursive</c> do: a hop is believed only when the address that sent it (first the peer, then
/// the address the previous believed hop named) is a trusted proxy. The walk stops at the first untrusted
/// address, at a hop that breaks the grammar, and after a hop that names no address (<c>unknown</c>, an
/// obfuscated node, no <c>for</c>): nothing left of it can be checked. Pure: no I/O.
/// </summary>
internal static class ForwardedChain
{
    public static ForwardedResult Walk(IPEndPoint peer, IReadOnlyList<ForwardedHop> hopsNearestFirst, Func<IPAddress, bool> isTrusted)
    {
        IPEndPoint current = peer;
        string? scheme = null, host = null;
        int used = 0;
        foreach (ForwardedHop hop in hopsNearestFirst)
        {
            if (!hop.IsValid || !isTrusted(Canonical(current.Address))) break;
            used++;
            if (hop.Proto is not null) scheme = hop.Proto;
            if (hop.Host is not null) host = hop.Host;
            if (hop.For is null) break;
            current = hop.For;
        }
        return new ForwardedResult(current, scheme, host, used);
    }

    /// <summary>An IPv4 address as itself even when a dual-stack socket reports it IPv4-mapped (<c>::ffff:a.b.c.d</c>).</summary>
    public static IPAddress Canonical(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

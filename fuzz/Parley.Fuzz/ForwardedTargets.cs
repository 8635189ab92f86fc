using System.Net;
using System.Text;
using Parley.Http1;

namespace Parley.Fuzz;

/// <summary>The forwarding fields a proxy adds: <c>Forwarded</c> (RFC 7239) and <c>X-Forwarded-*</c>.</summary>
public static partial class FuzzTargets
{
    private static readonly IPEndPoint ForwardingPeer = new(IPAddress.Parse("10.0.0.1"), 5000);

    // The input is field lines, one per '\n' (Latin-1, as the server decodes values). The last line is what
    // the trusted proxy appended; the lines before it, whatever the client sent.
    private static void Forwarded(ReadOnlySpan<byte> data)
    {
        string[] lines = Encoding.Latin1.GetString(data).Split('\n');
        List<ForwardedHop> hops = ForwardedSyntax.ParseForwarded(lines);
        foreach (ForwardedHop hop in hops) CheckHop(hop);
        CheckWalks(hops, ForwardedSyntax.ParseForwarded(lines[^1..]));

        // The same lines dealt in turn to X-Forwarded-For, -Proto and -Host (each list lines up from the right).
        string[][] fields = [.. Enumerable.Range(0, 3).Select(f => lines.Where((_, i) => i % 3 == f).ToArray())];
        List<ForwardedHop> xhops = ForwardedSyntax.ParseXForwarded(fields[0], fields[1], fields[2]);
        foreach (ForwardedHop hop in xhops) CheckHop(hop);
        // The proxy's own entries: each field's last line, when that line holds an entry (else an earlier
        // line's entry would line up with the nearest hop).
        string[][] proxyLines = [.. fields.Select(field => field.Length == 0 ? field : field[^1..])];
        bool proxyLinesHoldEntries = proxyLines.All(field => field.Length == 0 || ForwardedSyntax.SplitList(field[0]).Count > 0);
        CheckWalks(xhops, proxyLinesHoldEntries ? ForwardedSyntax.ParseXForwarded(proxyLines[0], proxyLines[1], proxyLines[2]) : []);
    }

    private static void CheckHop(ForwardedHop hop)
    {
        if (!hop.IsValid)
        {
            Check(hop.For is null && hop.Proto is null && hop.Host is null, "an invalid hop carries values");
            return;
        }
        if (hop.Proto is { } proto)
        {
            Check(ForwardedSyntax.TryParseScheme(proto, out string? again) && again == proto && proto == proto.ToLowerInvariant(), $"scheme '{proto}' not a lowercase RFC 3986 scheme");
        }
        if (hop.Host is { } host)
        {
            Check(HostSyntax.IsValidAuthority(Encoding.Latin1.GetBytes(host), requirePort: false), $"host '{host}' breaks RFC 9110 §7.2");
        }
        if (hop.For is { } address)
        {
            // The address a hop names survives being written as RFC 7239 writes a node and read back.
            string node = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address.Address}]:{address.Port}" : $"{address.Address}:{address.Port}";
            Check(ForwardedSyntax.TryParseNode(node, out IPEndPoint? reread) && address.Equals(reread), $"address {address} does not round-trip as '{node}'");
            Check(address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || address.Address.ScopeId == 0, $"address {address} with a zone");
        }
    }

    private static void CheckWalks(List<ForwardedHop> hops, List<ForwardedHop> proxyLineHops)
    {
        // Nothing trusted: nothing used, the peer stays.
        ForwardedResult none = ForwardedChain.Walk(ForwardingPeer, hops, static _ => false);
        Check(none.HopsUsed == 0 && none.RemoteEndPoint == ForwardingPeer && none.Scheme is null && none.Host is null, "an untrusted peer's fields were used");

        // Everything trusted: the walk goes up to the first invalid hop or the first without an address.
        ForwardedResult all = ForwardedChain.Walk(ForwardingPeer, hops, static _ => true);
        int expected = 0;
        while (expected < hops.Count && hops[expected].IsValid)
        {
            expected++;
            if (hops[expected - 1].For is null) break;
        }
        Check(all.HopsUsed == expected, $"trusting all, {all.HopsUsed} hops used, expected {expected}");

        // Only the peer trusted: only the proxy's own (rightmost) entry counts, so what the client put to its
        // left, however malformed, changes nothing.
        if (proxyLineHops.Count == 0) return;
        Func<IPAddress, bool> onlyPeer = address => address.Equals(ForwardingPeer.Address);
        ForwardedResult withClient = ForwardedChain.Walk(ForwardingPeer, hops, onlyPeer);
        ForwardedResult proxyOnly = ForwardedChain.Walk(ForwardingPeer, proxyLineHops, onlyPeer);
        // (Unless the proxy named the peer's own address, which is trusted, so the walk goes on.)
        if (proxyLineHops[0].For is { } named && named.Address.Equals(ForwardingPeer.Address)) return;
        Check(withClient.HopsUsed <= 1, "an untrusted hop's claim was believed");
        Check(withClient == proxyOnly, $"the client's lines changed the result: {withClient} vs {proxyOnly}");
    }
}

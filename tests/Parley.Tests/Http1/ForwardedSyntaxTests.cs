using System.Net;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>The grammar of Forwarded (RFC 7239) and X-Forwarded-*, and the walk through trusted hops.</summary>
public class ForwardedSyntaxTests
{
    private static readonly IPEndPoint Peer = new(IPAddress.Parse("10.0.0.1"), 5000);

    private static bool TrustTen(IPAddress address) => address.GetAddressBytes() is [10, ..];

    private static ForwardedResult WalkForwarded(params string[] lines) => ForwardedChain.Walk(Peer, ForwardedSyntax.ParseForwarded(lines), TrustTen);

    [Theory]
    [InlineData("for=192.0.2.43", "192.0.2.43:0")]
    [InlineData("For=\"192.0.2.43:4711\"", "192.0.2.43:4711")]
    [InlineData("for=\"[2001:db8:cafe::17]\"", "[2001:db8:cafe::17]:0")]
    [InlineData("for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1", "[2001:db8:cafe::17]:4711")]
    [InlineData("for=\"192.0.2.43:_hidden\"", "192.0.2.43:0")]
    [InlineData(" for=192.0.2.43 ; proto=http ;  ", "192.0.2.43:0")]
    public void RFC_7239_node_forms_give_the_address(string element, string expected)
    {
        ForwardedHop hop = ForwardedSyntax.ParseForwardedElement(element);
        Assert.True(hop.IsValid);
        Assert.Equal(expected, hop.For!.ToString());
    }

    [Theory]
    [InlineData("for=unknown")]
    [InlineData("for=_hidden")]
    [InlineData("for=\"_gazonk:_port\"")]
    [InlineData("proto=https")]
    [InlineData("")]
    public void Unknown_obfuscated_or_absent_for_is_valid_without_an_address(string element)
    {
        ForwardedHop hop = ForwardedSyntax.ParseForwardedElement(element);
        Assert.True(hop.IsValid);
        Assert.Null(hop.For);
    }

    [Theory]
    [InlineData("for=[2001:db8::1]")]           // §6: an IPv6 node is a quoted string (':' and '[' are not tchar)
    [InlineData("for=192.0.2.43;for=198.51.100.1")] // §4: a parameter at most once
    [InlineData("for=\"192.0.2.43")]            // unterminated quoted string
    [InlineData("for=1")]                       // not a dotted quad
    [InlineData("for=0x7f.1")]
    [InlineData("for=192.0.2.043")]             // no leading zeros
    [InlineData("for=\"192.0.2.43:65536\"")]
    [InlineData("for=\"[fe80::1%eth0]\"")]      // no zone
    [InlineData("for=192.0.2.43 proto=http")]
    [InlineData("proto=ht_tp")]                 // RFC 3986 §3.1 scheme
    [InlineData("host=\"a b\"")]
    [InlineData("for")]
    [InlineData("=x")]
    [InlineData("by=junk")]
    public void Grammar_breaks_make_the_hop_invalid(string element) =>
        Assert.False(ForwardedSyntax.ParseForwardedElement(element).IsValid);

    [Fact]
    public void Proto_is_lowercased_and_host_kept_with_its_port()
    {
        ForwardedHop hop = ForwardedSyntax.ParseForwardedElement("proto=HTTPS;host=\"example.com:8443\"");
        Assert.Equal(("https", "example.com:8443"), (hop.Proto, hop.Host));
    }

    [Fact]
    public void Commas_inside_quoted_strings_do_not_split_and_empty_elements_are_skipped() =>
        Assert.Equal(["a=\"x, y\"", "b=1"], ForwardedSyntax.SplitList(" a=\"x, y\" ,, b=1 ,"));

    [Fact]
    public void The_walk_believes_hops_only_while_the_sender_is_trusted()
    {
        // 10.0.0.1 (trusted peer) says 10.2.2.2 sent it; 10.2.2.2 says 203.0.113.1 did; that one is not trusted.
        ForwardedResult result = WalkForwarded("for=198.51.100.7;proto=http, for=203.0.113.1;proto=https;host=a.example", "for=10.2.2.2;host=b.example");
        Assert.Equal(("203.0.113.1:0", "https", "a.example", 2), (result.RemoteEndPoint.ToString(), result.Scheme, result.Host, result.HopsUsed));
    }

    [Fact]
    public void An_untrusted_peer_uses_nothing()
    {
        ForwardedResult result = ForwardedChain.Walk(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1), ForwardedSyntax.ParseForwarded(["for=203.0.113.1;proto=https"]), TrustTen);
        Assert.Equal(("192.0.2.1:1", null, 0), (result.RemoteEndPoint.ToString(), result.Scheme, result.HopsUsed));
    }

    [Fact]
    public void A_client_line_with_an_unterminated_quote_does_not_hide_the_proxys_own_line()
    {
        ForwardedResult result = WalkForwarded("for=\"198.51.100.7", "for=203.0.113.1");
        Assert.Equal(("203.0.113.1:0", 1), (result.RemoteEndPoint.ToString(), result.HopsUsed));
    }

    [Fact]
    public void An_invalid_hop_stops_the_walk_before_it()
    {
        ForwardedResult result = WalkForwarded("for=203.0.113.1, for=10.9.9.9;for=10.9.9.8, for=10.3.3.3");
        Assert.Equal(("10.3.3.3:0", 1), (result.RemoteEndPoint.ToString(), result.HopsUsed));
    }

    [Fact]
    public void A_hop_without_an_address_ends_the_walk_after_its_scheme()
    {
        ForwardedResult result = WalkForwarded("for=203.0.113.1, for=unknown;proto=https");
        Assert.Equal(("10.0.0.1:5000", "https", 1), (result.RemoteEndPoint.ToString(), result.Scheme, result.HopsUsed));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7:0")]
    [InlineData("203.0.113.7:4711", "203.0.113.7:4711")]
    [InlineData("2001:db8::7", "[2001:db8::7]:0")]
    [InlineData("[2001:db8::7]:4711", "[2001:db8::7]:4711")]
    public void X_Forwarded_For_entries_with_and_without_ports(string entry, string expected)
    {
        Assert.True(ForwardedSyntax.TryParseXForwardedFor(entry, out IPEndPoint? address));
        Assert.Equal(expected, address!.ToString());
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("203.0.113.7:")]
    [InlineData("203.0.113.7:_x")]
    [InlineData("203.0.113")]
    [InlineData("example.com")]
    [InlineData("[2001:db8::7")]
    public void X_Forwarded_For_entries_that_are_not_addresses_are_invalid(string entry) =>
        Assert.False(ForwardedSyntax.TryParseXForwardedFor(entry, out _));

    [Fact]
    public void X_Forwarded_fields_line_up_from_the_right()
    {
        // nginx appends to X-Forwarded-For but sets a single X-Forwarded-Proto: it describes the nearest hop.
        List<ForwardedHop> hops = ForwardedSyntax.ParseXForwarded(["203.0.113.1, 10.2.2.2"], ["https"], []);
        Assert.Equal(2, hops.Count);
        Assert.Equal(("10.2.2.2:0", "https"), (hops[0].For!.ToString(), hops[0].Proto));
        Assert.Equal(("203.0.113.1:0", (string?)null), (hops[1].For!.ToString(), hops[1].Proto));
        ForwardedResult result = ForwardedChain.Walk(Peer, hops, TrustTen);
        Assert.Equal(("203.0.113.1:0", "https", 2), (result.RemoteEndPoint.ToString(), result.Scheme, result.HopsUsed));
    }

    [Fact]
    public void IPv4_mapped_peers_are_compared_as_IPv4()
    {
        var mapped = new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.1"), 80);
        ForwardedResult result = ForwardedChain.Walk(mapped, ForwardedSyntax.ParseXForwarded(["203.0.113.1"], [], []), TrustTen);
        Assert.Equal("203.0.113.1:0", result.RemoteEndPoint.ToString());
    }

    [Fact]
    public void An_IPv6_peer_is_compared_as_itself_not_as_its_last_four_bytes()
    {
        // 2001:db8::a00:1 ends in the bytes of 10.0.0.1; only an IPv4-mapped address is read as IPv4.
        var peer = new IPEndPoint(IPAddress.Parse("2001:db8::a00:1"), 80);
        ForwardedResult result = ForwardedChain.Walk(peer, ForwardedSyntax.ParseXForwarded(["203.0.113.1"], [], []), TrustTen);
        Assert.Equal((peer, 0), (result.RemoteEndPoint, result.HopsUsed));
        Assert.Equal(IPAddress.Parse("2001:db8::a00:1"), ForwardedChain.Canonical(IPAddress.Parse("2001:db8::a00:1")));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), ForwardedChain.Canonical(IPAddress.Parse("::ffff:10.0.0.1")));
    }
}

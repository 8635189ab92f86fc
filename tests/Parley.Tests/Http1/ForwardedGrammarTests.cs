using System.Net;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// The corners of the Forwarded and X-Forwarded-* grammars: quoted strings and quoted pairs octet by octet
/// (RFC 9110 §5.6.4), parameters repeated (RFC 7239 §4), empty and unterminated values, bracketed nodes
/// cut short (RFC 7239 §6), and X-Forwarded-* fields of different lengths lined up from the right.
/// </summary>
public class ForwardedGrammarTests
{
    private static bool Valid(string element) => ForwardedSyntax.ParseForwardedElement(element).IsValid;

    // RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (%x80-FF).
    [Theory]
    [InlineData("\t", true)]
    [InlineData(" ", true)]
    [InlineData("!", true)]
    [InlineData("#", true)]
    [InlineData("[", true)]
    [InlineData("]", true)]
    [InlineData("~", true)]
    [InlineData("\u0080", true)]
    [InlineData("\u00FF", true)]
    [InlineData("\u0001", false)]
    [InlineData("\u001F", false)]
    [InlineData("\u007F", false)]
    [InlineData("\u0100", false)]
    public void A_quoted_value_takes_exactly_the_qdtext_octets(string octet, bool valid)
    {
        Assert.Equal(valid, Valid($"for=192.0.2.1;ext=\"a{octet}b\""));
        Assert.Equal(valid, Valid($"ext=\"{octet}\";for=192.0.2.1"));
    }

    // RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
    [Theory]
    [InlineData("\t", true)]
    [InlineData(" ", true)]
    [InlineData("!", true)]
    [InlineData("\"", true)]
    [InlineData("\\", true)]
    [InlineData("m", true)]
    [InlineData("~", true)]
    [InlineData("\u0080", true)]
    [InlineData("\u00FF", true)]
    [InlineData("\u0001", false)]
    [InlineData("\u001F", false)]
    [InlineData("\u007F", false)]
    [InlineData("\u0100", false)]
    public void A_quoted_pair_takes_exactly_HTAB_SP_VCHAR_and_obs_text(string octet, bool valid)
    {
        Assert.Equal(valid, Valid($"for=192.0.2.1;ext=\"a\\{octet}b\""));
    }

    [Fact]
    public void A_quoted_pair_stands_for_its_second_character()
    {
        ForwardedHop hop = ForwardedSyntax.ParseForwardedElement("host=\"exa\\mple.com\";proto=\"h\\ttps\"");
        Assert.Equal((true, "example.com", "https"), (hop.IsValid, hop.Host, hop.Proto));
    }

    [Theory]
    [InlineData("for=")]
    [InlineData("ext=;for=192.0.2.1")]
    [InlineData("for=192.0.2.1;ext=")]
    [InlineData("for=192.0.2.1;ext=\"abc")]
    [InlineData("for=192.0.2.1;ext=\"abc\\")]
    [InlineData("for=192.0.2.1;ext=\"")]
    [InlineData("host=\"\"")]
    public void Empty_and_unterminated_values_are_invalid(string element) => Assert.False(Valid(element));

    // RFC 7239 §4: each parameter MUST NOT occur more than once per forwarded-element.
    [Theory]
    [InlineData("proto=http;proto=https")]
    [InlineData("host=a.example;Host=b.example")]
    [InlineData("by=unknown;BY=unknown")]
    [InlineData("for=unknown;for=unknown")]
    [InlineData("ext=1;EXT=2")]
    public void A_parameter_given_twice_makes_the_element_invalid(string element)
    {
        Assert.False(Valid(element));
        // Each of the two alone is fine.
        foreach (string pair in element.Split(';')) Assert.True(Valid(pair), pair);
    }

    // RFC 7239 §6: "[" IPv6address "]" [ ":" node-port ]; anything else after the bracket is not a node.
    [Theory]
    [InlineData("[2001:db8::1", false)]
    [InlineData("[2001:db8::1]x", false)]
    [InlineData("[2001:db8::1]:", false)]
    [InlineData("[2001:db8::1]:99999", false)]
    [InlineData("[2001:db8::1]:8a", false)]
    [InlineData("[2001:db8::1]:_obf.x-y", true)]
    [InlineData("192.0.2.1:8a", false)]
    [InlineData("192.0.2.1:a8", false)]
    [InlineData("_a.b_c-d", true)]
    [InlineData("_a!b", false)]
    [InlineData("192.0.2.1:_p.q_r", true)]
    [InlineData("192.0.2.1:_p!q", false)]
    public void Nodes_cut_short_or_with_stray_bytes_are_invalid(string node, bool valid)
    {
        Assert.Equal(valid, ForwardedSyntax.TryParseNode(node, out IPEndPoint? address));
        if (!valid) Assert.Null(address);
        Assert.Equal(valid, Valid($"for=\"{node}\""));
    }

    [Fact]
    public void A_comma_inside_a_quoted_string_with_an_escaped_quote_does_not_split_the_list()
    {
        Assert.Equal(new[] { "for=\"a\\\",b\";x=y", "for=unknown" }, ForwardedSyntax.SplitList("for=\"a\\\",b\";x=y, for=unknown"));
        Assert.Equal(new[] { "x=\"\\\\\"", "y=1" }, ForwardedSyntax.SplitList("x=\"\\\\\",y=1"));
    }

    [Fact]
    public void X_Forwarded_fields_of_any_length_give_one_hop_per_entry_of_the_longest()
    {
        // Only protos: two hops with a scheme and no address, the nearest (rightmost) first.
        List<ForwardedHop> hops = ForwardedSyntax.ParseXForwarded([], ["https, http"], []);
        Assert.Equal(new[] { new ForwardedHop(null, "http", null, true), new ForwardedHop(null, "https", null, true) }, hops);
        // Only hosts.
        hops = ForwardedSyntax.ParseXForwarded([], [], ["a.example, b.example:8080"]);
        Assert.Equal(new[] { new ForwardedHop(null, null, "b.example:8080", true), new ForwardedHop(null, null, "a.example", true) }, hops);
        // One address, two protos: the farther hop has a scheme and no address.
        hops = ForwardedSyntax.ParseXForwarded(["192.0.2.1"], ["https, http"], []);
        Assert.Equal(2, hops.Count);
        Assert.Equal(("192.0.2.1:0", "http"), (hops[0].For!.ToString(), hops[0].Proto));
        Assert.Equal(new ForwardedHop(null, "https", null, true), hops[1]);
        // Two addresses, nothing else.
        hops = ForwardedSyntax.ParseXForwarded(["192.0.2.1, 192.0.2.2"], [], []);
        Assert.Equal(new[] { "192.0.2.2:0", "192.0.2.1:0" }, hops.Select(h => h.For!.ToString()));
    }

    [Theory]
    [InlineData("not-an-address", "https", "a.example")]
    [InlineData("192.0.2.1", "h t", "a.example")]
    [InlineData("192.0.2.1", "https", "a b")]
    public void An_X_Forwarded_hop_with_any_entry_invalid_is_invalid(string forEntry, string proto, string host)
    {
        List<ForwardedHop> hops = ForwardedSyntax.ParseXForwarded([forEntry], [proto], [host]);
        Assert.Equal(new[] { ForwardedHop.Invalid }, hops);
    }
}

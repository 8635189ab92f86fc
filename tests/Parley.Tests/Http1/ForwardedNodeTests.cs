using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>The boundaries of Forwarded node syntax (RFC 7239 §6), its addresses (RFC 3986 §3.2.2) and the scheme of proto (RFC 3986 §3.1).</summary>
public class ForwardedNodeTests
{
    [Theory]
    // A port's ':' is not a token character: such a node is sent quoted (RFC 7239 §4).
    [InlineData("192.0.2.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("256.0.0.1", false)]
    [InlineData("1.2.3.4.5", false)]
    [InlineData("1..2.3", false)]
    [InlineData("1.2.3", false)]
    [InlineData("1.2.3.1000", false)]
    [InlineData("\"192.0.2.1:12345\"", true)]
    [InlineData("\"192.0.2.1:65535\"", true)]
    [InlineData("\"192.0.2.1:65536\"", false)]
    [InlineData("\"192.0.2.1:123456\"", false)]
    [InlineData("\"192.0.2.1:\"", false)]
    [InlineData("\"192.0.2.1:_p-1\"", true)]
    [InlineData("\"[::]\"", true)]
    [InlineData("\"[::1]:8080\"", true)]
    [InlineData("\"[0000:0000:0000:0000:0000:ffff:255.255.255.255]\"", true)]
    [InlineData("\"[0000:0000:0000:0000:0000:ffff:255.255.255.255:1]\"", false)]
    [InlineData("_a", true)]
    [InlineData("_", false)]
    [InlineData("unknown", true)]
    public void Reads_node_values_RFC7239_6(string value, bool valid) =>
        Assert.Equal(valid, ForwardedSyntax.ParseForwardedElement("for=" + value).IsValid);

    [Theory]
    [InlineData("https", "https")]
    [InlineData("A+b-c.d", "a+b-c.d")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdef", "abcdefghijklmnopqrstuvwxyzabcdef")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefg", null)]
    [InlineData("a*b", null)]
    [InlineData("1http", null)]
    [InlineData("", null)]
    public void Reads_schemes_RFC3986_3_1(string text, string? expected)
    {
        Assert.Equal(expected is not null, ForwardedSyntax.TryParseScheme(text, out string? scheme));
        Assert.Equal(expected, scheme);
    }
}

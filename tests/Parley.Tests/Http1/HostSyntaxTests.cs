using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// <c>uri-host [ ":" port ]</c> (RFC 3986 §3.2.2-§3.2.3) for Host fields (RFC 9110 §7.2) and authority
/// targets. The Host check's 16-byte fast path must answer exactly what the full check answers, whatever
/// bytes surround the value in the head.
/// </summary>
public class HostSyntaxTests
{
    public static TheoryData<string, bool> HostValues => new()
    {
        { "a", true },
        { "example.com", true },
        { "example.com:8080", true },
        { "a:1", true },
        { "a:", true },
        { "a:65535", true },
        { "a:12345", true },
        { "1234567890123456", true },
        { "a.b-c.d:12345678", false },
        { "a:123456", false },
        { "a:xy", false },
        { "a:1x", false },
        { ":80", false },
        { "/:80", false },
        { "/12", false },
        { "@99", false },
        { "/", false },
        { "a/b", false },
        { "a b", false },
        { "user@host", false },
        { "a:b:c", false },
        { "ex\u00d0mple", false },
        { "h:\u00d3", false },
        { "a\u00a5b", false },
        { "a%zz%41", false },
        { "%zz%", false },
        { "a%41", true },
        { "[::1]", true },
        { "[::1]:443", true },
        { "[::1]:", true },
        { "[::1]:abc", false },
        { "[::1]:65535", true },
        { "[::1]:123456", false },
        { "[]", false },
        { "[a]", false },                       // RFC 3986 §3.2.2: neither an IPv6address nor IPvFuture
        { "[1.2.3.4]", false },                 // an IPv4 address is not an IP-literal
        { "[1::2::3]", false },                 // two "::"
        { "[12345::1]", false },                // h16 is at most four hex digits
        { "[fe80::1%25eth0]", false },          // a zone identifier (RFC 6874) is no IPv6address
        { "[::g]", false },                     // 'g' is no hex digit
        { "[2001:db8::7]:8080", true },
        { "[::ffff:192.0.2.1]", true },         // ls32 as an IPv4 address
        { "[v1.x]", true },                     // IPvFuture
        { "[v1.]", false },
        { "[v.x]", false },
        { "[vg.x]", false },
        { "[::1", false },
        { "[::1]x", false },
        { "a/bcdefghijklmnopqrstuvwxyz012345", false },
        { "a/bcdefghijklmnopqrstuvwxyz0123456", false },
        { "abcdefghijklmnopqrstuvwxyz0123456", true },
        { "abcdefghijklmnopqrstuvwxyz0123:80", true },
        { "abcdefghijklmnopqrstuvwxyz012:123456", false },
    };

    [Theory]
    [MemberData(nameof(HostValues))]
    public void Checks_Host_values_RFC9110_7_2(string value, bool valid)
    {
        byte[] valueBytes = Encoding.Latin1.GetBytes(value);
        Assert.Equal(valid, HostSyntax.IsValidAuthority(valueBytes, requirePort: false, allowEmpty: true));
        // The bytes around the value vary: the fast path loads 16 bytes from the value's start.
        foreach (string before in new[] { "", "Host: ", "GET / HTTP/1.1\r\nHost:\t" })
        {
            foreach (string after in new[] { "", "\r\n", " \r\n\r\n", "\r\n\r\n0123456789abcdef", "aaaaaaaaaaaaaaaaaaaa", "00000000000000000000", "::::::::::::::::::::" })
            {
                byte[] source = Encoding.Latin1.GetBytes(before + value + after);
                Assert.True(valid == HostSyntax.IsValidHostField(source, before.Length, source.AsSpan(before.Length, valueBytes.Length)),
                    $"'{value}' between '{before}' and '{after}'");
            }
        }
    }

    [Fact]
    public void Accepts_an_empty_Host_value_RFC9110_7_2()
    {
        byte[] source = Encoding.ASCII.GetBytes("Host: \r\n\r\n0123456789abcdef");
        Assert.True(HostSyntax.IsValidHostField(source, 6, source.AsSpan(6, 0)));
    }

    [Theory]
    [InlineData("", false, false, false)]
    [InlineData("", false, true, true)]
    [InlineData("", true, true, false)]
    [InlineData("a", true, false, false)]
    [InlineData("a:", true, false, false)]
    [InlineData("a:80", true, false, true)]
    [InlineData("[::1]", true, false, false)]
    [InlineData("[::1]:", true, false, false)]
    [InlineData("[::1]:80", true, false, true)]
    public void Authority_targets_need_host_and_port_RFC9112_3_2_3(string value, bool requirePort, bool allowEmpty, bool valid) =>
        Assert.Equal(valid, HostSyntax.IsValidAuthority(Encoding.ASCII.GetBytes(value), requirePort, allowEmpty));
}

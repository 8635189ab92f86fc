using System.Buffers.Binary;
using System.Net;
using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// The PROXY protocol header (HAProxy's spec, §2.1 and §2.2), fed whole, one byte at a time, and split at
/// every offset: the outcome never depends on how the bytes arrived, and the parser never asks to
/// receive past the header's end.
/// </summary>
public class ProxyProtocolParserTests
{
    private static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>A version 2 header: signature, version/command, family/transport, length, then <paramref name="block"/>.</summary>
    internal static byte[] V2(byte versionCommand, byte familyTransport, byte[] block)
    {
        var bytes = new byte[16 + block.Length];
        Signature.CopyTo(bytes, 0);
        bytes[12] = versionCommand;
        bytes[13] = familyTransport;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(14), (ushort)block.Length);
        block.CopyTo(bytes, 16);
        return bytes;
    }

    internal static byte[] Inet4Block(string source, int sourcePort, string destination, int destinationPort, params byte[] tlvs)
    {
        var block = new byte[12 + tlvs.Length];
        IPAddress.Parse(source).GetAddressBytes().CopyTo(block, 0);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(block, 4);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(8), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(10), (ushort)destinationPort);
        tlvs.CopyTo(block, 12);
        return block;
    }

    private static byte[] Inet6Block(string source, int sourcePort, string destination, int destinationPort)
    {
        var block = new byte[36];
        IPAddress.Parse(source).GetAddressBytes().CopyTo(block, 0);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(block, 16);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(32), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(34), (ushort)destinationPort);
        return block;
    }

    /// <summary>
    /// Feeds <paramref name="input"/> the way the connection does: receiving only what
    /// <see cref="ProxyProtocolParser.BytesWanted"/> allows, at most <paramref name="step"/> bytes at a time.
    /// Returns the final status, the header and how many bytes were taken from the input.
    /// </summary>
    internal static (ParseStatus Status, ProxyProtocolHeader? Header, int Consumed, string? Reason) Feed(byte[] input, int step)
    {
        int length = 0;
        while (true)
        {
            ParseStatus status = ProxyProtocolParser.Parse(input.AsSpan(0, length), out ProxyProtocolHeader? header, out int consumed, out string? reason);
            if (status != ParseStatus.NeedMoreData) return (status, header, consumed, reason);
            int wanted = ProxyProtocolParser.BytesWanted(input.AsSpan(0, length));
            Assert.True(wanted > 0);
            if (length == input.Length) return (status, null, length, null);
            length = Math.Min(input.Length, length + Math.Min(wanted, step));
        }
    }

    private static ProxyProtocolHeader ParseEveryWay(byte[] header, int expectedLength)
    {
        // What follows the header (here an HTTP request) must never be asked for.
        byte[] input = [.. header, .. "GET / HTTP/1.1\r\n"u8];
        ProxyProtocolHeader? first = null;
        foreach (int step in new[] { int.MaxValue, 1, 2, 3, 7 })
        {
            var (status, parsed, consumed, reason) = Feed(input, step);
            Assert.True(status == ParseStatus.Complete, reason);
            Assert.Equal(expectedLength, consumed);
            first ??= parsed;
            Assert.Equal(first!.Source, parsed!.Source);
            Assert.Equal(first.Command, parsed.Command);
        }
        // Every strict prefix is incomplete, never invalid, and the whole input at once parses the same.
        for (int split = 0; split < expectedLength; split++)
            Assert.Equal(ParseStatus.NeedMoreData, ProxyProtocolParser.Parse(input.AsSpan(0, split), out _, out _, out _));
        Assert.Equal(ParseStatus.Complete, ProxyProtocolParser.Parse(input, out _, out int all, out _));
        Assert.Equal(expectedLength, all);
        return first!;
    }

    private static string Reject(byte[] input)
    {
        foreach (int step in new[] { int.MaxValue, 1, 5 })
        {
            var (status, _, _, reason) = Feed(input, step);
            Assert.Equal(ParseStatus.Invalid, status);
            Assert.NotNull(reason);
        }
        return Feed(input, int.MaxValue).Reason!;
    }

    [Fact]
    public void Version_1_TCP4_names_the_client()
    {
        byte[] line = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"u8.ToArray();
        ProxyProtocolHeader header = ParseEveryWay(line, line.Length);
        Assert.Equal(1, header.Version);
        Assert.Equal(ProxyProtocolCommand.Proxy, header.Command);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 56324), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 443), header.Destination);
        Assert.Empty(header.Tlvs);
    }

    [Fact]
    public void Version_1_TCP6_names_the_client()
    {
        byte[] line = "PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n"u8.ToArray();
        ProxyProtocolHeader header = ParseEveryWay(line, line.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 65535), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::2"), 0), header.Destination);
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:f:f:f:f:f:f:ffff ffff:f:f:f:f:f:f:ffff 65535 65535\r\n")]
    public void Version_1_UNKNOWN_keeps_the_real_peer_and_ignores_the_rest_of_the_line(string text)
    {
        byte[] line = Encoding.ASCII.GetBytes(text);
        ProxyProtocolHeader header = ParseEveryWay(line, line.Length);
        Assert.Null(header.Source);
        Assert.Null(header.Destination);
    }

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\n", "CRLF")]
    [InlineData("PROXY TCP5 192.0.2.10 198.51.100.1 56324 443\r\n", "TCP4, TCP6 or UNKNOWN")]
    [InlineData("PROXY TCP4  192.0.2.10 198.51.100.1 56324 443\r\n", "one space apart")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324\r\n", "one space apart")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443 1\r\n", "one space apart")]
    [InlineData("PROXY TCP4\r\n", "one space apart")]
    [InlineData("PROXY TCP4 2001:db8::1 198.51.100.1 56324 443\r\n", "IPv4")]
    [InlineData("PROXY TCP4 192.0.2 198.51.100.1 56324 443\r\n", "IPv4")]
    [InlineData("PROXY TCP4 192.0.2.256 198.51.100.1 56324 443\r\n", "IPv4")]
    [InlineData("PROXY TCP4 0x7f.0.0.1 198.51.100.1 56324 443\r\n", "IPv4")]
    [InlineData("PROXY TCP6 192.0.2.10 2001:db8::2 1 2\r\n", "IPv6")]
    [InlineData("PROXY TCP6 fe80::1%eth0 2001:db8::2 1 2\r\n", "IPv6")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 65536 443\r\n", "port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 -1 443\r\n", "port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 123456 443\r\n", "port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 000443 443\r\n", "port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 443 0000080\r\n", "port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 44: 443\r\n", "port")]
    [InlineData("PROXY TCP4 192..2.10 198.51.100.1 1 2\r\n", "IPv4")]
    [InlineData("PROXY TCP4 1920.0.2.10 198.51.100.1 1 2\r\n", "IPv4")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100. 1 2\r\n", "IPv4")]
    [InlineData("PROXY TCP4 1111111111111111111111111111111111111111111111 198.51.100.1 1 2\r\n", "IPv4")]
    [InlineData("PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1 ::1 1 2\r\n", "IPv6")]
    [InlineData("PROXY UNKNOWN \u0001\r\n", "control byte")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "does not start with a PROXY protocol header")]
    [InlineData("proxy TCP4 192.0.2.10 198.51.100.1 1 2\r\n", "does not start with a PROXY protocol header")]
    public void Malformed_version_1_is_rejected_naming_the_rule(string text, string expected)
    {
        string reason = Reject(Encoding.Latin1.GetBytes(text));
        Assert.Contains(expected, reason);
        Assert.Contains("§2.", reason);
    }

    [Fact]
    public void A_version_1_line_without_CRLF_within_107_bytes_is_rejected()
    {
        string reason = Reject(Encoding.ASCII.GetBytes("PROXY UNKNOWN " + new string('a', 200)));
        Assert.Contains("107 bytes", reason);
        // 107 bytes exactly, CRLF included, is still a header (§2.1's worst case).
        byte[] longest = Encoding.ASCII.GetBytes("PROXY UNKNOWN " + new string('a', 107 - 16) + "\r\n");
        Assert.Equal(107, longest.Length);
        ParseEveryWay(longest, 107);
    }

    [Fact]
    public void Version_2_PROXY_over_IPv4_names_the_client_and_keeps_the_TLVs()
    {
        byte[] tlvs = [0x02, 0x00, 0x0B, .. "example.com"u8, 0x05, 0x00, 0x02, 0xAB, 0xCD, 0x04, 0x00, 0x00];
        byte[] header = V2(0x21, 0x11, Inet4Block("203.0.113.7", 40000, "192.0.2.1", 8443, tlvs));
        ProxyProtocolHeader parsed = ParseEveryWay(header, header.Length);
        Assert.Equal(2, parsed.Version);
        Assert.Equal(ProxyProtocolCommand.Proxy, parsed.Command);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 40000), parsed.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 8443), parsed.Destination);
        Assert.Equal([0x02, 0x05, 0x04], parsed.Tlvs.Select(t => t.Type));
        Assert.Equal("example.com", Encoding.ASCII.GetString(parsed.FindTlv(0x02)!.Value.Span));
        Assert.Equal([0xAB, 0xCD], parsed.FindTlv(0x05)!.Value.ToArray());
        Assert.Equal(0, parsed.FindTlv(0x04)!.Value.Length);
        Assert.Null(parsed.FindTlv(0x20));
    }

    [Fact]
    public void Version_2_PROXY_over_IPv6_names_the_client()
    {
        byte[] header = V2(0x21, 0x21, Inet6Block("2001:db8::7", 1, "2001:db8::1", 443));
        ProxyProtocolHeader parsed = ParseEveryWay(header, header.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 1), parsed.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 443), parsed.Destination);
    }

    [Fact]
    public void Version_2_LOCAL_keeps_the_real_peer_and_skips_its_block()
    {
        // §2.2: LOCAL discards the block whatever it holds, the family included.
        byte[] header = V2(0x20, 0x11, [1, 2, 3]);
        ProxyProtocolHeader parsed = ParseEveryWay(header, header.Length);
        Assert.Equal(ProxyProtocolCommand.Local, parsed.Command);
        Assert.Null(parsed.Source);
        Assert.Empty(parsed.Tlvs);
    }

    [Theory]
    [InlineData(0x00, 0)]   // UNSPEC
    [InlineData(0x31, 216)] // UNIX stream
    [InlineData(0x12, 12)]  // INET datagram
    public void Version_2_PROXY_without_a_TCP_address_keeps_the_real_peer(byte familyTransport, int blockLength)
    {
        byte[] header = V2(0x21, familyTransport, new byte[blockLength]);
        ProxyProtocolHeader parsed = ParseEveryWay(header, header.Length);
        Assert.Equal(ProxyProtocolCommand.Proxy, parsed.Command);
        Assert.Null(parsed.Source);
    }

    [Theory]
    [InlineData(0x11, 0x11, "version other than 2")]
    [InlineData(0x22, 0x11, "neither LOCAL nor PROXY")]
    [InlineData(0x2F, 0x11, "neither LOCAL nor PROXY")]
    [InlineData(0x21, 0x41, "not one of those defined")]
    [InlineData(0x21, 0x13, "not one of those defined")]
    public void Version_2_with_undefined_fixed_fields_is_rejected(byte versionCommand, byte familyTransport, string expected)
    {
        string reason = Reject(V2(versionCommand, familyTransport, Inet4Block("203.0.113.7", 1, "192.0.2.1", 2)));
        Assert.Contains(expected, reason);
        Assert.Contains("§2.2", reason);
    }

    [Theory]
    [InlineData(0x11, 11)]
    [InlineData(0x21, 35)]
    [InlineData(0x31, 215)]
    public void Version_2_length_shorter_than_its_address_family_is_rejected(byte familyTransport, int blockLength)
    {
        Assert.Contains("shorter than its address family", Reject(V2(0x21, familyTransport, new byte[blockLength])));
    }

    [Theory]
    [InlineData(new byte[] { 0x02 })]
    [InlineData(new byte[] { 0x02, 0x00 })]
    [InlineData(new byte[] { 0x02, 0x00, 0x02, 0x61 })]
    [InlineData(new byte[] { 0x04, 0x00, 0x00, 0x02, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x04, 0x00, 0x00, 0x02 })]
    [InlineData(new byte[] { 0x04, 0x00, 0x00, 0x02, 0x00 })]
    [InlineData(new byte[] { 0x04, 0x00, 0x00, 0x02, 0x00, 0x02, 0x61 })]
    public void Version_2_TLV_running_past_the_length_is_rejected(byte[] tlvs)
    {
        Assert.Contains("§2.2.7", Reject(V2(0x21, 0x11, Inet4Block("203.0.113.7", 1, "192.0.2.1", 2, tlvs))));
    }

    [Fact]
    public void Version_2_asks_for_exactly_the_declared_length()
    {
        byte[] header = V2(0x21, 0x11, Inet4Block("203.0.113.7", 1, "192.0.2.1", 2, 0x04, 0x00, 0x03, 1, 2, 3));
        // Nothing yet: the shortest header of either version is 15 bytes ("PROXY UNKNOWN\r\n").
        Assert.Equal(15, ProxyProtocolParser.BytesWanted([]));
        Assert.Equal(4, ProxyProtocolParser.BytesWanted(header.AsSpan(0, 12)));
        Assert.Equal(header.Length - 16, ProxyProtocolParser.BytesWanted(header.AsSpan(0, 16)));
        Assert.Equal(1, ProxyProtocolParser.BytesWanted(header.AsSpan(0, header.Length - 1)));
    }

    [Fact]
    public void The_largest_version_2_header_parses()
    {
        // 65535 bytes of block: an INET address and one NOOP TLV filling the rest.
        int tlvLength = 65535 - 12 - 3;
        byte[] tlv = [0x04, (byte)(tlvLength >> 8), (byte)tlvLength, .. new byte[tlvLength]];
        byte[] header = V2(0x21, 0x11, Inet4Block("203.0.113.7", 1, "192.0.2.1", 2, tlv));
        Assert.Equal(16 + 65535, header.Length);
        var (status, parsed, consumed, _) = Feed([.. header, 0x47], int.MaxValue);
        Assert.Equal(ParseStatus.Complete, status);
        Assert.Equal(header.Length, consumed);
        Assert.Equal(tlvLength, parsed!.Tlvs.Single().Value.Length);
    }

    [Fact]
    public void Version_1_addresses_and_ports_at_their_longest_and_with_every_digit_parse()
    {
        // §2.1: the longest TCP6 address is 45 characters (IPv4-mapped with every group written out).
        byte[] line = "PROXY TCP6 0000:0000:0000:0000:0000:ffff:192.168.100.200 ::1 98765 9\r\n"u8.ToArray();
        Assert.Contains("port", Reject(line));
        line = "PROXY TCP6 0000:0000:0000:0000:0000:ffff:192.168.100.200 ::1 59999 9\r\n"u8.ToArray();
        ProxyProtocolHeader header = ParseEveryWay(line, line.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("::ffff:192.168.100.200"), 59999), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9), header.Destination);
        line = "PROXY TCP4 255.255.255.255 0.0.0.0 12389 65535\r\n"u8.ToArray();
        header = ParseEveryWay(line, line.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Broadcast, 12389), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 65535), header.Destination);
    }

    [Fact]
    public void A_version_1_line_of_107_bytes_without_LF_is_rejected_as_soon_as_it_is_there()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("PROXY UNKNOWN " + new string('a', 107 - 14));
        Assert.Equal(107, bytes.Length);
        Assert.Equal(ParseStatus.NeedMoreData, ProxyProtocolParser.Parse(bytes.AsSpan(0, 106), out _, out _, out _));
        Assert.Equal(ParseStatus.Invalid, ProxyProtocolParser.Parse(bytes, out _, out _, out string? reason));
        Assert.Contains("107 bytes", reason);
    }

    [Theory]
    [InlineData("", 15)]
    [InlineData("P", 14)]
    [InlineData("PROXY ", 9)]
    [InlineData("PROXY UNKNOWN\r", 1)]
    [InlineData("PROXY UNKNOWN abc", 1)]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 5", 1)]
    public void Version_1_asks_for_no_more_than_the_shortest_line_still_possible(string buffered, int wanted)
    {
        // §2.1: the shortest line is "PROXY UNKNOWN\r\n" (15 bytes); after that, one byte at a time.
        Assert.Equal(wanted, ProxyProtocolParser.BytesWanted(Encoding.ASCII.GetBytes(buffered)));
    }
}

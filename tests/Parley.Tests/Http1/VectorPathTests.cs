using System.Text;
using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>
/// The field-line walk over 64-byte bitmask blocks (<see cref="HeadScanner"/>) and the 32-byte target scan
/// only pay off on heads longer than the samples elsewhere: these heads have many lines of random lengths,
/// so names, colons and line ends fall on every position relative to a block, and the buffer ends at every
/// offset of its last block. Checked against fields split by string functions, and (mutated) parsed whole,
/// byte by byte and split at every offset by the harness. Also the one-load shortcut for Host values.
/// </summary>
public class VectorPathTests
{
    private const string NameBytes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    private const string ValueBytes = "abcXYZ019 \t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private static string RandomHead(Random random, out List<(string Name, string Value)> fields)
    {
        fields = [];
        var text = new StringBuilder();
        string target = "/" + new string('p', random.Next(0, 80)) + (random.Next(2) == 0 ? "?q=" + new string('v', random.Next(0, 40)) : "");
        text.Append("GET ").Append(target).Append(" HTTP/1.1\r\nHost: example.com\r\n");
        fields.Add(("Host", "example.com"));
        int count = random.Next(1, 20);
        for (int i = 0; i < count; i++)
        {
            var name = new StringBuilder();
            int nameLength = random.Next(1, 24);
            for (int j = 0; j < nameLength; j++) name.Append(NameBytes[random.Next(NameBytes.Length)]);
            var value = new StringBuilder();
            int valueLength = random.Next(0, 150);
            for (int j = 0; j < valueLength; j++) value.Append(ValueBytes[random.Next(ValueBytes.Length)]);
            if (random.Next(8) == 0) value.Append('\u00e9'); // obs-text, RFC 9110 §5.5
            // Names the engine interprets would make some heads invalid; keep this about line splitting.
            string n = name.ToString();
            if (KnownFields.Identify(Encoding.Latin1.GetBytes(n)) != KnownField.Other) n = "x" + n;
            string leading = new(' ', random.Next(0, 3)), trailing = random.Next(3) == 0 ? " \t" : "";
            text.Append(n).Append(':').Append(leading).Append(value).Append(trailing).Append("\r\n");
            fields.Add((n, value.ToString().Trim(' ', '\t')));
        }
        text.Append("\r\n");
        return text.ToString();
    }

    [Fact]
    public void Long_heads_give_every_field_line_as_split_by_string_functions() // RFC 9112 §5
    {
        var random = new Random(9112);
        for (int round = 0; round < 400; round++)
        {
            string request = RandomHead(random, out var expected);
            byte[] bytes = Bytes(request);
            // Trailing bytes after the head (a pipelined next request) must not change anything.
            foreach (byte[] input in new[] { bytes, [.. bytes, .. Bytes("GET / HTTP/1.1\r\n")] })
            {
                var head = new RequestHead();
                Assert.Equal(ParseStatus.Complete, RequestHeadParser.Parse(input, head, HeadLimits.Default, out _));
                Assert.Equal(bytes.Length, head.HeadLength);
                Assert.Equal(expected.Count, head.Fields.Count);
                for (int i = 0; i < expected.Count; i++)
                {
                    Assert.Equal(expected[i].Name, Latin1(head.Fields.NameAt(i)));
                    Assert.Equal(expected[i].Value, Latin1(head.Fields.ValueAt(i)));
                }
                string target = request[4..request.IndexOf(" HTTP/1.1", StringComparison.Ordinal)];
                Assert.Equal(target, Latin1(head.Target));
                int q = target.IndexOf('?');
                Assert.Equal(q < 0 ? target : target[..q], Latin1(head.RawPath));
            }
        }
    }

    [Fact]
    public void The_Host_shortcut_agrees_with_the_full_authority_check() // RFC 9110 §7.2, RFC 3986 §3.2.2
    {
        var random = new Random(3986);
        const string alphabet = "aZ09-.:_~%[]@ \u00e9";
        for (int round = 0; round < 20000; round++)
        {
            var value = new StringBuilder();
            int length = random.Next(0, 20);
            for (int i = 0; i < length; i++) value.Append(random.Next(3) == 0 ? alphabet[random.Next(alphabet.Length)] : "ab1."[random.Next(4)]);
            byte[] valueBytes = Bytes(value.ToString());
            // The value at some offset of a source with 0 to 20 bytes after it, as in a head.
            int before = random.Next(0, 5), after = random.Next(0, 20);
            byte[] source = [.. Bytes(new string('x', before)), .. valueBytes, .. Bytes(new string('\r', after))];
            Assert.True(
                HostSyntax.IsValidAuthority(valueBytes, requirePort: false, allowEmpty: true)
                    == HostSyntax.IsValidHostField(source, before, source.AsSpan(before, valueBytes.Length)),
                value.ToString());
        }
    }

    [Fact]
    public void Long_heads_with_a_stray_byte_parse_the_same_however_the_bytes_arrive() // RFC 9112 §2.2, §5
    {
        var random = new Random(5110);
        byte[] strays = Bytes("\r\n\0\u007f\t :%#?\u00e9_");
        for (int round = 0; round < 25; round++)
        {
            byte[] bytes = Bytes(RandomHead(random, out _));
            int at = random.Next(bytes.Length);
            bytes[at] = strays[random.Next(strays.Length)];
            Request(bytes);
        }
    }
}

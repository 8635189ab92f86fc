using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>Percent-decoding (RFC 3986 §2.1) and the form pair split (WHATWG URL §5.1), byte by byte.</summary>
public class PercentEncodingTests
{
    private static string Decode(string source, bool plusAsSpace)
    {
        byte[] input = Encoding.ASCII.GetBytes(source);
        byte[] output = new byte[input.Length];
        int length = PercentEncoding.Decode(input, output, plusAsSpace);
        return Encoding.Latin1.GetString(output, 0, length);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("abc", "abc")]
    [InlineData("%41", "A")]
    [InlineData("a%2fb", "a/b")]
    [InlineData("%2F%2f", "//")]
    [InlineData("%e9", "\u00e9")]
    [InlineData("x%41y%42z", "xAyBz")]
    // A hex digit of value 0, high or low (HexValue answers 0, not "no digit").
    [InlineData("%0A", "\n")]
    [InlineData("%A0", "\u00a0")]
    [InlineData("%00", "\0")]
    // WHATWG URL §1.3: a '%' without two hex digits after it stays as it is.
    [InlineData("%", "%")]
    [InlineData("%4", "%4")]
    [InlineData("a%4", "a%4")]
    [InlineData("%G1", "%G1")]
    [InlineData("%1G", "%1G")]
    [InlineData("%%41", "%A")]
    [InlineData("100%", "100%")]
    [InlineData("a+b", "a+b")]
    public void Decodes_escapes_RFC3986_2_1(string source, string expected) =>
        Assert.Equal(expected, Decode(source, plusAsSpace: false));

    [Theory]
    [InlineData("a+b", "a b")]
    [InlineData("+", " ")]
    [InlineData("%2B+", "+ ")]
    [InlineData("%+1", "% 1")]
    public void Decodes_plus_as_space_in_forms_WHATWG_URL_5_1(string source, string expected) =>
        Assert.Equal(expected, Decode(source, plusAsSpace: true));

    [Theory]
    [InlineData("", -1)]
    [InlineData("abc", -1)]
    [InlineData("%41", -1)]
    [InlineData("%41%42", -1)]
    [InlineData("%0A", -1)]
    [InlineData("%A0", -1)]
    [InlineData("a%00", -1)]
    [InlineData("%", 0)]
    [InlineData("%4", 0)]
    [InlineData("ab%4", 2)]
    [InlineData("%41%", 3)]
    [InlineData("%41%4", 3)]
    [InlineData("%G1", 0)]
    [InlineData("%1G", 0)]
    [InlineData("a%41b%zz", 5)]
    // The two bytes after an escape are its hex digits, not the start of another escape.
    [InlineData("%25%41", -1)]
    [InlineData("%2541", -1)]
    public void Finds_the_first_malformed_escape(string source, int expected) =>
        Assert.Equal(expected, PercentEncoding.IndexOfMalformedEscape(Encoding.ASCII.GetBytes(source)));

    [Theory]
    [InlineData("", false, "")]
    [InlineData("plain", false, "plain")]
    [InlineData("a+b", false, "a+b")]
    [InlineData("a+b", true, "a b")]
    [InlineData("caf%C3%A9", false, "café")]
    [InlineData("%FF", false, "\uFFFD")]
    [InlineData("%C3", true, "\uFFFD")]
    public void Decodes_to_UTF8_text(string source, bool plusAsSpace, string expected) =>
        Assert.Equal(expected, PercentEncoding.DecodeToString(Encoding.ASCII.GetBytes(source), plusAsSpace));

    [Fact]
    public void Decodes_to_UTF8_text_the_plain_bytes_unchanged()
    {
        Assert.Equal("café", PercentEncoding.DecodeToString(Encoding.UTF8.GetBytes("café"), plusAsSpace: true));
    }

    [Theory]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(4000)]
    public void Decodes_long_input_past_the_stack_buffer(int repeats)
    {
        string source = string.Concat(Enumerable.Repeat("%41", repeats)) + "+";
        string expected = new string('A', repeats) + " ";
        Assert.Equal(expected, PercentEncoding.DecodeToString(Encoding.ASCII.GetBytes(source), plusAsSpace: true));
        Assert.True(PercentEncoding.DecodesTo(Encoding.ASCII.GetBytes(source), Encoding.ASCII.GetBytes(new string('A', repeats) + "+")));
        Assert.False(PercentEncoding.DecodesTo(Encoding.ASCII.GetBytes(source), Encoding.ASCII.GetBytes(new string('A', repeats) + "-")));
    }

    [Theory]
    [InlineData("", "", true)]
    [InlineData("abc", "abc", true)]
    [InlineData("abc", "abd", false)]
    [InlineData("abc", "ab", false)]
    [InlineData("a%2Fb", "a/b", true)]
    [InlineData("a%2fb", "a/b", true)]
    [InlineData("a%2Fb", "a%2Fb", false)]
    [InlineData("a%2Fb", "a/c", false)]
    [InlineData("a+b", "a b", false)]
    [InlineData("a%2B", "a+", true)]
    // Decoded length bounds: "%41%42" decodes to 2 bytes; 1 and 3 and 7 are out, exactly 2 is in.
    [InlineData("%41%42", "AB", true)]
    [InlineData("%41%42", "A", false)]
    [InlineData("%41%42", "ABC", false)]
    [InlineData("%41%42", "ABCDEFG", false)]
    [InlineData("%41", "A", true)]
    [InlineData("%4", "%4", true)]
    [InlineData("%41x", "Ax", true)]
    public void Compares_decoded_text_RFC3986_2_1(string encoded, string decoded, bool expected) =>
        Assert.Equal(expected, PercentEncoding.DecodesTo(Encoding.ASCII.GetBytes(encoded), Encoding.ASCII.GetBytes(decoded)));
}

/// <summary>WHATWG URL §5.1 steps 1-3.3: split on '&amp;', skip empty sequences, cut at the first '='.</summary>
public class UrlEncodedPairsTests
{
    private static List<string> Pairs(string input)
    {
        var result = new List<string>();
        var pairs = new UrlEncodedPairs(Encoding.ASCII.GetBytes(input));
        while (pairs.TryRead(out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value))
        {
            result.Add(Encoding.ASCII.GetString(name) + "|" + Encoding.ASCII.GetString(value));
        }
        Assert.False(pairs.TryRead(out ReadOnlySpan<byte> afterName, out ReadOnlySpan<byte> afterValue));
        Assert.True(afterName.IsEmpty && afterValue.IsEmpty);
        return result;
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("&", new string[0])]
    [InlineData("&&&", new string[0])]
    [InlineData("a=1", new[] { "a|1" })]
    [InlineData("a=1&b=2", new[] { "a|1", "b|2" })]
    [InlineData("&a=1&&b=2&", new[] { "a|1", "b|2" })]
    [InlineData("a", new[] { "a|" })]
    [InlineData("a&b", new[] { "a|", "b|" })]
    [InlineData("a=", new[] { "a|" })]
    [InlineData("=1", new[] { "|1" })]
    [InlineData("=", new[] { "|" })]
    [InlineData("a=1=2", new[] { "a|1=2" })]
    [InlineData("a%3D=b%26", new[] { "a%3D|b%26" })]
    public void Splits_pairs_WHATWG_URL_5_1(string input, string[] expected) =>
        Assert.Equal(expected, Pairs(input));
}

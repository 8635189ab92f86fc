using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>The RFC 9110 §5.6 rules over decoded field values (chars) that the content layer's parsers share.</summary>
public class HttpSyntaxTextTests
{
    [Fact]
    public void Token_chars_are_tchar_RFC9110_5_6_2()
    {
        const string tchar = "!#$%&'*+-.^_`|~";
        for (int c = 0; c < 0x200; c++)
        {
            bool expected = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' || (c < 0x80 && tchar.Contains((char)c));
            Assert.True(expected == HttpSyntax.IsTokenChar((char)c), $"U+{c:X4}");
        }
        // A char above 0xFF must not alias a token byte by its low bits.
        Assert.False(HttpSyntax.IsTokenChar('\u0141'));
    }

    [Fact]
    public void Controls_are_CTL_RFC5234_B_1()
    {
        for (int c = 0; c < 0x100; c++)
        {
            Assert.True((c < 0x20 || c == 0x7F) == HttpSyntax.IsControl((char)c), $"U+{c:X4}");
        }
    }

    [Theory]
    [InlineData("", "")]
    [InlineData(" \t a b \t ", "a b")]
    [InlineData("\r\na\r\n", "\r\na\r\n")]
    public void Trims_OWS_RFC9110_5_6_3(string input, string expected) =>
        Assert.Equal(expected, HttpSyntax.TrimOws(input).ToString());

    private static List<string> Elements(string list, bool backslashEscapes = true)
    {
        var result = new List<string>();
        ReadOnlySpan<char> rest = list;
        do
        {
            result.Add(HttpSyntax.NextListElement(ref rest, backslashEscapes).ToString());
        }
        while (!rest.IsEmpty);
        return result;
    }

    [Theory]
    [InlineData("a", new[] { "a" })]
    [InlineData(" a , b ,c ", new[] { "a", "b", "c" })]
    [InlineData("a,,b", new[] { "a", "", "b" })]
    [InlineData("\"x,y\", z", new[] { "\"x,y\"", "z" })]
    [InlineData("\"x\\\",y\", z", new[] { "\"x\\\",y\"", "z" })]
    [InlineData("a\\,b", new[] { "a\\", "b" })]
    [InlineData("\"a\"b,c", new[] { "\"a\"b", "c" })]
    public void Splits_lists_outside_quoted_strings_RFC9110_5_6_1(string list, string[] expected) =>
        Assert.Equal(expected, Elements(list));

    [Fact]
    public void Splits_entity_tag_lists_taking_backslash_literally_RFC9110_8_8_3()
    {
        Assert.Equal(new[] { "\"a\\\"", "\"b\"" }, Elements("\"a\\\", \"b\"", backslashEscapes: false));
        Assert.Equal(new[] { "\"a\\\", \"b\"" }, Elements("\"a\\\", \"b\"", backslashEscapes: true));
    }

    [Fact]
    public void Last_list_element_empties_the_rest()
    {
        ReadOnlySpan<char> rest = "a, b";
        Assert.Equal("a", HttpSyntax.NextListElement(ref rest).ToString());
        Assert.Equal(" b", rest.ToString());
        Assert.Equal("b", HttpSyntax.NextListElement(ref rest).ToString());
        Assert.True(rest.IsEmpty);
    }

    [Theory]
    [InlineData("\"\"", "")]
    [InlineData("\"abc\"", "abc")]
    [InlineData("\"a\\\"b\"", "a\"b")]
    [InlineData("\"a\\\\b\"", "a\\b")]
    [InlineData("\"\\a\"", "a")]
    [InlineData("\"a\tb\"", "a\tb")]
    [InlineData("\"a\\\tb\"", "a\tb")]
    [InlineData("\"caf\u00e9\"", "caf\u00e9")]
    public void Unquotes_quoted_strings_RFC9110_5_6_4(string input, string expected)
    {
        Assert.True(HttpSyntax.TryUnquote(input, out string value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\"")]
    [InlineData("abc")]
    [InlineData("\"abc")]
    [InlineData("abc\"")]
    [InlineData("x\"abc\"")]
    [InlineData("\"a\"b\"")]
    [InlineData("\"a\\\"")]
    [InlineData("\"a\nb\"")]
    [InlineData("\"a\u007fb\"")]
    [InlineData("\"a\\\u0001b\"")]
    public void Refuses_malformed_quoted_strings_RFC9110_5_6_4(string input)
    {
        Assert.False(HttpSyntax.TryUnquote(input, out string value));
        Assert.Equal(string.Empty, value);
    }

    [Theory]
    [InlineData("charset=utf-8", "charset", "utf-8")]
    [InlineData("q=0.5", "q", "0.5")]
    [InlineData("name=\"a b\"", "name", "a b")]
    [InlineData("name=\"a\\\"b\"", "name", "a\"b")]
    [InlineData("name=\"\"", "name", "")]
    public void Parses_parameters_RFC9110_5_6_6(string input, string name, string value)
    {
        Assert.True(HttpSyntax.TryParseParameter(input, out ReadOnlySpan<char> parsedName, out string parsedValue));
        Assert.Equal(name, parsedName.ToString());
        Assert.Equal(value, parsedValue);
    }

    [Theory]
    [InlineData("charset")]
    [InlineData("=utf-8")]
    [InlineData("char set=utf-8")]
    [InlineData("charset=")]
    [InlineData("charset=a b")]
    [InlineData("charset=\"a")]
    [InlineData("charset =utf-8")]
    public void Refuses_malformed_parameters_RFC9110_5_6_6(string input)
    {
        Assert.False(HttpSyntax.TryParseParameter(input, out _, out string value));
        Assert.Equal(string.Empty, value);
    }

    [Theory]
    [InlineData("a;b", ';', 1)]
    [InlineData("ab", ';', -1)]
    [InlineData("", ';', -1)]
    [InlineData("\"a;b\";c", ';', 5)]
    [InlineData("\"a\\\";b\";c", ';', 7)]
    [InlineData("a\\;b", ';', 2)]
    [InlineData(";", ';', 0)]
    [InlineData("\"a;b", ';', -1)]
    public void Finds_a_char_outside_quoted_strings(string input, char target, int expected) =>
        Assert.Equal(expected, HttpSyntax.IndexOfUnquoted(input, target));

    [Fact]
    public void Parses_parameter_lists_RFC9110_5_6_6()
    {
        Assert.True(HttpSyntax.TryParseParameters(" charset=utf-8 ; ; boundary=\"a;b\" ;", stopAtWeight: false, out var parameters, out string? weight));
        Assert.Null(weight);
        Assert.Equal(new KeyValuePair<string, string>[] { new("charset", "utf-8"), new("boundary", "a;b") }, parameters);
    }

    [Fact]
    public void Parses_empty_parameter_lists_to_nothing()
    {
        Assert.True(HttpSyntax.TryParseParameters("", stopAtWeight: false, out var parameters, out string? weight));
        Assert.Null(parameters);
        Assert.Null(weight);
        Assert.True(HttpSyntax.TryParseParameters(" ; ", stopAtWeight: true, out parameters, out weight));
        Assert.Null(parameters);
        Assert.Null(weight);
    }

    [Theory]
    [InlineData(";a=1")]           // an empty parameter first: the text after "type/subtype;;"
    [InlineData(" ;a=1; ")]
    [InlineData("a=1;;")]
    public void Skips_empty_parameters_RFC9110_5_6_6(string input) // parameters = *( OWS ";" OWS [ parameter ] )
    {
        Assert.True(HttpSyntax.TryParseParameters(input, stopAtWeight: false, out var parameters, out string? weight));
        Assert.Equal([new KeyValuePair<string, string>("a", "1")], parameters);
        Assert.Null(weight);
    }

    [Fact]
    public void Refuses_a_parameter_list_with_a_malformed_parameter()
    {
        Assert.False(HttpSyntax.TryParseParameters("a=1; b", stopAtWeight: false, out _, out _));
    }

    [Fact]
    public void Stops_at_the_weight_RFC9110_12_4_2()
    {
        Assert.True(HttpSyntax.TryParseParameters("level=1; Q=0.7; ext=2", stopAtWeight: true, out var parameters, out string? weight));
        Assert.Equal("0.7", weight);
        Assert.Equal(new KeyValuePair<string, string>[] { new("level", "1") }, parameters);

        Assert.True(HttpSyntax.TryParseParameters("level=1; q=0.7; ext=2", stopAtWeight: false, out parameters, out weight));
        Assert.Null(weight);
        Assert.Equal(new KeyValuePair<string, string>[] { new("level", "1"), new("q", "0.7"), new("ext", "2") }, parameters);
    }
}

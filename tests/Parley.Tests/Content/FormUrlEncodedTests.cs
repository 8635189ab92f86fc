using System.Text;
using Parley.Content;

namespace Parley.Tests.Content;

// WHATWG URL Standard §5 (application/x-www-form-urlencoded).
public class FormUrlEncodedTests
{
    private static FormFields Parse(string body, FormLimits? limits = null) =>
        FormUrlEncoded.Parse(Encoding.UTF8.GetBytes(body), limits);

    [Fact]
    public void Parses_the_html_spec_example()
    {
        byte[] body = Encoding.ASCII.GetBytes("name=Joe%20User&request=Send%20me%20one%20of%20your%20catalogue");
        Assert.Equal(63, body.Length); // the brief said 64; the example body is 63 octets

        FormFields form = FormUrlEncoded.Parse(body);

        Assert.Equal(2, form.Count);
        Assert.Equal("Joe User", form["name"]);
        Assert.Equal("Send me one of your catalogue", form["request"]);
    }

    [Fact]
    public void Decodes_plus_as_space_and_percent_2B_as_plus()
    {
        FormFields form = Parse("q=a+b%2Bc");
        Assert.Equal("a b+c", form["q"]);
    }

    [Fact]
    public void Decodes_percent_escapes_in_names_too()
    {
        FormFields form = Parse("first%20name=Ann&a%3Db=c");
        Assert.Equal("Ann", form["first name"]);
        Assert.Equal("c", form["a=b"]);
    }

    [Fact]
    public void Accepts_lower_case_hex_digits()
    {
        Assert.Equal("é", Parse("x=%c3%a9")["x"]);
    }

    [Fact]
    public void Decodes_utf8_multibyte_sequences()
    {
        Assert.Equal("日本", Parse("x=%E6%97%A5%E6%9C%AC")["x"]);
        Assert.Equal("😀", Parse("x=%F0%9F%98%80")["x"]);
    }

    [Fact]
    public void Keeps_raw_utf8_bytes()
    {
        Assert.Equal("Zoë", Parse("x=Zoë")["x"]);
    }

    [Fact]
    public void Keeps_order_and_repeated_names()
    {
        FormFields form = Parse("a=1&b=2&a=3");
        Assert.Equal(["1", "3"], form.GetValues("a"));
        Assert.Equal("1", form["a"]);
        Assert.Equal([new FormField("a", "1"), new FormField("b", "2"), new FormField("a", "3")], form.ToArray());
    }

    [Fact]
    public void Names_are_case_sensitive()
    {
        FormFields form = Parse("Name=1&name=2");
        Assert.Equal("1", form["Name"]);
        Assert.Equal("2", form["name"]);
        Assert.Null(form["NAME"]);
        Assert.Empty(form.GetValues("NAME"));
    }

    [Fact]
    public void Pair_without_equals_has_empty_value()
    {
        FormFields form = Parse("flag&x=");
        Assert.Equal("", form["flag"]);
        Assert.Equal("", form["x"]);
        Assert.Equal(2, form.Count);
    }

    [Fact]
    public void Name_ends_at_first_equals()
    {
        Assert.Equal("b=c", Parse("a=b=c")["a"]);
    }

    [Fact]
    public void Empty_name_is_kept()
    {
        Assert.Equal("v", Parse("=v")[""]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&")]
    [InlineData("&&&")]
    public void Skips_empty_sequences(string body)
    {
        Assert.Empty(Parse(body));
    }

    [Fact]
    public void Skips_empty_sequences_between_pairs()
    {
        FormFields form = Parse("&a=1&&b=2&");
        Assert.Equal(2, form.Count);
    }

    [Theory]
    [InlineData("x=%zz")]
    [InlineData("x=%4")]
    [InlineData("x=%")]
    [InlineData("x=%G0")]
    [InlineData("%4=y")]
    [InlineData("x=%%41")]
    public void Rejects_invalid_percent_escape_with_400(string body)
    {
        FormException ex = Assert.Throws<FormException>(() => Parse(body));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("percent escape", ex.Message);
    }

    [Theory]
    [InlineData("x=%FF")]
    [InlineData("x=%C3")]
    [InlineData("x=%C0%AF")] // overlong '/'
    [InlineData("x=%ED%A0%80")] // UTF-16 surrogate encoded in UTF-8
    public void Rejects_invalid_utf8_with_400(string body)
    {
        FormException ex = Assert.Throws<FormException>(() => Parse(body));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("UTF-8", ex.Message);
    }

    [Fact]
    public void Rejects_raw_invalid_utf8_bytes()
    {
        FormException ex = Assert.Throws<FormException>(() => FormUrlEncoded.Parse([(byte)'x', (byte)'=', 0xFF]));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void Rejects_body_over_limit_with_413()
    {
        var limits = new FormLimits { MaxBodyBytes = 10 };
        FormException ex = Assert.Throws<FormException>(() => Parse("a=0123456789", limits));
        Assert.Equal(413, ex.StatusCode);
        Assert.Equal("01234567", Parse("a=01234567", limits)["a"]);
    }

    [Fact]
    public void Rejects_too_many_fields_with_400()
    {
        var limits = new FormLimits { MaxFieldCount = 3 };
        Assert.Equal(3, Parse("a&b&c", limits).Count);
        FormException ex = Assert.Throws<FormException>(() => Parse("a&b&c&d", limits));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("3", ex.Message);
    }

    [Fact]
    public void Default_limit_allows_1000_fields()
    {
        string body = string.Join('&', Enumerable.Range(0, 1000).Select(i => "f" + i));
        Assert.Equal(1000, Parse(body).Count);
        FormException ex = Assert.Throws<FormException>(() => Parse(body + "&x"));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void Rejects_too_long_value_with_400_counting_decoded_bytes()
    {
        var limits = new FormLimits { MaxValueLength = 3 };
        Assert.Equal("abc", Parse("x=%61%62%63", limits)["x"]);
        FormException ex = Assert.Throws<FormException>(() => Parse("x=abcd", limits));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void Rejects_too_long_name_with_400()
    {
        var limits = new FormLimits { MaxValueLength = 3 };
        Assert.Equal(400, Assert.Throws<FormException>(() => Parse("abcd=1", limits)).StatusCode);
    }

    [Fact]
    public void Parses_large_bodies_beyond_the_stack_buffer()
    {
        string value = new('v', 10_000);
        Assert.Equal(value, Parse("big=" + value + "&small=1")["big"]);
    }

    [Fact]
    public void Never_throws_anything_but_FormException_on_random_bytes()
    {
        var random = new Random(1234);
        byte[] alphabet = "%+&=aZ09\u00ff"u8.ToArray().Concat(new byte[] { 0x80, 0xC3, 0xA9, 0x00 }).ToArray();
        for (int round = 0; round < 5000; round++)
        {
            byte[] body = new byte[random.Next(0, 40)];
            for (int i = 0; i < body.Length; i++)
            {
                body[i] = round % 2 == 0 ? alphabet[random.Next(alphabet.Length)] : (byte)random.Next(256);
            }

            try
            {
                FormUrlEncoded.Parse(body, new FormLimits { MaxFieldCount = 5, MaxValueLength = 10 });
            }
            catch (FormException ex)
            {
                Assert.True(ex.StatusCode is 400 or 413);
            }
        }
    }

    [Fact]
    public void Encodes_like_browsers()
    {
        string encoded = FormUrlEncoded.Encode([new("name", "Joe User"), new("request", "a+b&c=d/e?f~g*h-i.j_k")]);
        Assert.Equal("name=Joe+User&request=a%2Bb%26c%3Dd%2Fe%3Ff%7Eg*h-i.j_k", encoded);
    }

    [Fact]
    public void Encodes_non_ascii_as_utf8_percent_escapes()
    {
        Assert.Equal("caf%C3%A9=%F0%9F%98%80", FormUrlEncoded.Encode([new("café", "😀")]));
    }

    [Fact]
    public void Encodes_lone_surrogate_as_replacement_character()
    {
        Assert.Equal("x=%EF%BF%BD", FormUrlEncoded.Encode([new("x", "\uD800")]));
    }

    [Fact]
    public void Encodes_empty_list_as_empty_string()
    {
        Assert.Equal("", FormUrlEncoded.Encode([]));
    }

    [Fact]
    public void Encode_and_parse_round_trip()
    {
        KeyValuePair<string, string>[] pairs =
            [new("a b", "c+d"), new("", ""), new("x", "%41\r\n\0"), new("ü", new string('z', 500)), new("a", "2")];
        FormFields parsed = FormUrlEncoded.Parse(Encoding.ASCII.GetBytes(FormUrlEncoded.Encode(pairs)));
        Assert.Equal(pairs.Select(p => new FormField(p.Key, p.Value)), parsed);
    }
}

using Parley.Content;

namespace Parley.Tests.Content;

// RFC 6265 §4.1 (Set-Cookie), §4.2 and §5.4 (Cookie).
public class CookieHeaderTests
{
    [Fact]
    public void Parses_pairs_in_order()
    {
        IReadOnlyList<CookiePair> cookies = CookieHeader.Parse("SID=31d4d96e407aad42; lang=en-US");
        Assert.Equal([new CookiePair("SID", "31d4d96e407aad42"), new CookiePair("lang", "en-US")], cookies);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(";;; ")]
    public void Empty_field_gives_no_cookies(string? field)
    {
        Assert.Empty(CookieHeader.Parse(field));
    }

    [Fact]
    public void Is_lenient_about_spaces()
    {
        IReadOnlyList<CookiePair> cookies = CookieHeader.Parse("a=1;b=2 ;  c = 3\t;");
        Assert.Equal([new CookiePair("a", "1"), new CookiePair("b", "2"), new CookiePair("c", "3")], cookies);
    }

    [Fact]
    public void Strips_dquotes_around_value()
    {
        Assert.Equal("abc", CookieHeader.Parse("a=\"abc\"")[0].Value);
        Assert.Equal("", CookieHeader.Parse("a=\"\"")[0].Value);
    }

    [Fact]
    public void Keeps_duplicates_and_case()
    {
        IReadOnlyList<CookiePair> cookies = CookieHeader.Parse("a=1; A=2; a=3");
        Assert.Equal(3, cookies.Count);
        Assert.Equal("1", CookieHeader.GetValue("a=1; A=2; a=3", "a"));
        Assert.Equal("2", CookieHeader.GetValue("a=1; A=2; a=3", "A"));
        Assert.Null(CookieHeader.GetValue("a=1", "b"));
    }

    [Fact]
    public void Empty_value_is_kept()
    {
        Assert.Equal([new CookiePair("a", "")], CookieHeader.Parse("a="));
    }

    [Fact]
    public void Value_may_contain_equals()
    {
        Assert.Equal("x=y==", CookieHeader.Parse("token=x=y==")[0].Value);
    }

    [Theory]
    [InlineData("novalue")] // no '='
    [InlineData("=value")] // empty name
    [InlineData("bad name=1")] // space in name
    [InlineData("a\"b=1")] // DQUOTE in name
    [InlineData("a=x\"y")] // DQUOTE inside value
    [InlineData("a=\"unterminated")]
    [InlineData("a=\u0001")] // control character
    [InlineData("(x)=1")] // separators in name
    public void Drops_malformed_pairs(string pair)
    {
        IReadOnlyList<CookiePair> cookies = CookieHeader.Parse("ok=1; " + pair + "; also=2");
        Assert.Equal([new CookiePair("ok", "1"), new CookiePair("also", "2")], cookies);
    }

    [Fact]
    public void Honours_the_cookie_count_limit()
    {
        string field = string.Join("; ", Enumerable.Range(0, 500).Select(i => $"c{i}={i}"));
        Assert.Equal(CookieHeader.DefaultMaxCookies, CookieHeader.Parse(field).Count);
        Assert.Equal(2, CookieHeader.Parse(field, maxCookies: 2).Count);
    }

    [Fact]
    public void Never_throws_on_random_input()
    {
        var random = new Random(3);
        const string alphabet = "ab=; \"\t,\\\u0000\u00e9";
        for (int i = 0; i < 5000; i++)
        {
            char[] chars = new char[random.Next(0, 30)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            foreach (CookiePair pair in CookieHeader.Parse(new string(chars)))
            {
                Assert.NotEmpty(pair.Name);
            }
        }
    }
}

public class SetCookieTests
{
    [Fact]
    public void Formats_name_and_value_only()
    {
        Assert.Equal("SID=31d4d96e407aad42", new SetCookie("SID", "31d4d96e407aad42").ToString());
    }

    [Fact]
    public void Formats_all_attributes_in_a_fixed_order()
    {
        var cookie = new SetCookie("id", "a3fWa")
        {
            Expires = new DateTimeOffset(2015, 10, 21, 7, 28, 0, TimeSpan.Zero),
            MaxAge = TimeSpan.FromHours(1),
            Domain = "example.com",
            Path = "/docs",
            Secure = true,
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
        };
        Assert.Equal(
            "id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600; Domain=example.com; Path=/docs; Secure; HttpOnly; SameSite=Strict",
            cookie.ToString());
    }

    [Theory]
    [InlineData(SameSiteMode.Lax, "; SameSite=Lax")]
    [InlineData(SameSiteMode.Strict, "; SameSite=Strict")]
    public void Formats_same_site(SameSiteMode mode, string suffix)
    {
        Assert.EndsWith(suffix, new SetCookie("a", "b") { SameSite = mode }.ToString());
    }

    [Fact]
    public void SameSite_None_requires_Secure()
    {
        var cookie = new SetCookie("a", "b") { SameSite = SameSiteMode.None };
        ArgumentException ex = Assert.Throws<ArgumentException>(() => cookie.ToString());
        Assert.Contains("Secure", ex.Message);
        cookie.Secure = true;
        Assert.Equal("a=b; Secure; SameSite=None", cookie.ToString());
    }

    [Fact]
    public void Max_age_is_whole_seconds_and_never_negative()
    {
        Assert.EndsWith("Max-Age=1", new SetCookie("a", "b") { MaxAge = TimeSpan.FromMilliseconds(1999) }.ToString());
        Assert.EndsWith("Max-Age=0", new SetCookie("a", "b") { MaxAge = TimeSpan.FromSeconds(-5) }.ToString());
    }

    [Fact]
    public void Expires_is_converted_to_gmt()
    {
        var cookie = new SetCookie("a", "b") { Expires = new DateTimeOffset(2015, 10, 21, 9, 28, 0, TimeSpan.FromHours(2)) };
        Assert.Equal("a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT", cookie.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a=b")]
    [InlineData("a;b")]
    [InlineData("a,b")]
    [InlineData("(a)")]
    [InlineData("a\u0000")]
    [InlineData("é")]
    public void Rejects_name_that_is_not_a_token(string name)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new SetCookie(name, "v"));
        Assert.Equal("name", ex.ParamName);
        Assert.Contains("token", ex.Message);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("a;b")]
    [InlineData("a,b")]
    [InlineData("a\\b")]
    [InlineData("a\"b")]
    [InlineData("\"a")]
    [InlineData("a\r\nSet-Cookie: x=y")]
    [InlineData("café")]
    public void Rejects_value_outside_cookie_octet(string value)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new SetCookie("a", value));
        Assert.Equal("value", ex.ParamName);
    }

    [Theory]
    [InlineData("\"quoted\"")]
    [InlineData("\"\"")]
    [InlineData("")]
    [InlineData("!#$%&'()*+-./:<=>?@[]^_`{|}~")]
    public void Accepts_cookie_octets_and_dquoted_values(string value)
    {
        Assert.Equal("a=" + value, new SetCookie("a", value).ToString());
    }

    [Theory]
    [InlineData("ex;ample.com")]
    [InlineData("example.com\r\n")]
    [InlineData("exämple.com")]
    public void Rejects_bad_domain(string domain)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new SetCookie("a", "b") { Domain = domain });
        Assert.Equal("Domain", ex.ParamName);
    }

    [Theory]
    [InlineData("/a;b")]
    [InlineData("/a\u007f")]
    [InlineData("/a\tb")]
    public void Rejects_bad_path(string path)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new SetCookie("a", "b") { Path = path });
        Assert.Equal("Path", ex.ParamName);
    }

    [Fact]
    public void Set_cookie_output_parses_back_as_a_cookie()
    {
        string field = new SetCookie("session", "\"abc\"") { Path = "/" }.ToString();
        string pair = field[..field.IndexOf(';')];
        Assert.Equal([new CookiePair("session", "abc")], CookieHeader.Parse(pair));
    }
}

public class SetCookiePrefixTests
{
    // RFC 6265bis §4.1.3 cookie name prefixes.
    [Fact]
    public void Secure_prefix_requires_Secure()
    {
        Assert.Throws<ArgumentException>(() => new SetCookie("__Secure-id", "1").ToString());
        Assert.Equal("__Secure-id=1; Secure", new SetCookie("__Secure-id", "1") { Secure = true }.ToString());
    }

    [Fact]
    public void Host_prefix_requires_Secure_root_path_and_no_domain()
    {
        Assert.Throws<ArgumentException>(() => new SetCookie("__Host-id", "1") { Secure = true }.ToString());
        Assert.Throws<ArgumentException>(() => new SetCookie("__Host-id", "1") { Path = "/" }.ToString());
        Assert.Throws<ArgumentException>(() => new SetCookie("__Host-id", "1") { Secure = true, Path = "/", Domain = "example.com" }.ToString());
        Assert.Equal("__Host-id=1; Path=/; Secure", new SetCookie("__Host-id", "1") { Secure = true, Path = "/" }.ToString());
    }
}

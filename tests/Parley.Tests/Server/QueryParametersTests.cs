using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>The query string as application/x-www-form-urlencoded (WHATWG URL §5.1), as browsers send a GET form.</summary>
public class QueryParametersTests
{
    private static QueryParameters Parse(string rawQuery)
    {
        var query = new QueryParameters();
        query.Parse(Encoding.Latin1.GetBytes(rawQuery));
        return query;
    }

    private static string Show(QueryParameters query) => string.Join("&", query.Select(pair => $"[{pair.Key}]=[{pair.Value}]"));

    [Theory]
    [InlineData("", "")]
    [InlineData("q=1", "[q]=[1]")]
    [InlineData("a=1&&b", "[a]=[1]&[b]=[]")]                      // empty sequences skipped; no '=' is an empty value
    [InlineData("&&&", "")]
    [InlineData("a=&=b&=", "[a]=[]&[]=[b]&[]=[]")]
    [InlineData("a=1=2", "[a]=[1=2]")]                            // the name ends at the first '='
    [InlineData("q=a+b&r=a%20b&s=a%2Bb", "[q]=[a b]&[r]=[a b]&[s]=[a+b]")]
    [InlineData("first+name=a+b", "[first name]=[a b]")]          // '+' is a space in a name too
    [InlineData("caf%C3%A9=cr%C3%A8me", "[café]=[crème]")]
    [InlineData("bad=%zz&short=%4&end=%", "[bad]=[%zz]&[short]=[%4]&[end]=[%]")] // a bad escape stays as it is
    [InlineData("x=%FF", "[x]=[\uFFFD]")]                          // invalid UTF-8 becomes U+FFFD
    [InlineData("a;b=c", "[a;b]=[c]")]                            // ';' is no separator
    public void Parses_pairs_as_a_browser_does(string rawQuery, string expected)
    {
        Assert.Equal(expected, Show(Parse(rawQuery)));
    }

    [Fact]
    public void Keeps_repeated_names_in_order()
    {
        QueryParameters query = Parse("tag=a&x=1&tag=b&tag=");
        Assert.Equal("a", query["tag"]);
        Assert.Equal(["a", "b", ""], query.GetValues("tag"));
        Assert.Empty(query.GetValues("missing"));
        Assert.Null(query["missing"]);
        Assert.Null(query["TAG"]);
        Assert.True(query.Contains("x"));
        Assert.Equal(4, query.Count);
        Assert.Equal(new KeyValuePair<string, string>("x", "1"), query[1]);
    }

    [Fact]
    public void A_null_name_is_refused()
    {
        QueryParameters query = Parse("a=1");
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => query[null!]).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => query.GetValues(null!)).ParamName);
    }
}

using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>Route templates: parsing, matching the raw path segment by segment, constraints, precedence.</summary>
public class RouteTemplateTests
{
    private static Dictionary<string, string>? Match(string template, string path)
    {
        RouteTemplate parsed = RouteTemplate.Parse(template);
        byte[] raw = Encoding.ASCII.GetBytes(path);
        var ranges = new Range[RouteTemplate.MaxParameters];
        if (!parsed.TryMatch(raw, ranges)) return null;
        var values = new Dictionary<string, string>();
        for (int i = 0; i < parsed.ParameterNames.Length; i++)
        {
            (int offset, int length) = ranges[i].GetOffsetAndLength(int.MaxValue);
            values[parsed.ParameterNames[i]] = length == 0 ? "" : Parley.Http1.PercentEncoding.DecodeToString(raw.AsSpan(offset, length), plusAsSpace: false);
        }
        return values;
    }

    private static string Show(Dictionary<string, string>? values) =>
        values is null ? "no match" : string.Join(";", values.Select(pair => $"{pair.Key}={pair.Value}"));

    [Theory]
    [InlineData("/users/{id}", "/users/42", "id=42")]
    [InlineData("/users/{id}", "/users/a%20b", "id=a b")]
    [InlineData("/users/{id}", "/users/a%2Fb", "id=a/b")]          // an encoded slash stays inside its segment
    [InlineData("/users/{id}", "/users/a+b", "id=a+b")]            // '+' is a plus in a path
    [InlineData("/users/{id}", "/users/", "no match")]             // a parameter takes a non-empty segment
    [InlineData("/users/{id}", "/users/42/", "no match")]          // a trailing slash is significant
    [InlineData("/users/{id}", "/users/4/2", "no match")]
    [InlineData("/users/{id}", "/Users/42", "no match")]           // literals are case-sensitive
    [InlineData("/users/{id}", "/us%65rs/42", "id=42")]            // literals compare decoded
    [InlineData("/users/{id}/posts/{post}", "/users/7/posts/x", "id=7;post=x")]
    [InlineData("/files/{*rest}", "/files/a/b/c.txt", "rest=a/b/c.txt")]
    [InlineData("/files/{*rest}", "/files/", "rest=")]
    [InlineData("/files/{*rest}", "/files", "rest=")]
    [InlineData("/files/{*rest}", "/filesx", "no match")]
    [InlineData("/files/{*rest}", "/files/a%2Fb%20c", "rest=a/b c")]
    [InlineData("/{*all}", "/", "all=")]
    [InlineData("/{*all}", "", "all=")]                            // an empty path (absolute-form) is "/"
    [InlineData("/static/*", "/static/a/b", "")]
    [InlineData("/static/*", "/static/", "")]
    [InlineData("/static/*", "/static", "no match")]
    [InlineData("/static/*", "/static%2Fa", "no match")]
    [InlineData("/", "/", "")]
    [InlineData("/", "", "")]
    [InlineData("/", "//", "no match")]
    [InlineData("/a/b", "/a%2Fb", "no match")]
    [InlineData("/a/b", "/%61/b", "")]
    [InlineData("/caf\u00e9", "/caf%C3%A9", "")]
    [InlineData("/{a}/{b}", "/x//y", "no match")]                 // an empty segment ends at its slash
    [InlineData("/{a}/{b}", "/x/y", "a=x;b=y")]
    public void Matches_the_raw_path_segment_by_segment(string template, string path, string expected)
    {
        Assert.Equal(expected, Show(Match(template, path)));
    }

    [Theory]
    [InlineData("int", "42", true)]
    [InlineData("int", "-42", true)]
    [InlineData("int", "+7", true)]
    [InlineData("int", "2147483647", true)]
    [InlineData("int", "2147483648", false)]
    [InlineData("int", "4x", false)]
    [InlineData("int", "%34%32", true)]
    [InlineData("int", "%2042", false)]
    [InlineData("int", "4%32", true)]                              // an escape after the first byte is decoded too
    [InlineData("int", "+%37", true)]                              // '+' is a plus sign in a path, not a space
    [InlineData("long", "9223372036854775807", true)]
    [InlineData("long", "9223372036854775808", false)]
    [InlineData("guid", "9b2e8f5e-4a1b-4c3d-9e8f-0123456789ab", true)]
    [InlineData("guid", "9b2e8f5e4a1b4c3d9e8f0123456789ab", true)]
    [InlineData("guid", "%7B9b2e8f5e-4a1b-4c3d-9e8f-0123456789ab%7D", true)]
    [InlineData("guid", "9b2e8f5e-4a1b-4c3d-9e8f-0123456789a", false)]
    [InlineData("guid", "{0x9b2e8f5e,0x4a1b,0x4c3d,{0x9e,0x8f,0x01,0x23,0x45,0x67,0x89,0xab}}", true)] // the longest form: 68 characters
    [InlineData("guid", "{0x9b2e8f5e,0x4a1b,0x4c3d,{0x9e,0x8f,0x01,0x23,0x45,0x67,0x89,0xab}}0", false)]
    [InlineData("guid", "9b2e8f5e-4a1b-4c3d-9e8f-0123456789%C3%A9", false)]
    [InlineData("alpha", "abcXYZ", true)]
    [InlineData("alpha", "abc1", false)]
    [InlineData("alpha", "caf%C3%A9", false)]
    [InlineData("bool", "TRUE", true)]
    [InlineData("bool", "false", true)]
    [InlineData("bool", "yes", false)]
    public void Constraints_check_the_decoded_value(string constraint, string value, bool accepted)
    {
        Assert.Equal(accepted, Match($"/x/{{v:{constraint}}}", "/x/" + value) is not null);
    }

    [Theory]
    [InlineData(300, "%41", true)]
    [InlineData(300, "%41z", true)]
    [InlineData(300, "%411", false)]                               // the end of a long value is checked too
    public void Constraints_check_a_long_escaped_value_whole(int letters, string tail, bool accepted)
    {
        Assert.Equal(accepted, Match("/x/{v:alpha}", "/x/" + new string('a', letters) + tail) is not null);
    }

    [Fact]
    public void A_constraint_it_does_not_know_accepts_nothing()
    {
        Assert.False(RouteConstraints.Accepts((RouteConstraint)255, "1"u8));
        Assert.True(RouteConstraints.Accepts(RouteConstraint.None, "1"u8));
    }

    [Theory]
    [InlineData("users/{id}", "start with '/'")]
    [InlineData("/users/{id", "whole segment")]
    [InlineData("/users/id}", "whole segment")]
    [InlineData("/users/}id", "whole segment")]
    [InlineData("/users/{:int}", "parameter name '' must be")]
    [InlineData("/users/x{id}", "whole segment")]
    [InlineData("/users/{id}x", "whole segment")]
    [InlineData("/users/{a}{b}", "whole segment")]
    [InlineData("/users/{}", "parameter name")]
    [InlineData("/users/{i-d}", "parameter name")]
    [InlineData("/users/{id?}", "optional parameters ({name?}) are not supported")]
    [InlineData("/users/{id:number}", "unknown constraint 'number'; the constraints are int, long, guid, alpha, bool")]
    [InlineData("/users/{id}/{id}", "appears twice")]
    [InlineData("/files/{*rest}/x", "must be the last segment")]
    [InlineData("/files/{*rest:int}", "takes no constraint")]
    [InlineData("/search?q={q}", "no '?' or '#'")]
    [InlineData("/page#top", "no '?' or '#'")]
    public void Rejects_a_bad_template_with_a_message_naming_the_mistake(string template, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => RouteTemplate.Parse(template));
        Assert.Contains(message, error.Message);
        Assert.Contains(template, error.Message);
        Assert.Equal("path", error.ParamName);
    }

    [Fact]
    public void Rejects_a_null_template()
    {
        Assert.Throws<ArgumentNullException>(() => RouteTemplate.Parse(null!));
    }

    [Fact]
    public void Rejects_more_parameters_than_the_limit()
    {
        string template = string.Concat(Enumerable.Range(0, RouteTemplate.MaxParameters + 1).Select(i => $"/{{p{i}}}"));
        Assert.Contains("more than 16 parameters", Assert.Throws<ArgumentException>(() => RouteTemplate.Parse(template)).Message);
    }

    [Fact]
    public void Takes_as_many_parameters_as_the_limit()
    {
        string template = string.Concat(Enumerable.Range(0, RouteTemplate.MaxParameters).Select(i => $"/{{p{i}}}"));
        string path = string.Concat(Enumerable.Range(0, RouteTemplate.MaxParameters).Select(i => $"/v{i}"));
        Dictionary<string, string> values = Match(template, path)!;
        Assert.Equal(RouteTemplate.MaxParameters, values.Count);
        Assert.Equal("v15", values["p15"]);
    }

    [Theory]
    [InlineData("/users/new", "/users/{id:int}")]
    [InlineData("/users/{id:int}", "/users/{name}")]
    [InlineData("/users/{name}", "/users/{*rest}")]
    [InlineData("/users/{name}", "/users/*")]
    [InlineData("/a/b/{*rest}", "/a/{x}/c")]                        // decided at the first segment that differs
    [InlineData("/a/{x}", "/a/{x}/{*rest}")]                        // ending beats a catch-all that would match nothing
    public void A_more_specific_template_takes_precedence(string first, string second)
    {
        Assert.True(RouteTemplate.ComparePrecedence(RouteTemplate.Parse(first), RouteTemplate.Parse(second)) < 0);
        Assert.True(RouteTemplate.ComparePrecedence(RouteTemplate.Parse(second), RouteTemplate.Parse(first)) > 0);
    }

    [Fact]
    public void Templates_of_one_shape_cannot_both_be_mapped()
    {
        RequestHandler nothing = (request, response) => ValueTask.CompletedTask;
        var router = new Router().MapGet("/users/{id}", nothing).MapPost("/users/{id}", nothing);
        var error = Assert.Throws<ArgumentException>(() => router.MapDelete("/users/{name}", nothing));
        Assert.Contains("'/users/{name}' matches the same paths as '/users/{id}'", error.Message);
        router.MapDelete("/users/{id:int}", nothing);
    }
}

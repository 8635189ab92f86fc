using Parley.Content;

namespace Parley.Tests.Content;

// RFC 9110 §13 Conditional Requests.
public class ConditionalRequestTests
{
    private static readonly EntityTag Current = EntityTag.Create("v2");
    private static readonly DateTimeOffset LastModified = new(2024, 5, 1, 12, 0, 0, 500, TimeSpan.Zero);
    private const string LastModifiedText = "Wed, 01 May 2024 12:00:00 GMT";
    private const string Before = "Wed, 01 May 2024 11:59:59 GMT";
    private const string After = "Wed, 01 May 2024 12:00:01 GMT";

    private static ConditionalResult Eval(
        string method = "GET",
        string? ifMatch = null,
        string? ifNoneMatch = null,
        string? ifModifiedSince = null,
        string? ifUnmodifiedSince = null,
        EntityTag? etag = null,
        bool useDefaultETag = true,
        bool exists = true) =>
        ConditionalRequest.Evaluate(method, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince,
            useDefaultETag ? etag ?? Current : etag, LastModified, exists);

    [Fact]
    public void No_preconditions_proceed()
    {
        Assert.Equal(ConditionalResult.Proceed, Eval());
    }

    [Theory]
    [InlineData("\"v2\"", ConditionalResult.Proceed)]
    [InlineData("\"v1\", \"v2\"", ConditionalResult.Proceed)]
    [InlineData("\"v1\"", ConditionalResult.PreconditionFailed)]
    [InlineData("W/\"v2\"", ConditionalResult.PreconditionFailed)] // §13.1.1: strong comparison
    [InlineData("*", ConditionalResult.Proceed)]
    [InlineData("garbage", ConditionalResult.PreconditionFailed)] // matches nothing
    public void If_match_uses_strong_comparison(string ifMatch, ConditionalResult expected)
    {
        Assert.Equal(expected, Eval("PUT", ifMatch: ifMatch));
    }

    [Fact]
    public void If_match_never_matches_a_weak_current_tag()
    {
        Assert.Equal(ConditionalResult.PreconditionFailed, Eval("PUT", ifMatch: "W/\"v2\"", etag: EntityTag.Create("v2", true)));
    }

    [Fact]
    public void If_match_star_fails_without_a_current_representation()
    {
        Assert.Equal(ConditionalResult.PreconditionFailed, Eval("PUT", ifMatch: "*", exists: false));
    }

    [Fact]
    public void If_match_fails_when_resource_has_no_etag()
    {
        Assert.Equal(ConditionalResult.PreconditionFailed, Eval("PUT", ifMatch: "\"v2\"", etag: null, useDefaultETag: false));
    }

    [Theory]
    [InlineData("\"v2\"")]
    [InlineData("W/\"v2\"")] // §13.1.2: weak comparison
    [InlineData("\"x\", W/\"v2\"")]
    [InlineData("*")]
    public void If_none_match_hit_gives_304_for_get_and_head(string ifNoneMatch)
    {
        Assert.Equal(ConditionalResult.NotModified, Eval("GET", ifNoneMatch: ifNoneMatch));
        Assert.Equal(ConditionalResult.NotModified, Eval("HEAD", ifNoneMatch: ifNoneMatch));
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("POST")]
    [InlineData("DELETE")]
    [InlineData("get")] // methods are case-sensitive
    public void If_none_match_hit_gives_412_for_other_methods(string method)
    {
        Assert.Equal(ConditionalResult.PreconditionFailed, Eval(method, ifNoneMatch: "\"v2\""));
    }

    [Fact]
    public void If_none_match_star_proceeds_when_nothing_exists()
    {
        Assert.Equal(ConditionalResult.Proceed, Eval("PUT", ifNoneMatch: "*", exists: false));
    }

    [Fact]
    public void If_none_match_miss_proceeds()
    {
        Assert.Equal(ConditionalResult.Proceed, Eval(ifNoneMatch: "\"v1\""));
    }

    [Theory]
    [InlineData(LastModifiedText, ConditionalResult.Proceed)]
    [InlineData(After, ConditionalResult.Proceed)]
    [InlineData(Before, ConditionalResult.PreconditionFailed)]
    [InlineData("not a date", ConditionalResult.Proceed)] // §13.1.4: invalid date ignored
    [InlineData(LastModifiedText + ", " + After, ConditionalResult.Proceed)] // more than one member: ignored
    public void If_unmodified_since_compares_at_one_second_resolution(string date, ConditionalResult expected)
    {
        Assert.Equal(expected, Eval("PUT", ifUnmodifiedSince: date));
    }

    [Fact]
    public void If_unmodified_since_is_ignored_when_if_match_is_present()
    {
        Assert.Equal(ConditionalResult.Proceed, Eval("PUT", ifMatch: "\"v2\"", ifUnmodifiedSince: Before));
    }

    [Fact]
    public void If_unmodified_since_is_ignored_without_a_modification_date()
    {
        Assert.Equal(ConditionalResult.Proceed,
            ConditionalRequest.Evaluate("PUT", null, null, null, Before, Current, null));
    }

    [Theory]
    [InlineData(LastModifiedText, ConditionalResult.NotModified)]
    [InlineData(After, ConditionalResult.NotModified)]
    [InlineData(Before, ConditionalResult.Proceed)]
    [InlineData("Wednesday, 01-May-24 12:00:00 GMT", ConditionalResult.NotModified)]
    [InlineData("Wed May  1 12:00:00 2024", ConditionalResult.NotModified)]
    [InlineData("yesterday", ConditionalResult.Proceed)]
    public void If_modified_since_compares_at_one_second_resolution(string date, ConditionalResult expected)
    {
        Assert.Equal(expected, Eval("GET", ifModifiedSince: date));
    }

    [Fact]
    public void If_modified_since_is_ignored_for_other_methods()
    {
        Assert.Equal(ConditionalResult.Proceed, Eval("POST", ifModifiedSince: After));
    }

    [Fact]
    public void If_modified_since_is_ignored_when_if_none_match_is_present()
    {
        // The tags differ, so the resource changed even though the date says otherwise.
        Assert.Equal(ConditionalResult.Proceed, Eval("GET", ifNoneMatch: "\"v1\"", ifModifiedSince: After));
    }

    [Fact]
    public void If_match_is_evaluated_before_if_none_match()
    {
        Assert.Equal(ConditionalResult.PreconditionFailed, Eval("GET", ifMatch: "\"v1\"", ifNoneMatch: "\"v2\""));
    }

    [Fact]
    public void If_unmodified_since_is_evaluated_before_if_none_match()
    {
        Assert.Equal(ConditionalResult.PreconditionFailed, Eval("GET", ifUnmodifiedSince: Before, ifNoneMatch: "\"v2\""));
    }

    [Fact]
    public void If_range_without_field_allows_range()
    {
        Assert.True(ConditionalRequest.EvaluateIfRange(null, Current, LastModified));
        Assert.True(ConditionalRequest.EvaluateIfRange("  ", Current, LastModified));
    }

    [Theory]
    [InlineData("\"v2\"", true)]
    [InlineData("\"v1\"", false)]
    [InlineData("W/\"v2\"", false)] // §13.1.5: strong comparison
    [InlineData("\"v2\", \"v3\"", false)] // only one validator allowed
    public void If_range_etag_must_match_strongly(string ifRange, bool expected)
    {
        Assert.Equal(expected, ConditionalRequest.EvaluateIfRange(ifRange, Current, LastModified));
    }

    [Fact]
    public void If_range_etag_does_not_match_weak_current_tag()
    {
        Assert.False(ConditionalRequest.EvaluateIfRange("\"v2\"", EntityTag.Create("v2", true), LastModified));
    }

    [Theory]
    [InlineData(LastModifiedText, true)]
    [InlineData(After, false)] // must be an exact match, not "not modified since"
    [InlineData(Before, false)]
    [InlineData("garbage", false)]
    public void If_range_date_must_match_last_modified_exactly(string ifRange, bool expected)
    {
        Assert.Equal(expected, ConditionalRequest.EvaluateIfRange(ifRange, Current, LastModified));
    }

    [Fact]
    public void If_range_date_fails_without_last_modified()
    {
        Assert.False(ConditionalRequest.EvaluateIfRange(LastModifiedText, Current, null));
    }
}

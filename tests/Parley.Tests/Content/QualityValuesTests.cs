using Parley.Content;

namespace Parley.Tests.Content;

// RFC 9110 §12.4.2 Quality Values.
public class QualityValuesTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("0.", 0)]
    [InlineData("0.5", 500)]
    [InlineData("0.05", 50)]
    [InlineData("0.001", 1)]
    [InlineData("0.999", 999)]
    [InlineData("1", 1000)]
    [InlineData("1.", 1000)]
    [InlineData("1.000", 1000)]
    public void Parses_valid_qvalues(string text, int expected)
    {
        Assert.True(QualityValues.TryParseQuality(text, out int q));
        Assert.Equal(expected, q);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("1.001")]
    [InlineData("0.1234")] // at most three decimals
    [InlineData("-0.5")]
    [InlineData(".5")]
    [InlineData("0,5")]
    [InlineData("0.5 ")]
    [InlineData("1e0")]
    [InlineData("01")]
    public void Rejects_invalid_qvalues(string text)
    {
        Assert.False(QualityValues.TryParseQuality(text, out _));
    }

    [Fact]
    public void Parses_members_in_field_order_with_weights()
    {
        IReadOnlyList<QualityItem> items = QualityValues.Parse("da, en-gb;q=0.8, en;q=0.7");
        Assert.Equal(["da", "en-gb", "en"], items.Select(i => i.Value));
        Assert.Equal([1000, 800, 700], items.Select(i => i.Quality));
        Assert.Equal(0.8, items[1].Weight);
    }

    [Fact]
    public void Keeps_media_range_parameters_before_q()
    {
        QualityItem item = Assert.Single(QualityValues.Parse("text/html;level=1;q=0.7;ext=x"));
        Assert.Equal("text/html", item.Value);
        Assert.Equal(700, item.Quality);
        Assert.Equal([new KeyValuePair<string, string>("level", "1")], item.Parameters);
    }

    [Fact]
    public void Weight_name_is_case_insensitive_and_ows_is_allowed_around_semicolons()
    {
        QualityItem item = Assert.Single(QualityValues.Parse("gzip ; Q=0.5"));
        Assert.Equal(500, item.Quality);
    }

    [Fact]
    public void Quoted_parameter_may_hold_commas_and_semicolons()
    {
        QualityItem item = Assert.Single(QualityValues.Parse("text/x;a=\"b,c;d\\\"\";q=0.1"));
        Assert.Equal("b,c;d\"", item.Parameters[0].Value);
        Assert.Equal(100, item.Quality);
    }

    [Theory]
    [InlineData("gzip;q=2, br", "br")]
    [InlineData("gzip;q=0.5000, br", "br")]
    [InlineData("gzip;q=, br", "br")]
    [InlineData("gzip;q = 0.5, br", "br")]
    [InlineData("g zip, br", "br")]
    [InlineData("gzip;=1, br", "br")]
    [InlineData("gzip;a=\"x, br", "")] // unterminated quote swallows the rest
    public void Ignores_members_with_invalid_syntax(string field, string expected)
    {
        Assert.Equal(expected, string.Join(",", QualityValues.Parse(field).Select(i => i.Value)));
    }

    [Fact]
    public void Zero_weight_marks_not_acceptable()
    {
        Assert.True(Assert.Single(QualityValues.Parse("identity;q=0")).IsExcluded);
    }

    [Fact]
    public void Skips_empty_list_elements_and_honours_the_item_limit()
    {
        Assert.Equal(2, QualityValues.Parse(" , a,, b ,").Count);
        string many = string.Join(',', Enumerable.Range(0, 500).Select(i => "c" + i));
        Assert.Equal(QualityValues.DefaultMaxItems, QualityValues.Parse(many).Count);
        Assert.Equal(3, QualityValues.Parse(many, maxItems: 3).Count);
    }
}

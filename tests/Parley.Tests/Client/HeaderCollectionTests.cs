using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>ParleyHeaders (request fields): ordered, multi-valued, case-insensitive names, validated on the way in.</summary>
public class HeaderCollectionTests
{
    [Fact]
    public void The_indexer_joins_repeated_lines_in_order_and_ignores_other_fields()
    {
        var headers = new ParleyHeaders { { "Accept", "text/html" }, { "X-Other", "o" }, { "accept", "text/plain" }, { "ACCEPT", "*/*" } };

        Assert.Equal("text/html, text/plain, */*", headers["Accept"]);
        Assert.Equal("o", headers["x-other"]);
        Assert.Null(headers["Missing"]);
        Assert.Equal(["text/html", "text/plain", "*/*"], headers.GetValues("aCCept"));
        Assert.Equal(["o"], headers.GetValues("X-Other"));
        Assert.Empty(headers.GetValues("Missing"));
    }

    [Fact]
    public void Setting_replaces_every_line_and_setting_null_removes_the_field()
    {
        var headers = new ParleyHeaders { { "Accept", "a" }, { "X-Keep", "k" }, { "accept", "b" } };

        headers["ACCEPT"] = "c";
        Assert.Equal(2, headers.Count);
        Assert.Equal(["c"], headers.GetValues("Accept"));
        Assert.Equal([new("X-Keep", "k"), new("ACCEPT", "c")], headers.ToList());

        headers.Set("x-keep", "k2");
        Assert.Equal([new("ACCEPT", "c"), new("x-keep", "k2")], headers.ToList());

        headers["Accept"] = null;
        Assert.Equal([new("x-keep", "k2")], headers.ToList());
        Assert.False(headers.Contains("Accept"));
    }

    [Fact]
    public void Remove_says_whether_there_was_a_line_to_remove()
    {
        var headers = new ParleyHeaders { { "A", "1" }, { "B", "2" }, { "a", "3" } };

        Assert.True(headers.Remove("A"));
        Assert.Equal(1, headers.Count);
        Assert.False(headers.Remove("A"));
        Assert.False(headers.Remove("C"));
        Assert.Equal(1, headers.Count);
    }

    [Fact]
    public void Contains_matches_names_case_insensitively_and_only_present_names()
    {
        var headers = new ParleyHeaders { { "X-One", "1" }, { "X-Two", "2" } };

        Assert.True(headers.Contains("x-two"));
        Assert.True(headers.Contains("X-ONE"));
        Assert.False(headers.Contains("X-Three"));
        Assert.False(new ParleyHeaders().Contains("X-One"));
    }

    [Theory]
    [InlineData("Bad Name", "v")]
    [InlineData("", "v")]
    [InlineData("X-Ok", "line\r\nInjected: yes")]
    [InlineData("X-Ok", "nul\0")]
    public void Add_and_set_reject_an_invalid_name_or_value_and_keep_nothing(string name, string value)
    {
        var headers = new ParleyHeaders();

        Assert.Throws<ArgumentException>(() => headers.Add(name, value));
        Assert.Throws<ArgumentException>(() => headers.Set(name, value));
        Assert.Equal(0, headers.Count);
    }

    [Fact]
    public void A_refused_value_leaves_the_field_as_it_was_and_a_null_value_is_refused_by_add()
    {
        var headers = new ParleyHeaders { { "X-Ok", "1" } };

        Assert.Throws<ArgumentException>(() => headers.Set("X-Ok", "line\r\nInjected: yes"));
        Assert.Throws<ArgumentNullException>(() => headers.Add("X-Other", null!));
        Assert.Equal([new("X-Ok", "1")], headers.ToList());
    }
}

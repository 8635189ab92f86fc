using Parley.Content;

namespace Parley.Tests.Content;

// RFC 9110 §8.8.3 ETag.
public class EntityTagTests
{
    [Theory]
    [InlineData("\"xyzzy\"", "xyzzy", false)]
    [InlineData("W/\"xyzzy\"", "xyzzy", true)]
    [InlineData("\"\"", "", false)]
    [InlineData("  \"a,b\"  ", "a,b", false)]
    [InlineData("\"a\\b\"", "a\\b", false)] // backslash is an etagc, not an escape
    public void Parses_strong_and_weak_tags(string text, string opaque, bool weak)
    {
        Assert.True(EntityTag.TryParse(text, out EntityTag? tag));
        Assert.Equal(opaque, tag!.Tag);
        Assert.Equal(weak, tag.IsWeak);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xyzzy")]
    [InlineData("\"xyzzy")]
    [InlineData("\"")]
    [InlineData("w/\"xyzzy\"")] // weak indicator is case-sensitive
    [InlineData("W/xyzzy")]
    [InlineData("W/ \"xyzzy\"")]
    [InlineData("\"a\"b\"")]
    [InlineData("\"a b\"")]
    [InlineData("\"a\u0001\"")]
    [InlineData("\"\u0100\"")]
    [InlineData("*")]
    public void Rejects_malformed_tags(string text)
    {
        Assert.False(EntityTag.TryParse(text, out EntityTag? tag));
        Assert.Null(tag);
        Assert.Throws<FormatException>(() => EntityTag.Parse(text));
    }

    [Fact]
    public void Formats_the_field_form()
    {
        Assert.Equal("\"v1\"", EntityTag.Create("v1").ToString());
        Assert.Equal("W/\"v1\"", EntityTag.Create("v1", isWeak: true).ToString());
    }

    [Theory]
    [InlineData("a\"b")]
    [InlineData("a b")]
    [InlineData("\u007f")]
    public void Create_rejects_characters_outside_etagc(string opaque)
    {
        Assert.Throws<ArgumentException>(() => EntityTag.Create(opaque));
    }

    // The table of RFC 9110 §8.8.3.2.
    [Theory]
    [InlineData("W/\"1\"", "W/\"1\"", false, true)]
    [InlineData("W/\"1\"", "W/\"2\"", false, false)]
    [InlineData("W/\"1\"", "\"1\"", false, true)]
    [InlineData("\"1\"", "\"1\"", true, true)]
    public void Compares_strongly_and_weakly_per_the_rfc_table(string a, string b, bool strong, bool weak)
    {
        EntityTag x = EntityTag.Parse(a), y = EntityTag.Parse(b);
        Assert.Equal(strong, EntityTag.StrongEquals(x, y));
        Assert.Equal(weak, EntityTag.WeakEquals(x, y));
    }

    [Fact]
    public void Comparisons_with_null_are_false()
    {
        Assert.False(EntityTag.StrongEquals(null, EntityTag.Create("a")));
        Assert.False(EntityTag.WeakEquals(EntityTag.Create("a"), null));
    }

    [Fact]
    public void Equality_is_identity_of_tag_and_weakness()
    {
        Assert.Equal(EntityTag.Create("a"), EntityTag.Parse("\"a\""));
        Assert.NotEqual(EntityTag.Create("a"), EntityTag.Create("a", isWeak: true));
    }

    [Fact]
    public void Parses_a_list_with_commas_inside_tags()
    {
        EntityTagList list = EntityTagList.Parse("\"xyzzy\", W/\"r2d2,xxxx\" ,\"c3piozzzz\"")!;
        Assert.False(list.IsAny);
        Assert.Equal(["xyzzy", "r2d2,xxxx", "c3piozzzz"], list.Tags.Select(t => t.Tag));
        Assert.True(list.Tags[1].IsWeak);
    }

    [Fact]
    public void Parses_star()
    {
        EntityTagList list = EntityTagList.Parse(" * ")!;
        Assert.True(list.IsAny);
        Assert.Empty(list.Tags);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Missing_list_is_null(string? field)
    {
        Assert.Null(EntityTagList.Parse(field));
    }

    [Fact]
    public void Skips_malformed_and_empty_list_members()
    {
        EntityTagList list = EntityTagList.Parse("bogus, , \"ok\", *, W/x")!;
        Assert.Equal(["ok"], list.Tags.Select(t => t.Tag));
    }

    [Fact]
    public void Honours_the_tag_count_limit()
    {
        string field = string.Join(", ", Enumerable.Range(0, 1000).Select(i => $"\"{i}\""));
        Assert.Equal(EntityTagList.DefaultMaxTags, EntityTagList.Parse(field)!.Tags.Count);
    }

    [Fact]
    public void Whatever_random_input_parses_is_exactly_a_tag_and_formats_back_to_itself()
    {
        var random = new Random(5);
        const string alphabet = "W/\"a, *\\\t";
        for (int i = 0; i < 5000; i++)
        {
            char[] chars = new char[random.Next(0, 20)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            string text = new(chars);
            if (EntityTagList.Parse(text) is { } list)
            {
                // Each listed tag is one the field spells out (RFC 9110 §8.8.3: entity-tag = [ W/ ] DQUOTE *etagc DQUOTE).
                Assert.All(list.Tags, t => Assert.Contains(t.ToString(), text));
            }
            if (EntityTag.TryParse(chars, out EntityTag? tag))
            {
                Assert.Equal(text.Trim(' ', '\t'), tag!.ToString()); // surrounding OWS aside
                Assert.DoesNotContain('"', tag.Tag);
            }
        }
    }
}

using Parley.Content;

namespace Parley.Tests.Content;

// RFC 9110 §14 Range Requests.
public class RangeHeaderTests
{
    private static ByteRange[] Satisfiable(string range, long length, RangeLimits? limits = null)
    {
        RangeResult result = RangeHeader.Parse(range, length, limits);
        Assert.Equal(RangeResultKind.Satisfiable, result.Kind);
        return result.Ranges.ToArray();
    }

    private static RangeResultKind Kind(string? range, long length, RangeLimits? limits = null) =>
        RangeHeader.Parse(range, length, limits).Kind;

    // The examples of RFC 9110 §14.1.2 on a 10000-byte representation.
    [Theory]
    [InlineData("bytes=0-499", 0, 500)]
    [InlineData("bytes=500-999", 500, 500)]
    [InlineData("bytes=-500", 9500, 500)]
    [InlineData("bytes=9500-", 9500, 500)]
    [InlineData("bytes=0-0", 0, 1)]
    [InlineData("bytes=-1", 9999, 1)]
    [InlineData("bytes=0-", 0, 10000)]
    public void Parses_the_rfc_examples(string range, long start, long length)
    {
        Assert.Equal([new ByteRange(start, length)], Satisfiable(range, 10000));
    }

    [Fact]
    public void Clamps_last_pos_beyond_the_end()
    {
        Assert.Equal([new ByteRange(9000, 1000)], Satisfiable("bytes=9000-20000", 10000));
        Assert.Equal([new ByteRange(1, 9999)], Satisfiable("bytes=1-99999999999999999999999999", 10000));
    }

    [Fact]
    public void Suffix_longer_than_representation_selects_all_of_it()
    {
        Assert.Equal([new ByteRange(0, 100)], Satisfiable("bytes=-500", 100));
    }

    [Fact]
    public void Unit_is_case_insensitive_and_ows_is_allowed_around_commas()
    {
        Assert.Equal([new ByteRange(0, 1), new ByteRange(5, 2)], Satisfiable("Bytes=0-0 , 5-6", 100));
    }

    [Fact]
    public void Keeps_requested_order_of_disjoint_ranges()
    {
        Assert.Equal([new ByteRange(50, 10), new ByteRange(0, 10)], Satisfiable("bytes=50-59,0-9", 100));
    }

    [Fact]
    public void Coalesces_overlapping_ranges()
    {
        Assert.Equal([new ByteRange(0, 20)], Satisfiable("bytes=0-9,5-19", 100));
    }

    [Fact]
    public void Coalesces_adjacent_ranges()
    {
        Assert.Equal([new ByteRange(0, 20), new ByteRange(50, 1)], Satisfiable("bytes=0-9,50-50,10-19", 100));
    }

    [Fact]
    public void Coalesced_group_takes_position_of_its_first_requested_member()
    {
        Assert.Equal([new ByteRange(50, 1), new ByteRange(0, 20)], Satisfiable("bytes=50-50,10-19,0-9", 100));
    }

    [Fact]
    public void Drops_unsatisfiable_members_of_a_satisfiable_set()
    {
        Assert.Equal([new ByteRange(0, 10)], Satisfiable("bytes=500-600,0-9,-0", 100));
    }

    [Theory]
    [InlineData("bytes=100-", 100)]
    [InlineData("bytes=100-200", 100)]
    [InlineData("bytes=-0", 100)] // §14.1.1: suffix-length zero is unsatisfiable
    [InlineData("bytes=200-300,100-", 100)]
    [InlineData("bytes=99999999999999999999-", 100)]
    public void Reports_unsatisfiable_when_no_range_overlaps(string range, long length)
    {
        Assert.Equal(RangeResultKind.Unsatisfiable, Kind(range, length));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("items=0-9")] // §14.2: unknown unit → ignore
    [InlineData("bytes")]
    [InlineData("bytes=")]
    [InlineData("bytes=,")]
    [InlineData("bytes = 0-9")]
    [InlineData("bytes=9-0")] // §14.1.1: last-pos < first-pos is invalid
    [InlineData("bytes=abc")]
    [InlineData("bytes=0-9x")]
    [InlineData("bytes=-")]
    [InlineData("bytes=--5")]
    [InlineData("bytes=0--5")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=0 -9")]
    [InlineData("bytes=0-9,abc")] // one invalid spec makes the whole header invalid
    [InlineData("bytes=١-٢")] // non-ASCII digits
    public void Ignores_missing_unknown_or_invalid_headers(string? range)
    {
        Assert.Equal(RangeResultKind.None, Kind(range, 1000));
    }

    [Fact]
    public void Ignores_range_on_an_empty_representation()
    {
        Assert.Equal(RangeResultKind.None, Kind("bytes=0-0", 0));
        Assert.Equal(RangeResultKind.None, Kind("bytes=-5", 0));
    }

    [Fact]
    public void Accepts_empty_list_elements()
    {
        Assert.Equal([new ByteRange(0, 1), new ByteRange(3, 1)], Satisfiable("bytes=,0-0,,3-3,", 10));
    }

    [Fact]
    public void Allows_sixteen_ranges_by_default_and_ignores_seventeen()
    {
        string sixteen = "bytes=" + string.Join(',', Enumerable.Range(0, 16).Select(i => $"{i * 10}-{i * 10}"));
        Assert.Equal(16, Satisfiable(sixteen, 1000).Length);
        Assert.Equal(RangeResultKind.None, Kind(sixteen + ",500-500", 1000));
    }

    [Fact]
    public void Too_many_ranges_count_even_when_unsatisfiable()
    {
        var limits = new RangeLimits { MaxRanges = 2 };
        Assert.Equal(RangeResultKind.None, Kind("bytes=0-0,5000-,6000-", 1000, limits));
    }

    [Fact]
    public void Allows_two_overlapping_ranges()
    {
        Assert.Equal([new ByteRange(0, 1000)], Satisfiable("bytes=0-,0-", 1000));
    }

    [Fact]
    public void Ignores_more_than_two_overlapping_ranges()
    {
        // §14.2: "more than two overlapping ranges" indicate a broken client or a denial-of-service attack.
        Assert.Equal(RangeResultKind.None, Kind("bytes=0-,0-,0-", 1000));
        Assert.Equal(RangeResultKind.None, Kind("bytes=0-10,5-15,12-20", 1000));
        Assert.Equal(RangeResultKind.None, Kind("bytes=0-5,3-8,100-105,103-108", 1000));
    }

    [Fact]
    public void Adjacent_ranges_do_not_count_as_overlapping()
    {
        Assert.Equal([new ByteRange(0, 40)], Satisfiable("bytes=0-9,10-19,20-29,30-39", 1000));
    }

    [Fact]
    public void Overlap_limit_is_configurable()
    {
        var limits = new RangeLimits { MaxOverlappingRanges = 3 };
        Assert.Equal([new ByteRange(0, 1000)], Satisfiable("bytes=0-,0-,0-", 1000, limits));
    }

    [Fact]
    public void Never_throws_on_random_input()
    {
        var random = new Random(11);
        const string alphabet = "bytes=0123456789-, \t";
        for (int i = 0; i < 20000; i++)
        {
            char[] chars = new char[random.Next(0, 30)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            string text = (i % 2 == 0 ? "bytes=" : "") + new string(chars);
            long length = random.Next(0, 3) == 0 ? 0 : random.NextInt64(1, 1000);
            RangeResult result = RangeHeader.Parse(text, length);
            foreach (ByteRange r in result.Ranges)
            {
                Assert.True(r.Start >= 0 && r.Length >= 1 && r.End < length, text);
            }
        }
    }

    [Fact]
    public void Formats_content_range()
    {
        Assert.Equal("bytes 0-99/1000", ContentRange.Format(0, 100, 1000));
        Assert.Equal("bytes 999-999/1000", ContentRange.Format(new ByteRange(999, 1), 1000));
        Assert.Equal("bytes */1000", ContentRange.FormatUnsatisfied(1000));
    }

    [Theory]
    [InlineData(-1, 10, 100)]
    [InlineData(0, 0, 100)]
    [InlineData(95, 10, 100)]
    [InlineData(200, 1, 100)]
    public void Content_range_rejects_ranges_outside_the_representation(long start, long length, long total)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ContentRange.Format(start, length, total));
    }
}

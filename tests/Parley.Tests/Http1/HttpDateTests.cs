using Parley.Http1;

namespace Parley.Tests.Http1;

// RFC 9110 §5.6.7 Date/Time Formats.
public class HttpDateTests
{
    private static readonly DateTimeOffset Example = new(1994, 11, 6, 8, 49, 37, TimeSpan.Zero);

    [Fact]
    public void Formats_imf_fixdate()
    {
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.Format(Example));
    }

    [Fact]
    public void Formats_in_utc_and_drops_fractions()
    {
        var local = new DateTimeOffset(1994, 11, 6, 10, 49, 37, 999, TimeSpan.FromHours(2));
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.Format(local));
    }

    [Fact]
    public void TryFormat_needs_29_chars()
    {
        Span<char> small = stackalloc char[28];
        Assert.False(HttpDate.TryFormat(Example, small, out _));
        Span<char> exact = stackalloc char[29];
        Assert.True(HttpDate.TryFormat(Example, exact, out int exactly));
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", exact[..exactly].ToString());
        Span<char> buffer = stackalloc char[40];
        Assert.True(HttpDate.TryFormat(Example, buffer, out int written));
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", buffer[..written].ToString());
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT")] // IMF-fixdate
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT")] // obsolete RFC 850 format
    [InlineData("Sun Nov  6 08:49:37 1994")] // ANSI C's asctime() format
    [InlineData("  Sun, 06 Nov 1994 08:49:37 GMT\t")]
    public void Parses_all_three_formats(string text)
    {
        Assert.True(HttpDate.TryParse(text, out DateTimeOffset value));
        Assert.Equal(Example, value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Theory]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT", 6)]
    [InlineData("Monday, 07-Nov-94 08:49:37 GMT", 7)]
    [InlineData("Tuesday, 08-Nov-94 08:49:37 GMT", 8)]
    [InlineData("Wednesday, 09-Nov-94 08:49:37 GMT", 9)]
    [InlineData("Thursday, 10-Nov-94 08:49:37 GMT", 10)]
    [InlineData("Friday, 11-Nov-94 08:49:37 GMT", 11)]
    [InlineData("Saturday, 12-Nov-94 08:49:37 GMT", 12)]
    public void Parses_rfc850_with_every_day_name(string text, int day) // RFC 9110 §5.6.7: day-name-l
    {
        Assert.True(HttpDate.TryParse(text, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), out DateTimeOffset value));
        Assert.Equal(new DateTimeOffset(1994, 11, day, 8, 49, 37, TimeSpan.Zero), value);
    }

    [Fact]
    public void Parses_asctime_with_two_digit_day()
    {
        Assert.True(HttpDate.TryParse("Tue Nov 24 21:34:02 2026", out DateTimeOffset value));
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 21, 34, 2, TimeSpan.Zero), value);
    }

    [Fact]
    public void Rfc850_two_digit_year_more_than_50_years_ahead_is_in_the_past()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.True(HttpDate.TryParse("Sunday, 06-Nov-94 08:49:37 GMT", now, out DateTimeOffset past));
        Assert.Equal(1994, past.Year);
        Assert.True(HttpDate.TryParse("Monday, 01-Jan-50 00:00:00 GMT", now, out DateTimeOffset near));
        Assert.Equal(2050, near.Year);
        Assert.True(HttpDate.TryParse("Saturday, 01-Jan-77 00:00:00 GMT", now, out DateTimeOffset far));
        Assert.Equal(1977, far.Year);
        // Exactly 50 years ahead is not more than 50.
        Assert.True(HttpDate.TryParse("Wednesday, 01-Jan-76 00:00:00 GMT", now, out DateTimeOffset fifty));
        Assert.Equal(2076, fifty.Year);
    }

    [Theory]
    [InlineData("Mon, 01 Jan 0001 00:00:00 GMT")]
    [InlineData("Monday, 01-Jan-01 00:00:00 GMT")]
    [InlineData("Mon Jan  1 00:00:00 0001")]
    public void Parses_the_first_year(string text)
    {
        // RFC 9110 §5.6.7 allows any four-digit year but 0000; year 1 is the first DateTimeOffset holds.
        var now = new DateTimeOffset(30, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.True(HttpDate.TryParse(text, now, out DateTimeOffset value));
        Assert.Equal(new DateTimeOffset(1, 1, 1, 0, 0, 0, TimeSpan.Zero), value);
    }

    [Fact]
    public void Accepts_leap_second_as_the_last_second_of_the_minute()
    {
        Assert.True(HttpDate.TryParse("Sat, 31 Dec 2016 23:59:60 GMT", out DateTimeOffset value));
        Assert.Equal(new DateTimeOffset(2016, 12, 31, 23, 59, 59, TimeSpan.Zero), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 UTC")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 +0000")]
    [InlineData("Sun, 6 Nov 1994 08:49:37 GMT")]
    [InlineData("sun, 06 nov 1994 08:49:37 GMT")]
    [InlineData("Xyz, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 31 Feb 1994 08:49:37 GMT")]
    [InlineData("Sun, 00 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 24:00:00 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:60:00 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:61 GMT")]
    [InlineData("Sun, 06 Nov 0000 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 8:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08-49-37 GMT")]
    [InlineData("Sun, ０６ Nov 1994 08:49:37 GMT")] // non-ASCII digits
    [InlineData("Sunday, 06-Nov-1994 08:49:37 GMT")]
    [InlineData("Sun, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov 6 08:49:37 1994")]
    [InlineData("Sun Nov  6 08:49:37 94")]
    [InlineData("1994-11-06T08:49:37Z")]
    [InlineData("784111777")]
    // Only SP and HTAB around the value are optional whitespace (RFC 9110 §5.6.3).
    [InlineData("\nSun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT\r")]
    [InlineData("\u00A0Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("\vSunday, 06-Nov-94 08:49:37 GMT")]
    // rfc850-date with a separator out of place, or cut short.
    [InlineData("Sunday, 06-Nov 94 08:49:37 GMT")]
    [InlineData("Sunday, 06 Nov-94 08:49:37 GMT")]
    [InlineData("Sunday,X06-Nov-94 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94_08:49:37 GMT")]
    [InlineData("Sunday,")]
    [InlineData("Sunday, 06-Nov")]
    public void Rejects_anything_else(string text)
    {
        Assert.False(HttpDate.TryParse(text, out _));
    }

    [Fact]
    public void Round_trips_through_format_and_parse()
    {
        var random = new Random(7);
        for (int i = 0; i < 1000; i++)
        {
            var value = DateTimeOffset.FromUnixTimeSeconds(random.NextInt64(0, 253402300799));
            Assert.True(HttpDate.TryParse(HttpDate.Format(value), out DateTimeOffset parsed));
            Assert.Equal(value, parsed);
        }
    }

    [Fact]
    public void Random_edits_of_a_date_parse_only_to_the_date_they_spell()
    {
        var random = new Random(99);
        const string alphabet = "SunMoTeWdFrSaJbNvDc ,-:0123456789GMT\t";
        string template = "Sun, 06 Nov 1994 08:49:37 GMT";
        for (int i = 0; i < 20000; i++)
        {
            char[] chars = template.ToCharArray();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
            }

            int length = random.Next(0, chars.Length + 1);
            if (!HttpDate.TryParse(chars.AsSpan(0, length), out DateTimeOffset parsed)) continue;
            // Only a whole IMF-fixdate can be left by these edits (RFC 9110 §5.6.7): the date and time it
            // spells are the ones parsed, whatever the day name says.
            string text = new(chars, 0, length);
            Assert.Equal(template.Length, length);
            Assert.Equal(text[3..], HttpDate.Format(parsed)[3..]);
            Assert.Equal(TimeSpan.Zero, parsed.Offset);
        }
    }
}

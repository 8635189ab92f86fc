using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>The Date field in IMF-fixdate (RFC 9110 §5.6.7, §6.6.1).</summary>
public class DateFieldTests
{
    [Fact]
    public void Formats_IMF_fixdate_as_in_the_RFC_example() => // RFC 9110 §5.6.7
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.Format(new DateTimeOffset(1994, 11, 6, 8, 49, 37, TimeSpan.Zero)));

    [Fact]
    public void Formats_in_UTC_whatever_the_offset_of_the_instant() => // RFC 9110 §5.6.7: GMT
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.Format(new DateTimeOffset(1994, 11, 6, 10, 49, 37, TimeSpan.FromHours(2))));

    [Fact]
    public void The_current_line_is_a_Date_field_line_in_IMF_fixdate_close_to_now() // RFC 9110 §6.6.1
    {
        string line = Encoding.ASCII.GetString(DateField.CurrentLine);
        Assert.Matches(new Regex(@"^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n$"), line);
        DateTimeOffset parsed = DateTimeOffset.ParseExact(line[6..^2], "ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange((DateTimeOffset.UtcNow - parsed).TotalSeconds, -1, 2);
    }

    [Fact]
    public void Returns_the_same_bytes_within_one_second() // our design: formatted at most once per second
    {
        // Retry across a second boundary: two reads inside one second must share one formatted line.
        for (int attempt = 0; attempt < 5; attempt++)
        {
            long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            ReadOnlySpan<byte> first = DateField.CurrentLine;
            ReadOnlySpan<byte> second = DateField.CurrentLine;
            if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() != before) continue;
            Assert.True(first.SequenceEqual(second));
            Assert.True(Unsafe.AreSame(first, second), "the line was formatted again within the second");
            return;
        }
        Assert.Fail("could not read twice within one second");
    }

    [Fact]
    public void Moves_to_the_next_second_soon_after_the_clock_does() // RFC 9110 §6.6.1: the time the message was made
    {
        // A busy machine can preempt a read anywhere: each attempt starts over in a fresh second, and only
        // a read that stayed inside its second counts.
        for (int attempt = 0; attempt < 20; attempt++)
        {
            _ = DateField.CurrentLine; // a snapshot of this second
            DateTimeOffset now = DateTimeOffset.UtcNow;
            // 60 ms into the next second: the coarse tick the snapshot is checked against moves in steps of a few ms.
            Thread.Sleep(TimeSpan.FromMilliseconds(1000 - now.Millisecond + 60));
            long expected = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string line = Encoding.ASCII.GetString(DateField.CurrentLine);
            if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() != expected || DateTimeOffset.UtcNow.Millisecond < 60) continue;
            DateTimeOffset parsed = DateTimeOffset.ParseExact(line[6..^2], "ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.Equal(expected, parsed.ToUnixTimeSeconds());
            return;
        }
        Assert.Fail("could not read the line well inside one second");
    }

    private static class Unsafe
    {
        public static bool AreSame(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
            System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a),
                ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b));
    }
}

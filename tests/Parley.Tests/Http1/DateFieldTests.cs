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

/// <summary>
/// The window of prepared Date lines driven by a given tick and clock instead of the machine's: which line a
/// tick gets, when a window is made again, and that a second formatted once keeps its bytes.
/// </summary>
public class DateFieldWindowTests
{
    // 2026-12-06T13:00:00.250Z, read when the tick was 1,000: that second ends at tick 1,750.
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 13, 0, 0, 250, TimeSpan.Zero);

    private static string Text(byte[] line) => Encoding.ASCII.GetString(line);

    private static string LineOf(int secondsAfterNow) => $"Date: Sun, 06 Dec 2026 13:00:{secondsAfterNow:00} GMT\r\n";

    private sealed class Clock(DateTimeOffset now)
    {
        public DateTimeOffset Now = now;
        public int Reads;
        public DateTimeOffset Read() { Reads++; return Now; }
    }

    [Fact]
    public void A_window_holds_consecutive_seconds_each_valid_until_the_next_one_begins()
    {
        DateField.Snapshot[] window = DateField.Create(Now, 1000, 5, []);
        Assert.Equal(5, window.Length);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(Now.ToUnixTimeSeconds() + i, window[i].Second);
            Assert.Equal(1750 + 1000L * i, window[i].ValidUntilTick);
            Assert.Equal(LineOf(i), Text(window[i].Line));
        }
    }

    [Fact]
    public void A_second_already_formatted_keeps_its_bytes_in_the_next_window()
    {
        DateField.Snapshot[] first = DateField.Create(Now, 1000, 5, []);
        DateField.Snapshot[] next = DateField.Create(Now.AddSeconds(2), 3000, 5, first);
        for (int i = 0; i < 3; i++) Assert.Same(first[i + 2].Line, next[i].Line);
        for (int i = 0; i < 5; i++) Assert.Equal(LineOf(i + 2), Text(next[i].Line));
    }

    [Fact]
    public void A_tick_gets_the_line_of_the_first_second_not_yet_over()
    {
        DateField.Snapshot[] window = DateField.Create(Now, 1000, 5, []);
        DateField.Snapshot[] held = window;
        var clock = new Clock(Now.AddSeconds(9));
        Assert.Equal(LineOf(0), Text(DateField.LineAt(ref window, 1749, clock.Read)));
        Assert.Equal(LineOf(1), Text(DateField.LineAt(ref window, 1750, clock.Read)));
        Assert.Equal(LineOf(4), Text(DateField.LineAt(ref window, 5749, clock.Read)));
        Assert.Same(held, window);
        Assert.Equal(0, clock.Reads);
    }

    [Fact]
    public void Past_the_window_the_clock_is_read_and_a_new_window_kept()
    {
        DateField.Snapshot[] window = DateField.Create(Now, 1000, 5, []);
        var clock = new Clock(Now.AddSeconds(5));
        Assert.Equal(LineOf(5), Text(DateField.LineAt(ref window, 5750, clock.Read)));
        Assert.Equal(1, clock.Reads);
        Assert.Single(window);
        // The new window serves the next reader of that second without the clock.
        Assert.Equal(LineOf(5), Text(DateField.LineAt(ref window, 5800, clock.Read)));
        Assert.Equal(1, clock.Reads);
    }

    [Fact]
    public void PrepareAhead_makes_five_seconds_unless_this_seconds_five_are_made()
    {
        var clock = new Clock(Now);
        DateField.Snapshot[] window = DateField.Create(Now, 1000, 1, []);
        DateField.PrepareAhead(ref window, 1000, clock.Read);
        Assert.Equal(5, window.Length);
        Assert.Equal(LineOf(4), Text(window[4].Line));
        Assert.Equal(1, clock.Reads);

        // Already made for this second: nothing changes, up to the last tick of the second.
        DateField.Snapshot[] made = window;
        DateField.PrepareAhead(ref window, 1749, clock.Read);
        Assert.Same(made, window);
        Assert.Equal(1, clock.Reads);

        // The second is over: made again from the clock.
        clock.Now = Now.AddSeconds(1);
        DateField.PrepareAhead(ref window, 1750, clock.Read);
        Assert.Equal(2, clock.Reads);
        Assert.Equal(5, window.Length);
        Assert.Equal(LineOf(1), Text(window[0].Line));
        Assert.Same(made[1].Line, window[0].Line);

        // Four seconds are not enough ahead, even within the first.
        DateField.Snapshot[] four = DateField.Create(Now, 1000, 4, []);
        clock.Now = Now;
        DateField.PrepareAhead(ref four, 1000, clock.Read);
        Assert.Equal(5, four.Length);
        Assert.Equal(3, clock.Reads);
    }
}

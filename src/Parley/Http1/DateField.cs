using System.Text;

namespace Parley.Http1;

/// <summary>
/// The <c>Date: ...\r\n</c> field line in IMF-fixdate (RFC 9110 §5.6.7, §6.6.1), formatted once per second
/// and shared by every response sent in that second.
/// </summary>
/// <remarks>
/// The lines are formatted ahead of time: <see cref="PrepareAhead()"/> (the server's once-a-second heartbeat)
/// publishes the current second and the next few, so a response never formats one, and the thread that
/// sends it (an epoll loop) allocates nothing when the second changes. Without a heartbeat (no server
/// running, or one stalled for seconds) a reader past the window formats the line itself.
/// </remarks>
internal static class DateField
{
    // Seconds formatted beyond the current one: a heartbeat late by up to this many seconds still finds
    // its second ready.
    private const int SecondsAhead = 4;

    internal sealed class Snapshot(long second, long validUntilTick, byte[] line)
    {
        public readonly long Second = second;
        /// <summary>The <see cref="Environment.TickCount64"/> at which the wall clock reaches the next second.</summary>
        public readonly long ValidUntilTick = validUntilTick;
        public readonly byte[] Line = line;
    }

    // Consecutive seconds in order; the first one began before the window was made.
    private static Snapshot[] s_window = Create(DateTimeOffset.UtcNow, Environment.TickCount64, 1, []);

    // Read only when a window is made (a cached static lambda: no allocation).
    private static readonly Func<DateTimeOffset> s_clock = static () => DateTimeOffset.UtcNow;

    /// <summary>The whole field line, <c>Date: Tue, 24 Nov 2026 21:31:17 GMT\r\n</c>, for the current second.</summary>
    /// <remarks>
    /// Every response asks, so the common case reads the coarse monotonic tick (no clock hardware read)
    /// and compares it with the end of each prepared second. The tick advances in steps of a few
    /// milliseconds, so a new second's line can start that much late.
    /// </remarks>
    public static ReadOnlySpan<byte> CurrentLine => LineAt(ref s_window, Environment.TickCount64, s_clock);

    /// <summary>Formats the lines of the current second and the next few, off the request path.</summary>
    public static void PrepareAhead() => PrepareAhead(ref s_window, Environment.TickCount64, s_clock);

    /// <summary>
    /// <see cref="CurrentLine"/> over <paramref name="window"/> at <paramref name="tick"/>: the line of the
    /// first second not yet over, or, past the window, a new window of one second read from <paramref name="clock"/>.
    /// </summary>
    internal static byte[] LineAt(ref Snapshot[] window, long tick, Func<DateTimeOffset> clock)
    {
        foreach (Snapshot snapshot in Volatile.Read(ref window))
        {
            if (tick < snapshot.ValidUntilTick) return snapshot.Line;
        }
        Snapshot[] made = Create(clock(), tick, 1, window);
        Volatile.Write(ref window, made);
        return made[0].Line;
    }

    /// <summary><see cref="PrepareAhead()"/> over <paramref name="window"/> at <paramref name="tick"/>.</summary>
    internal static void PrepareAhead(ref Snapshot[] window, long tick, Func<DateTimeOffset> clock)
    {
        Snapshot[] previous = Volatile.Read(ref window);
        // This second's window is already made (several servers share one).
        if (previous.Length > SecondsAhead && tick < previous[0].ValidUntilTick) return;
        Volatile.Write(ref window, Create(clock(), tick, 1 + SecondsAhead, previous));
    }

    /// <summary>
    /// <paramref name="seconds"/> consecutive seconds from the one of <paramref name="now"/> (read at
    /// <paramref name="tick"/>), keeping the line of each second <paramref name="previous"/> already holds.
    /// </summary>
    internal static Snapshot[] Create(DateTimeOffset now, long tick, int seconds, Snapshot[] previous)
    {
        long second = now.ToUnixTimeSeconds();
        long validUntil = tick + (1000 - now.Millisecond);
        var window = new Snapshot[seconds];
        for (int i = 0; i < seconds; i++)
        {
            // A second already formatted keeps its bytes: readers within one second share one line.
            byte[]? line = null;
            foreach (Snapshot old in previous)
            {
                if (old.Second == second + i) line = old.Line;
            }
            line ??= Encoding.ASCII.GetBytes("Date: " + HttpDate.Format(DateTimeOffset.FromUnixTimeSeconds(second + i)) + "\r\n");
            window[i] = new Snapshot(second + i, validUntil + 1000L * i, line);
        }
        return window;
    }
}

using System.Text;

namespace Parley.Http1;

/// <summary>
/// The <c>Date: ...\r\n</c> field line in IMF-fixdate (RFC 9110 §5.6.7, §6.6.1), formatted once per second
/// and shared by every response sent in that second.
/// </summary>
/// <remarks>
/// The lines are formatted ahead of time: <see cref="PrepareAhead"/> (the server's once-a-second heartbeat)
/// publishes the current second and the next few, so a response never formats one, and the thread that
/// sends it (an epoll loop) allocates nothing when the second changes. Without a heartbeat (no server
/// running, or one stalled for seconds) a reader past the window formats the line itself.
/// </remarks>
internal static class DateField
{
    // Seconds formatted beyond the current one: a heartbeat late by up to this many seconds still finds
    // its second ready.
    private const int SecondsAhead = 4;

    private sealed class Snapshot(long second, long validUntilTick, byte[] line)
    {
        public readonly long Second = second;
        /// <summary>The <see cref="Environment.TickCount64"/> at which the wall clock reaches the next second.</summary>
        public readonly long ValidUntilTick = validUntilTick;
        public readonly byte[] Line = line;
    }

    // Consecutive seconds in order; the first one began before the window was made.
    private static Snapshot[] s_window = Create(DateTimeOffset.UtcNow, Environment.TickCount64, 1, []);

    /// <summary>The whole field line, <c>Date: Tue, 24 Nov 2026 21:31:17 GMT\r\n</c>, for the current second.</summary>
    /// <remarks>
    /// Every response asks, so the common case reads the coarse monotonic tick (no clock hardware read)
    /// and compares it with the end of each prepared second. The tick advances in steps of a few
    /// milliseconds, so a new second's line can start that much late.
    /// </remarks>
    public static ReadOnlySpan<byte> CurrentLine
    {
        get
        {
            long tick = Environment.TickCount64;
            foreach (Snapshot snapshot in Volatile.Read(ref s_window))
            {
                if (tick < snapshot.ValidUntilTick) return snapshot.Line;
            }
            Snapshot[] window = Create(DateTimeOffset.UtcNow, tick, 1, s_window);
            Volatile.Write(ref s_window, window);
            return window[0].Line;
        }
    }

    /// <summary>Formats the lines of the current second and the next few, off the request path.</summary>
    public static void PrepareAhead()
    {
        Snapshot[] previous = Volatile.Read(ref s_window);
        long tick = Environment.TickCount64;
        // This second's window is already made (several servers share one).
        if (previous.Length > SecondsAhead && tick < previous[0].ValidUntilTick) return;
        Volatile.Write(ref s_window, Create(DateTimeOffset.UtcNow, tick, 1 + SecondsAhead, previous));
    }

    private static Snapshot[] Create(DateTimeOffset now, long tick, int seconds, Snapshot[] previous)
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

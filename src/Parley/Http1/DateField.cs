using System.Text;

namespace Parley.Http1;

/// <summary>
/// The <c>Date: ...\r\n</c> field line in IMF-fixdate (RFC 9110 §5.6.7, §6.6.1), formatted at most once
/// per second and shared by every response sent in that second.
/// </summary>
internal static class DateField
{
    private sealed class Snapshot(long second, long validUntilTick, byte[] line)
    {
        public readonly long Second = second;
        /// <summary>The <see cref="Environment.TickCount64"/> at which the wall clock reaches the next second.</summary>
        public readonly long ValidUntilTick = validUntilTick;
        public readonly byte[] Line = line;
    }

    private static Snapshot s_current = Create(DateTimeOffset.UtcNow, null);

    /// <summary>The whole field line, <c>Date: Tue, 24 Nov 2026 21:31:17 GMT\r\n</c>, for the current second.</summary>
    /// <remarks>
    /// Every response asks, so the common case reads the coarse monotonic tick (no clock hardware read)
    /// and compares it with the end of the snapshot's second. The tick advances in steps of a few
    /// milliseconds, so a new second's line can start that much late.
    /// </remarks>
    public static ReadOnlySpan<byte> CurrentLine
    {
        get
        {
            Snapshot snapshot = s_current;
            if (Environment.TickCount64 < snapshot.ValidUntilTick) return snapshot.Line;
            snapshot = Create(DateTimeOffset.UtcNow, snapshot);
            s_current = snapshot;
            return snapshot.Line;
        }
    }

    private static Snapshot Create(DateTimeOffset now, Snapshot? previous)
    {
        long second = now.ToUnixTimeSeconds();
        long validUntil = Environment.TickCount64 + (1000 - now.Millisecond);
        byte[] line = previous is not null && previous.Second == second
            ? previous.Line
            : Encoding.ASCII.GetBytes("Date: " + HttpDate.Format(DateTimeOffset.FromUnixTimeSeconds(second)) + "\r\n");
        return new Snapshot(second, validUntil, line);
    }
}

using System.Text;

namespace Parley.Http1;

/// <summary>
/// The <c>Date: ...\r\n</c> field line in IMF-fixdate (RFC 9110 §5.6.7, §6.6.1), formatted at most once
/// per second and shared by every response sent in that second.
/// </summary>
public static class DateField
{
    private sealed class Snapshot(long second, byte[] line)
    {
        public readonly long Second = second;
        public readonly byte[] Line = line;
    }

    private static Snapshot s_current = Create(DateTimeOffset.UtcNow);

    /// <summary>The whole field line, <c>Date: Tue, 24 Nov 2026 21:31:17 GMT\r\n</c>, for the current second.</summary>
    public static ReadOnlySpan<byte> CurrentLine
    {
        get
        {
            Snapshot snapshot = s_current;
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (now != snapshot.Second)
            {
                snapshot = Create(DateTimeOffset.FromUnixTimeSeconds(now));
                s_current = snapshot;
            }
            return snapshot.Line;
        }
    }

    private static Snapshot Create(DateTimeOffset instant) =>
        new(instant.ToUnixTimeSeconds(), Encoding.ASCII.GetBytes("Date: " + HttpDate.Format(instant) + "\r\n"));
}

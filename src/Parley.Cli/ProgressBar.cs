using System.Diagnostics;
using System.Globalization;

namespace Parley.Cli;

/// <summary>A one-line download progress bar on stderr (only used when stderr is a terminal).</summary>
internal sealed class ProgressBar(TextWriter error, long? expected)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _lastDraw;

    public void Update(long received)
    {
        long now = Stopwatch.GetTimestamp();
        if (_lastDraw != 0 && Stopwatch.GetElapsedTime(_lastDraw, now).TotalMilliseconds < 100) return;
        _lastDraw = now;
        Draw(received, now);
    }

    /// <summary>Replaces the bar with a summary: size, elapsed time, average speed, and where it was saved.</summary>
    public void Finish(long received, string savedTo)
    {
        double seconds = Math.Max(Stopwatch.GetElapsedTime(_start).TotalSeconds, 0.001);
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{Size(received)} in {seconds:0.##} s ({Size((long)(received / seconds))}/s), saved to {savedTo}");
        error.WriteLine("\r" + summary.PadRight(78));
        error.Flush();
    }

    private void Draw(long received, long now)
    {
        double seconds = Math.Max(Stopwatch.GetElapsedTime(_start, now).TotalSeconds, 0.001);
        double speed = received / seconds;
        string line;
        if (expected is > 0 and { } total)
        {
            double fraction = Math.Min(1, (double)received / total);
            int filled = (int)(fraction * 30);
            string eta = speed > 0 ? $"{Math.Max(0, (total - received) / speed):0}s" : "?";
            line = string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('.', 30 - filled)}] {fraction * 100,5:0.0}% {Size(received)} of {Size(total)} {Size((long)speed)}/s ETA {eta}");
        }
        else
        {
            line = string.Create(CultureInfo.InvariantCulture, $"{Size(received)} {Size((long)speed)}/s");
        }
        error.Write("\r" + line.PadRight(78));
        error.Flush();
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
    };
}

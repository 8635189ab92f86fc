using System.Globalization;

namespace Parley.Cli;

/// <summary>Whether SIGHUP reaches this process at all.</summary>
internal static class HangUpSignal
{
    /// <summary>What <c>parley serve --access-log FORMAT:FILE</c> says at start-up when <see cref="IsIgnored"/>.</summary>
    public const string AccessLogWarning = "parley: warning: SIGHUP is ignored in this process (started under nohup?), so the access log will not be reopened after a log rotation; start parley without nohup (a service manager, setsid or a shell's &)";

    /// <summary>
    /// True when the process was started with SIGHUP ignored (under <c>nohup</c>, or by a parent that ignores it):
    /// the disposition is inherited across exec, and .NET then never runs a registered SIGHUP handler, so an
    /// access log would silently never be reopened after a rotation. Linux only (read from /proc); false elsewhere.
    /// </summary>
    public static bool IsIgnored()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                // proc(5): SigIgn is the mask of ignored signals in hex; bit N-1 is signal N, SIGHUP is 1.
                if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                    return ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong mask) && (mask & 1) != 0;
            }
        }
        catch (IOException)
        {
        }
        return false;
    }
}

using System.Runtime.InteropServices;

namespace Parley.Tests.Server;

/// <summary>The libc calls with which descriptor tests place, probe and close descriptor numbers.</summary>
internal static class Descriptors
{
    public const int F_GETFD = 1;
    public const int FD_CLOEXEC = 1;

    /// <summary>
    /// The first of a block of free descriptor numbers: 256 above the highest descriptor now open
    /// (/proc/self/fd), so that descriptors opened meanwhile by other threads or the runtime do not reach it.
    /// </summary>
    public static int FreeBlockAboveOpen()
    {
        int highest = Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(entry => int.Parse(Path.GetFileName(entry), System.Globalization.CultureInfo.InvariantCulture))
            .Max();
        return highest + 256;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int dup2(int oldFd, int newFd);

    [DllImport("libc", SetLastError = true)]
    public static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);
}

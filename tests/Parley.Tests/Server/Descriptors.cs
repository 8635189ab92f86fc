using System.Runtime.InteropServices;

namespace Parley.Tests.Server;

/// <summary>The libc calls with which descriptor tests place, probe and close descriptor numbers.</summary>
internal static class Descriptors
{
    public const int F_GETFD = 1;
    public const int FD_CLOEXEC = 1;

    [DllImport("libc", SetLastError = true)]
    public static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int dup2(int oldFd, int newFd);

    [DllImport("libc", SetLastError = true)]
    public static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);
}

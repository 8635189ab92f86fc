using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Parley.Server.Transport;

/// <summary>The few libc calls the epoll transport needs (Linux, x86-64 layouts).</summary>
internal static unsafe partial class LinuxNative
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENFILE = 23;
    public const int ENOBUFS = 105;
    public const int ENOMEM = 12;
    public const int ECONNABORTED = 103;

    public const ushort AF_INET = 2;
    public const ushort AF_INET6 = 10;

    /// <summary>Room for struct sockaddr_in6 (28 bytes), the larger of the two address families served.</summary>
    public const int SockAddrSize = 28;

    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLEXCLUSIVE = 1u << 28;
    public const uint EPOLLET = 1u << 31;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CLOEXEC = 0x80000;

    public const int MSG_PEEK = 0x02;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_MORE = 0x8000;

    public const int IPPROTO_TCP = 6;
    public const int TCP_CORK = 3;
    public const int TCP_NOTSENT_LOWAT = 25;

    public const int SHUT_RD = 0;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;

    public const short POLLOUT = 0x004;

    /// <summary>struct epoll_event, which the x86-64 kernel ABI packs to 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int accept4(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockname(int fd, byte* address, int* addressLength);

    // System call numbers of x86-64 Linux (arch/x86/entry/syscalls/syscall_64.tbl).
    private const nint SYS_sendto = 44;
    private const nint SYS_recvfrom = 45;

    /// <summary>
    /// recv(2) on a socket, always with MSG_DONTWAIT among <paramref name="flags"/>; -1 with the reason in
    /// <paramref name="errno"/>.
    /// </summary>
    /// <remarks>
    /// The connection loops call this and <see cref="Send"/> once or more per request, so three costs of
    /// the usual P/Invoke are left out:
    /// <list type="bullet">
    /// <item>glibc's recv and send are cancellation points (pthreads(7)): in a process with threads each
    /// call switches the thread's cancellation state on and off with atomic operations. The system call is
    /// made through syscall(2) instead, which has no cancellation bookkeeping. Its prototype is variadic,
    /// but every argument is an integer, so the System V x86-64 convention passes them in the same
    /// registers as this fixed prototype.</item>
    /// <item>The call returns at once (MSG_DONTWAIT: a copy to or from the socket buffer), short enough to
    /// run without the transition into preemptive GC mode and back.</item>
    /// <item>No SetLastError marshalling: it clears errno before the call and stores it in a thread
    /// static after it even on success. Here errno is read right after the call, only when it failed,
    /// exactly as the generated marshalling code reads it.</item>
    /// <item>Never inlined: the callers inline into async state machines, whose bodies sit in a try
    /// block, and the JIT calls a P/Invoke inside a try through a marshalling stub instead of directly
    /// (perf showed the stub at 3% of the user time of a request). In a method of its own the call is direct.</item>
    /// </list>
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static nint Receive(int fd, byte* buffer, nint length, int flags, out int errno)
    {
        nint n = syscall(SYS_recvfrom, fd, (nint)buffer, length, flags, 0, 0);
        errno = n < 0 ? Marshal.GetLastSystemError() : 0;
        return n;
    }

    /// <summary>send(2) on a socket, always with MSG_DONTWAIT among <paramref name="flags"/>, as <see cref="Receive"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static nint Send(int fd, byte* buffer, nint length, int flags, out int errno)
    {
        nint n = syscall(SYS_sendto, fd, (nint)buffer, length, flags, 0, 0);
        errno = n < 0 ? Marshal.GetLastSystemError() : 0;
        return n;
    }

    [LibraryImport("libc")]
    [SuppressGCTransition]
    private static partial nint syscall(nint number, nint arg1, nint arg2, nint arg3, nint arg4, nint arg5, nint arg6);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendfile(int outFd, int inFd, long* offset, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    private const int O_WRONLY = 0x1;
    private const int O_CREAT = 0x40;
    private const int O_APPEND = 0x400;
    private const int O_CLOEXEC = 0x80000;

    /// <summary>Opens (creating it, mode 0666 less the umask) a file for appending with O_APPEND.</summary>
    /// <exception cref="IOException">It cannot be opened; the message names the path and the reason.</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle OpenAppend(string path)
    {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 438 /* 0666 */);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string reason = Marshal.GetPInvokeErrorMessage(errno);
            if (errno == 13) throw new UnauthorizedAccessException($"{path}: {reason}");
            throw new IOException($"{path}: {reason}", errno);
        }
        return new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
    }

    // open(2) is variadic; its mode is an int here, passed in the same register as a fixed argument.
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    /// <summary>Marks a descriptor close-on-exec, so that programs this process starts do not inherit it.</summary>
    public static void SetCloseOnExec(int fd) => fcntl(fd, F_SETFD, FD_CLOEXEC);

    // fcntl(2) is variadic; its third argument is an int here, passed in the same register as a fixed one.
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, int* value, int length);
}

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

    // recv and send are only ever called with MSG_DONTWAIT, so they return at once (a copy to or from
    // the socket buffer): short enough to run without the transition into preemptive GC mode and back,
    // which a loop pays twice per request otherwise.
    [LibraryImport("libc", SetLastError = true)]
    [SuppressGCTransition]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    [SuppressGCTransition]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendfile(int outFd, int inFd, long* offset, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, int* value, int length);
}

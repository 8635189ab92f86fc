using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Server.Transport;

namespace Parley.Client;

/// <summary>
/// Connects a socket for the client's epoll transport without <see cref="Socket.ConnectAsync(EndPoint)"/>:
/// an asynchronous operation of <see cref="Socket"/> would register the descriptor with .NET's own socket
/// engine for good, and every response would then also wake that engine and a thread-pool thread. Here the
/// descriptor is created non-blocking, connect(2) is started, and the event loop reports its end.
/// </summary>
internal static partial class EpollConnect
{
    private const int SOCK_STREAM = 1;
    private const int SOCK_NONBLOCK = 0x800;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1;
    private const int SO_ERROR = 4;
    private const int EINPROGRESS = 115;
    private const int TCP_NODELAY = 1;

    public static async ValueTask<EpollTransport> ConnectAsync(IPEndPoint endPoint, EpollLoop loop, CancellationToken cancellationToken)
    {
        SocketAddress address = endPoint.Serialize();
        int fd = Start(address, endPoint.AddressFamily, out bool connected);
        EpollTransport transport;
        try
        {
            SetNoDelay(fd);
            // From here the transport owns the descriptor and closes it when the last user lets go.
            transport = new EpollTransport(fd, address.Buffer.Span[..address.Size], loop);
        }
        catch
        {
            LinuxNative.close(fd);
            throw;
        }
        try
        {
            if (!connected) await transport.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
            int error = SocketError(transport.Fd);
            if (error != 0) throw Failure(error);
            return transport;
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    private static unsafe void SetNoDelay(int fd)
    {
        int on = 1;
        if (LinuxNative.setsockopt(fd, LinuxNative.IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int)) != 0) throw Failure(Marshal.GetLastPInvokeError());
    }

    private static unsafe int Start(SocketAddress address, AddressFamily addressFamily, out bool connected)
    {
        int family = addressFamily == AddressFamily.InterNetworkV6 ? 10 : 2;
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, (int)ProtocolType.Tcp);
        if (fd < 0) throw Failure(Marshal.GetLastPInvokeError());
        int result;
        int errno;
        fixed (byte* p = address.Buffer.Span)
        {
            do
            {
                result = connect(fd, p, address.Size);
                errno = result == 0 ? 0 : Marshal.GetLastPInvokeError();
            }
            while (result != 0 && errno == LinuxNative.EINTR);
        }
        if (result != 0 && errno != EINPROGRESS)
        {
            LinuxNative.close(fd);
            throw Failure(errno);
        }
        connected = result == 0;
        return fd;
    }

    private static unsafe int SocketError(int fd)
    {
        int value = 0;
        int length = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0) return Marshal.GetLastPInvokeError();
        return value;
    }

    private static SocketException Failure(int errno) => new((int)(errno switch
    {
        111 => System.Net.Sockets.SocketError.ConnectionRefused,
        110 => System.Net.Sockets.SocketError.TimedOut,
        113 => System.Net.Sockets.SocketError.HostUnreachable,
        101 => System.Net.Sockets.SocketError.NetworkUnreachable,
        99 => System.Net.Sockets.SocketError.AddressNotAvailable,
        97 => System.Net.Sockets.SocketError.AddressFamilyNotSupported,
        104 => System.Net.Sockets.SocketError.ConnectionReset,
        _ => System.Net.Sockets.SocketError.SocketError,
    }), Marshal.GetPInvokeErrorMessage(errno));

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static unsafe partial int connect(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static unsafe partial int getsockopt(int fd, int level, int name, int* value, int* length);
}

using System.Net;
using System.Net.Sockets;

namespace Parley.Server.Transport;

/// <summary>
/// Opens the listening socket with the address-sharing options set deliberately. .NET maps
/// <see cref="SocketOptionName.ReuseAddress"/> on Linux to SO_REUSEADDR and SO_REUSEPORT together, and
/// SO_REUSEPORT lets a second process bind a port that is already listening, which then takes half the
/// connections. So the options go through as the raw Linux ones: SO_REUSEADDR always (a restarted
/// server binds while its old connections sit in TIME_WAIT, yet a port someone listens on stays taken),
/// SO_REUSEPORT only when asked for.
/// </summary>
internal static class ListenerSocket
{
    private const int SOL_SOCKET = 1;
    private const int SO_REUSEADDR = 2;
    private const int SO_REUSEPORT = 15;
    private const int Backlog = 1024;

    public static Socket Open(IPEndPoint endPoint, bool reusePort)
    {
        if (reusePort && !OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("HttpServerOptions.ReusePort needs Linux (SO_REUSEPORT with load balancing between listeners)");
        }
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            if (OperatingSystem.IsLinux())
            {
                SetFlag(listener, SO_REUSEADDR);
                if (reusePort) SetFlag(listener, SO_REUSEPORT);
            }
            listener.Bind(endPoint);
            listener.Listen(Backlog);
            return listener;
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new IOException($"cannot listen on {Describe(endPoint)}: {Reason(ex)}", ex);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="socket"/> has SO_REUSEPORT set (Linux).</summary>
    public static bool HasReusePort(Socket socket) => GetFlag(socket, SO_REUSEPORT);

    /// <summary>Whether <paramref name="socket"/> has SO_REUSEADDR set (Linux).</summary>
    public static bool HasReuseAddress(Socket socket) => GetFlag(socket, SO_REUSEADDR);

    private static void SetFlag(Socket socket, int option)
    {
        Span<byte> on = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(on, 1);
        socket.SetRawSocketOption(SOL_SOCKET, option, on);
    }

    private static bool GetFlag(Socket socket, int option)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(SOL_SOCKET, option, value);
        return BitConverter.ToInt32(value) != 0;
    }

    private static string Describe(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";

    private static string Reason(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use",
        SocketError.AddressNotAvailable => "address not available on this machine",
        SocketError.AccessDenied => "permission denied",
        _ => ex.Message,
    };
}

using System.Globalization;
using System.Net.Sockets;
using Parley.Server.Transport;

namespace Parley.Server;

/// <summary>
/// systemd socket activation (sd_listen_fds(3)): the service manager binds the listening sockets itself and
/// starts the process with them as descriptors 3, 4, ... and <c>LISTEN_FDS</c> (how many) and
/// <c>LISTEN_PID</c> (for which process) in its environment. The process can then start without the
/// privileges to bind the port, and restart without refusing a single connection: they queue in the
/// socket systemd holds. Pass each socket to <see cref="ListenerOptions.FromSocket"/>.
/// </summary>
public static class SocketActivation
{
    // SD_LISTEN_FDS_START in sd-daemon.h.
    private const int FirstDescriptor = 3;

    /// <summary>
    /// The listening sockets passed to this process, in order (none when <c>LISTEN_FDS</c> is absent or
    /// <c>LISTEN_PID</c> names another process, e.g. the variables were inherited from a parent). Takes
    /// them once: the variables are removed, so that child processes do not take them too, and the
    /// descriptors are made close-on-exec.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// <c>LISTEN_FDS</c> is not a count, or a passed descriptor is not a listening TCP socket (a datagram
    /// or Unix-domain socket, or one that is not listening): the unit's <c>.socket</c> file is wrong.
    /// </exception>
    public static IReadOnlyList<Socket> TakeListenSockets() => TakeListenSockets(FirstDescriptor);

    /// <summary>
    /// <see cref="TakeListenSockets()"/> with the passed descriptors starting at <paramref name="firstDescriptor"/>
    /// instead of 3: tests place their sockets at numbers of their choosing, so that they never adopt (and
    /// close) the test host's own descriptors 3, 4, ...
    /// </summary>
    internal static IReadOnlyList<Socket> TakeListenSockets(int firstDescriptor)
    {
        if (OperatingSystem.IsWindows()) return [];
        string? pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        string? count = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (pid is null || count is null) return [];
        if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int forProcess) || forProcess != Environment.ProcessId) return [];
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int descriptors) || descriptors > 1024)
        {
            throw new InvalidOperationException($"LISTEN_FDS must be a number of descriptors, not '{count}'");
        }
        var sockets = new List<Socket>(descriptors);
        try
        {
            for (int fd = firstDescriptor; fd < firstDescriptor + descriptors; fd++)
            {
                if (OperatingSystem.IsLinux()) LinuxNative.SetCloseOnExec(fd);
                sockets.Add(Adopt(fd));
            }
        }
        catch
        {
            foreach (Socket socket in sockets) socket.Dispose();
            throw;
        }
        return sockets;
    }

    /// <summary>
    /// Wraps an inherited descriptor, checking that it is what a listener needs: a listening TCP socket
    /// (IPv4 or IPv6).
    /// </summary>
    internal static Socket Adopt(int fd)
    {
        Socket socket;
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            socket = new Socket(handle);
        }
        catch (SocketException ex)
        {
            // Closed now, as the checks below close a socket of the wrong kind: left to the handle's
            // finalizer, the descriptor would be closed at some later time, by then perhaps reused.
            handle.Dispose();
            throw new InvalidOperationException($"descriptor {fd} passed by socket activation is not a socket: {ex.Message}", ex);
        }
        if (socket.SocketType != SocketType.Stream || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection)! == 0)
        {
            socket.Dispose();
            throw new InvalidOperationException($"descriptor {fd} passed by socket activation is not a listening TCP socket (ListenStream= with an IP address in the .socket unit)");
        }
        return socket;
    }
}

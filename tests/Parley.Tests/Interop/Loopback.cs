using System.Net;
using System.Net.Sockets;

namespace Parley.Tests.Interop;

/// <summary>Loopback ports for tests: all test traffic stays on 127.0.0.1.</summary>
public static class Loopback
{
    /// <summary>
    /// A loopback port that is free now, for a server that cannot bind port 0 and tell which port it got
    /// (nginx, HAProxy, a child process given --port). Anything else binds port 0 itself.
    /// </summary>
    /// <remarks>
    /// The port is taken below the kernel's ephemeral range, never from it: bind(0) and every outgoing
    /// connect draw from that range, so a port released there can be handed straight back out (a CI run
    /// saw two python listeners given the same port, and the second failed with EADDRINUSE) or taken by a
    /// client socket before the server binds it. Below the range only an explicit bind takes a port, and
    /// this process never hands the same one out twice.
    /// </remarks>
    public static int FreePort()
    {
        lock (s_handedOut)
        {
            var (low, high) = PortsBelowEphemeralRange();
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                int port = Random.Shared.Next(low, high);
                if (s_handedOut.Contains(port) || !IsFree(port)) continue;
                s_handedOut.Add(port);
                return port;
            }
            throw new InvalidOperationException($"no free loopback port found in {low}-{high - 1}");
        }
    }

    private static readonly HashSet<int> s_handedOut = [];

    // Linux: /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999" by default).
    private static (int Low, int High) PortsBelowEphemeralRange()
    {
        int ephemeralLow = 32768;
        try
        {
            string[] range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }
        int low = Math.Min(20000, ephemeralLow / 2);
        return (low, ephemeralLow);
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>
    /// A loopback port that refuses connections for as long as the returned socket lives: bound (so no
    /// other test can take it) but not listening, so a connect gets a reset (ECONNREFUSED).
    /// </summary>
    public static Socket RefusingPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    /// <summary>True when something accepts a TCP connection on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> CanConnectAsync(int port, int timeoutMs = 1000, IPAddress? address = null)
    {
        address ??= IPAddress.Loopback;
        using var client = new TcpClient(address.AddressFamily);
        using var cts = new CancellationTokenSource(timeoutMs);
        try
        {
            await client.ConnectAsync(address, port, cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}

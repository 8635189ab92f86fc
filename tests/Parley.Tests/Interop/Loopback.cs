using System.Net;
using System.Net.Sockets;

namespace Parley.Tests.Interop;

/// <summary>Loopback ports for tests: all test traffic stays on 127.0.0.1.</summary>
public static class Loopback
{
    /// <summary>
    /// A port that was free a moment ago (bind 127.0.0.1:0, read it, release it): only for a server that
    /// cannot bind port 0 and tell which port it got (nginx). Anything else binds port 0 itself.
    /// </summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
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

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Tests.Hardening;

/// <summary>Small helpers for hostile-client tests: raw sockets, bounded waits.</summary>
internal static class Hostile
{
    public static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>Closes with a reset (RST) instead of a FIN: SO_LINGER on with a zero timeout.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) return false;
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>Reads until EOF or reset; null when the peer did neither within <paramref name="timeout"/>.</summary>
    public static async Task<string?> ReadToCloseAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var all = new List<byte>();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0) break;
                all.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException)
        {
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        return Encoding.Latin1.GetString(all.ToArray());
    }

    public static Task SendAsync(Socket socket, string text) => socket.SendAsync(Encoding.Latin1.GetBytes(text), SocketFlags.None);
}

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Parley.Server.Transport;

/// <summary>
/// Lets a listener stop taking new connections without losing the ones the kernel already completed.
/// Closing a listening socket resets every connection still in its accept queue, and a balancer that
/// connected a moment earlier has already sent its request on it (nginx then answers a POST with 502: it
/// does not resend a request it sent). So first a socket filter drops new handshakes (the client's SYN is
/// retried a second later and then refused, which a balancer passes to another instance), then the queue is
/// accepted empty, and only then is the socket closed.
/// </summary>
internal static class ListenerQuiescing
{
    private const int SOL_SOCKET = 1;
    private const int SO_ATTACH_FILTER = 26;

    /// <summary>
    /// Attaches a classic BPF program of one instruction, "return 0" (keep no byte: drop), to the listener:
    /// SYNs and handshake completions addressed to it are dropped; established connections are unaffected.
    /// False where it cannot be done (not Linux, or the kernel refused).
    /// </summary>
    public static bool DropNewHandshakes(Socket listener)
    {
        if (!OperatingSystem.IsLinux()) return false;
        // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }: BPF_RET | BPF_K (0x06) with k = 0.
        IntPtr program = Marshal.AllocHGlobal(8);
        try
        {
            Marshal.WriteInt64(program, 0x06);
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }, the pointer aligned.
            byte[] fprog = new byte[2 * IntPtr.Size];
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, 1);
            if (IntPtr.Size == 8) BinaryPrimitives.WriteInt64LittleEndian(fprog.AsSpan(8), program.ToInt64());
            else BinaryPrimitives.WriteInt32LittleEndian(fprog.AsSpan(4), program.ToInt32());
            // The kernel copies the program: it may be freed once attached.
            listener.SetRawSocketOption(SOL_SOCKET, SO_ATTACH_FILTER, fprog);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            Marshal.FreeHGlobal(program);
        }
    }

    /// <summary>Whether a completed connection waits in the listener's accept queue.</summary>
    public static bool HasPendingConnection(Socket listener)
    {
        try
        {
            return listener.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }
}

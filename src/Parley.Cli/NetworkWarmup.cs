using System.Net;
using System.Net.Sockets;

namespace Parley.Cli;

/// <summary>
/// Before a <c>-v</c> session: one TCP connection over loopback inside this process, so that the runtime
/// compiles its socket code then, and the first request's timing line shows the network (a connect to
/// 127.0.0.1 in well under a millisecond) rather than tens of milliseconds of start-up.
/// </summary>
internal static class NetworkWarmup
{
    public static async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            Task<Socket> accept = listener.AcceptAsync(cancellationToken).AsTask();
            await client.ConnectAsync(listener.LocalEndPoint!, cancellationToken).ConfigureAwait(false);
            using Socket accepted = await accept.ConfigureAwait(false);
        }
        catch (SocketException)
        {
            // No loopback here: the timings then include the start-up, which is all this costs.
        }
    }
}

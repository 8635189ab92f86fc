using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Client;

namespace Parley.Cli;

/// <summary>
/// Before a <c>-v</c> session: one whole exchange with a throwaway responder on loopback inside this process,
/// through a client like the real one and a session printer that writes nowhere, so that the runtime
/// compiles the client's and the printer's code then. The first request's timing line then shows the
/// network (a connect to 127.0.0.1 takes well under a millisecond) rather than the tool's start-up.
/// Best effort: if loopback is unavailable the timings simply include the start-up.
/// </summary>
internal static class NetworkWarmup
{
    // A body, so that the body-reading and copying code is compiled too (the first timing line's "transfer").
    private static readonly byte[] Response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nwarm\n");

    public static async Task RunAsync(TransportKind transport, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            Task responder = RespondOnceAsync(listener, limit.Token);
            var options = new ParleyClientOptions
            {
                Transport = transport,
                Observer = new SessionPrinter(TextWriter.Null, verbose: true),
                RequestTimeout = TimeSpan.FromSeconds(2),
            };
            using (var client = new ParleyClient(options))
            {
                using ParleyResponse response = await client.GetAsync($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}/", limit.Token).ConfigureAwait(false);
                await ClientCommands.CopyAsync(response.Body, Stream.Null, null, null, limit.Token).ConfigureAwait(false);
            }
            await responder.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ParleyHttpException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // No warm-up: the first timing line then includes the start-up, which is all this costs.
        }
    }

    private static async Task RespondOnceAsync(Socket listener, CancellationToken cancellationToken)
    {
        using Socket connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = new byte[4096];
        int received = 0;
        while (received < buffer.Length && buffer.AsSpan(0, received).IndexOf("\r\n\r\n"u8) < 0)
        {
            int read = await connection.ReceiveAsync(buffer.AsMemory(received), cancellationToken).ConfigureAwait(false);
            if (read == 0) return;
            received += read;
        }
        await connection.SendAsync(Response, cancellationToken).ConfigureAwait(false);
    }
}

using Parley.Server.Transport;

namespace Parley.Client;

/// <summary>
/// A client connection after a 101 (RFC 9110 §7.8): the bytes received with the response head first, then
/// the transport's (decrypted on TLS); writes go straight out (see <see cref="UpgradedTransportStream"/>).
/// Disposing closes the connection.
/// </summary>
internal sealed class UpgradedConnectionStream(ClientConnection connection, ConnectionTransport transport, byte[] early)
    : UpgradedTransportStream(transport, early)
{
    private int _disposed;

    protected override bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) connection.CloseUpgraded();
        base.Dispose(disposing);
    }
}

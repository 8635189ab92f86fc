using Parley.Server.Transport;

namespace Parley.Client;

/// <summary>
/// A client connection after a 101 (RFC 9110 §7.8): the bytes received with the response head first, then
/// the transport's (decrypted on TLS); writes go straight out. One read and one write may be in progress at
/// once. Disposing closes the connection.
/// </summary>
internal sealed class UpgradedConnectionStream(ClientConnection connection, ConnectionTransport transport, byte[] early) : Stream
{
    private int _earlyPos;
    private int _disposed;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_earlyPos < early.Length)
        {
            int n = Math.Min(buffer.Length, early.Length - _earlyPos);
            early.AsSpan(_earlyPos, n).CopyTo(buffer.Span);
            _earlyPos += n;
            return new(n);
        }
        return Guard(buffer.IsEmpty ? transport.WaitForDataAsync() : transport.ReceiveAsync(buffer, cancellationToken), buffer.IsEmpty);
    }

    // A stream reports a broken connection as IOException, whatever the transport under it threw.
    private static async ValueTask<int> Guard(ValueTask<int> pending, bool waitOnly)
    {
        try
        {
            int n = await pending.ConfigureAwait(false);
            return waitOnly ? 0 : n;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw new IOException($"the connection was closed: {ex.Message}", ex);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            await transport.SendAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw new IOException($"the connection was closed: {ex.Message}", ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => transport.SendBlocking(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) connection.CloseUpgraded();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

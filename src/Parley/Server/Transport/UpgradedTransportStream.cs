namespace Parley.Server.Transport;

/// <summary>
/// A connection after a 101 (RFC 9110 §7.8), server or client side: the bytes already received after the
/// head first, then the transport's (decrypted on TLS); writes go straight out. A zero-byte read waits for
/// data without consuming any. One read and one write may be in progress at once, as on a socket. A broken
/// connection surfaces as <see cref="IOException"/>, whatever the transport under it threw (a socket closed
/// by a stop fails with <see cref="ObjectDisposedException"/> or a SocketException). Each side decides what
/// disposing does.
/// </summary>
internal abstract class UpgradedTransportStream(ConnectionTransport transport, byte[] early) : Stream
{
    private int _earlyPos;

    /// <summary>The transport under the stream.</summary>
    protected ConnectionTransport UnderlyingTransport => transport;

    /// <summary>True once the stream is disposed: reads and writes then throw.</summary>
    protected abstract bool IsDisposed { get; }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (_earlyPos < early.Length)
        {
            // Already counted: they arrived with the request head.
            int n = Math.Min(buffer.Length, early.Length - _earlyPos);
            early.AsSpan(_earlyPos, n).CopyTo(buffer.Span);
            _earlyPos += n;
            return new(n);
        }
        if (buffer.IsEmpty) return WaitForDataAsync(cancellationToken);
        ValueTask<int> receive;
        try
        {
            receive = transport.ReceiveAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            return ValueTask.FromException<int>(AsIOException(ex));
        }
        if (!receive.IsCompletedSuccessfully) return AwaitReceiveAsync(receive);
        int count = receive.Result;
        transport.BytesReceived += count;
        return new(count);
    }

    private async ValueTask<int> AwaitReceiveAsync(ValueTask<int> receive)
    {
        try
        {
            int received = await receive.ConfigureAwait(false);
            transport.BytesReceived += received;
            return received;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw AsIOException(ex);
        }
    }

    private async ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await transport.WaitForDataAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw AsIOException(ex);
        }
        return 0;
    }

    private static bool IsTransportFailure(Exception ex) => ex is System.Net.Sockets.SocketException or ObjectDisposedException;

    private static IOException AsIOException(Exception ex) => new($"the connection was closed: {ex.Message}", ex);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    // A synchronous read blocks this thread until the transport completes the receive elsewhere.
    public override int Read(Span<byte> buffer)
    {
        byte[] rented = new byte[buffer.Length];
        int n = ReadAsync(rented).AsTask().GetAwaiter().GetResult();
        rented.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ValueTask<int> send;
        try
        {
            send = transport.SendAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            return ValueTask.FromException(AsIOException(ex));
        }
        if (!send.IsCompletedSuccessfully) return AwaitSendAsync(send, buffer.Length);
        send.GetAwaiter().GetResult();
        transport.BytesSent += buffer.Length;
        return default;
    }

    private async ValueTask AwaitSendAsync(ValueTask<int> send, int length)
    {
        try
        {
            await send.ConfigureAwait(false);
            transport.BytesSent += length;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw AsIOException(ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        try
        {
            transport.SendBlocking(buffer);
            transport.BytesSent += buffer.Length;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw AsIOException(ex);
        }
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

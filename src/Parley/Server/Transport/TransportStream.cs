using System.Runtime.CompilerServices;

namespace Parley.Server.Transport;

/// <summary>
/// A <see cref="ConnectionTransport"/> seen as a <see cref="Stream"/>, for <see cref="System.Net.Security.SslStream"/>
/// to read and write the encrypted bytes through. Reads complete where the transport completes them: on the
/// epoll transport that is the loop's thread, so TLS keeps the inline path.
/// A zero-byte read waits until bytes can be read and returns 0 without consuming any; SslStream issues
/// one when its caller does, and only then rents its buffer, so an idle TLS connection holds none.
/// </summary>
internal sealed class TransportStream(ConnectionTransport transport) : Stream
{
    private byte _prefix;
    private bool _hasPrefix;

    /// <summary>True from when a last word is sent (see <see cref="TlsTransport.TrySendNow"/>): synchronous writes then never wait.</summary>
    public bool WritesMustNotWait { get; set; }

    /// <summary>Gives back one byte already received (the peeked first byte), to be read before the transport's.</summary>
    public void Unread(byte first)
    {
        _prefix = first;
        _hasPrefix = true;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_hasPrefix)
        {
            if (buffer.IsEmpty) return new(0);
            buffer.Span[0] = _prefix;
            _hasPrefix = false;
            return new(1);
        }
        if (!buffer.IsEmpty) return transport.ReceiveAsync(buffer, cancellationToken);
        ValueTask<int> wait = transport.WaitForDataAsync();
        if (!wait.IsCompletedSuccessfully) return AwaitDataAsync(wait);
        wait.GetAwaiter().GetResult();
        return new(0);
    }

    // Pooled: an idle TLS connection goes through here before every request that has to be waited for.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AwaitDataAsync(ValueTask<int> wait)
    {
        await wait.ConfigureAwait(false);
        return 0;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueTask<int> send = transport.SendAsync(buffer, cancellationToken);
        if (!send.IsCompletedSuccessfully) return AwaitSendAsync(send);
        send.GetAwaiter().GetResult();
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitSendAsync(ValueTask<int> send) => await send.ConfigureAwait(false);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (WritesMustNotWait) transport.TrySendNow(buffer);
        else transport.SendBlocking(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // SslStream reads synchronously only for a synchronous caller, which the server never is; kept correct anyway.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

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

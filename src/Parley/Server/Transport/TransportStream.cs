using System.Runtime.CompilerServices;

namespace Parley.Server.Transport;

/// <summary>
/// A <see cref="ConnectionTransport"/> seen as a <see cref="Stream"/>, for <see cref="System.Net.Security.SslStream"/>
/// to read and write the encrypted bytes through: under the server's <see cref="TlsTransport"/> and the
/// client's <c>TlsClientTransport</c> alike. Reads complete where the transport completes them: on the
/// epoll transport that is the loop's thread, so TLS keeps the inline path.
/// A zero-byte read waits until bytes can be read and returns 0 without consuming any; SslStream issues
/// one when its caller does, and only then rents its buffer, so an idle TLS connection holds none.
/// </summary>
/// <param name="transport">The connection's transport, carrying the TLS records.</param>
/// <param name="keepFirstBytes">Keep the first bytes received (<see cref="FirstBytes"/>), for a client to tell
/// a server that answered in plain HTTP from a failed handshake.</param>
internal sealed class TransportStream(ConnectionTransport transport, bool keepFirstBytes = false) : Stream
{
    private const int FirstBytesKept = 16;

    private readonly byte[]? _first = keepFirstBytes ? new byte[FirstBytesKept] : null;
    private int _firstCount;
    private byte _prefix;
    private bool _hasPrefix;

    /// <summary>The first bytes received, up to 16 (empty unless the stream was made to keep them).</summary>
    public ReadOnlySpan<byte> FirstBytes => _first.AsSpan(0, _firstCount);

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
        if (!buffer.IsEmpty)
        {
            ValueTask<int> receive = transport.ReceiveAsync(buffer, cancellationToken);
            if (_first is null || _firstCount == _first.Length) return receive;
            if (!receive.IsCompletedSuccessfully) return KeepFirstBytesAfterAsync(receive, buffer);
            int count = receive.Result;
            KeepFirstBytes(buffer.Span[..count]);
            return new(count);
        }
        // Handed on as it is (its result is 0, as a zero-byte read's must be): an idle TLS connection then
        // holds no state machine of this stream's, only the transport's own wait.
        return transport.WaitForDataAsync();
    }

    private void KeepFirstBytes(ReadOnlySpan<byte> received)
    {
        int take = Math.Min(received.Length, _first!.Length - _firstCount);
        received[..take].CopyTo(_first.AsSpan(_firstCount));
        _firstCount += take;
    }

    // Only until the first bytes are kept: the handshake's first reads.
    private async ValueTask<int> KeepFirstBytesAfterAsync(ValueTask<int> receive, Memory<byte> buffer)
    {
        int count = await receive.ConfigureAwait(false);
        KeepFirstBytes(buffer.Span[..count]);
        return count;
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

    // SslStream reads synchronously only for a synchronous caller (the client's SendBlocking and ShutdownSend); the server never is one.
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

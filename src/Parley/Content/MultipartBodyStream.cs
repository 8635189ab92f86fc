namespace Parley.Content;

/// <summary>
/// The read-only, forward-only content of one multipart part; it ends at the next boundary and
/// stops working once the reader has moved on to the next part.
/// </summary>
internal sealed class MultipartBodyStream : Stream
{
    private MultipartReader? _reader;

    public MultipartBodyStream(MultipartReader reader) => _reader = reader;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public void Detach() => _reader = null;

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer) => Reader.ReadBody(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Reader.ReadBodyAsync(buffer, cancellationToken);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private MultipartReader Reader =>
        _reader ?? throw new InvalidOperationException("This part's body can no longer be read: the reader has moved to the next part.");
}

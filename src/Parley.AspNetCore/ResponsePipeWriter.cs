using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Parley.AspNetCore;

/// <summary>
/// The response body as a <see cref="PipeWriter"/> (<c>HttpResponse.BodyWriter</c>): bytes collect in a
/// pooled buffer and go to the engine at a flush, a stream write, or the end of the request, so a body
/// written in one go still leaves with a Content-Length.
/// </summary>
internal sealed class ResponsePipeWriter(RequestFeatures owner) : PipeWriter
{
    // Kept by the pooled request object between requests; a larger buffer goes back to the array pool.
    private const int KeptBufferSize = 4096;

    private byte[] _buffer = [];
    private int _buffered;
    private bool _completed;

    public int BufferedCount => _buffered;

    public ReadOnlyMemory<byte> Buffered => _buffer.AsMemory(0, _buffered);

    public bool IsCompleted => _completed;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _buffered;

    public void ClearBuffered() => _buffered = 0;

    public void MarkCompleted() => _completed = true;

    public void Reset()
    {
        _buffered = 0;
        _completed = false;
    }

    public void Release()
    {
        _buffered = 0;
        if (_buffer.Length > KeptBufferSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsMemory(_buffered);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsSpan(_buffered);
    }

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > _buffer.Length - _buffered) throw new InvalidOperationException("Can't advance past buffer size.");
        _buffered += bytes;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ValueTask flush = owner.FlushAsync(cancellationToken);
        if (flush.IsCompletedSuccessfully) return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
        return AwaitFlushAsync(flush);
    }

    // Pooled: an application writing JSON flushes its writer on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<FlushResult> AwaitFlushAsync(ValueTask flush)
    {
        await flush.ConfigureAwait(false);
        return new FlushResult(isCanceled: false, isCompleted: false);
    }

    // Written like the stream's writes: into the engine's buffer, sent when it fills or at a flush.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        await owner.WriteAsync(source, cancellationToken).ConfigureAwait(false);
        return new FlushResult(isCanceled: false, isCompleted: false);
    }

    // A flush here never waits on a reader that could be cancelled: it ends when the engine has sent.
    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null) => _completed = true;

    public override ValueTask CompleteAsync(Exception? exception = null) => owner.CompleteBodyAsync();

    private void EnsureRoom(int sizeHint)
    {
        if (_completed) throw new InvalidOperationException("Writing is not allowed after writer was completed.");
        int needed = _buffered + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length) return;
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(_buffer.Length * 2, KeptBufferSize)));
        _buffer.AsSpan(0, _buffered).CopyTo(bigger);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}

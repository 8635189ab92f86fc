using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace Parley.AspNetCore;

/// <summary>The request body as the application reads it: the engine's body, with the request's size limit and the synchronous I/O rule.</summary>
internal sealed class RequestBodyStream(RequestFeatures owner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        owner.ReadBodyAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (!owner.AllowSynchronousIO) throw new InvalidOperationException("Synchronous operations are disallowed. Call ReadAsync or set AllowSynchronousIO to true instead.");
        byte[] scratch = new byte[buffer.Length];
        int read = owner.ReadBodyAsync(scratch, default).AsTask().GetAwaiter().GetResult();
        scratch.AsSpan(0, read).CopyTo(buffer);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The response body as a write-only stream (<c>HttpResponse.Body</c>).</summary>
internal sealed class ResponseBodyStream(RequestFeatures owner) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        owner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => owner.Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => owner.Write(buffer);

    public override Task FlushAsync(CancellationToken cancellationToken) => owner.FlushAsync(cancellationToken).AsTask();

    public override void Flush() => owner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

// Reading the body, with the limit reported as Kestrel reports it.
internal abstract partial class RequestFeatures
{
    private long _bodyBytesRead;

    // Pooled: an upload goes asynchronous on most reads, and this state machine must not be an allocation each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Parley.Server.HttpRequest request = EngineRequest;
        if (!BodyReadStarted)
        {
            BodyReadStarted = true;
            // RFC 9110 §15.5.14: a declared length over the limit is refused before any of it is read.
            if (MaxRequestBodySize is long declaredLimit && request.ContentLength > declaredLimit) throw BodyTooLarge(declaredLimit);
        }
        int read;
        try
        {
            read = await request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Parley.Server.BadRequestException ex)
        {
            throw new BadHttpRequestException(ex.Message, ex.StatusCode, ex);
        }
        catch (IOException)
        {
            OnConnectionFailed();
            throw;
        }
        _bodyBytesRead += read;
        if (MaxRequestBodySize is long limit && _bodyBytesRead > limit) throw BodyTooLarge(limit);
        return read;
    }

    private static BadHttpRequestException BodyTooLarge(long limit) =>
        new($"Request body too large. The max request body size is {limit} bytes.", Microsoft.AspNetCore.Http.StatusCodes.Status413PayloadTooLarge);
}

using System.Buffers;

namespace Parley.Http1;

/// <summary>
/// A growable byte buffer over arrays rented from <see cref="ArrayPool{T}"/>: the place where message
/// heads and bodies are assembled before one write to the socket. Reused across messages.
/// </summary>
internal sealed class ByteBuffer : IBufferWriter<byte>, IDisposable
{
    private const int MinimumRent = 4096;
    private byte[] _array;
    private int _length;

    /// <summary>Creates a buffer with at least <paramref name="initialCapacity"/> bytes rented.</summary>
    public ByteBuffer(int initialCapacity = 4096) => _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    /// <summary>Forgets the content; keeps the rented array.</summary>
    public void Clear() => _length = 0;

    /// <summary>Drops everything after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)_length, nameof(length));
        _length = length;
    }

    /// <summary>
    /// Returns the array to the pool while the buffer is empty, so an idle owner holds no buffer at all;
    /// the next write rents one again.
    /// </summary>
    public void ReleaseIfEmpty()
    {
        if (_length == 0 && _array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)(_array.Length - _length), nameof(count));
        _length += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _array.AsMemory(_length);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _array.AsSpan(_length);
    }

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_array.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Appends one byte.</summary>
    public void Write(byte value)
    {
        Reserve(1);
        _array[_length++] = value;
    }

    /// <summary>Returns the rented array to the pool.</summary>
    public void Dispose()
    {
        byte[] array = _array;
        _array = [];
        _length = 0;
        if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
    }

    private void Reserve(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_array.Length - _length >= sizeHint) return;
        int newSize = Math.Max(Math.Max(_array.Length * 2, _length + sizeHint), MinimumRent);
        byte[] bigger = ArrayPool<byte>.Shared.Rent(newSize);
        _array.AsSpan(0, _length).CopyTo(bigger);
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}

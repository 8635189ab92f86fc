using System.Buffers;
using System.Runtime.InteropServices;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// The pooled growable buffer messages are assembled in: what it holds, the bounds it enforces, and that
/// every array it lets go goes back to the pool (the shared pool hands the array returned last on a thread
/// to that thread's next rent of the same size, which is what these tests look at).
/// </summary>
public class ByteBufferTests
{
    private static byte[] ArrayOf(ByteBuffer buffer)
    {
        Assert.True(MemoryMarshal.TryGetArray(buffer.WrittenMemory, out ArraySegment<byte> segment));
        return segment.Array!;
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)(i * 7 + 3);
        return bytes;
    }

    [Fact]
    public void Grows_to_hold_whatever_is_written_and_keeps_it_in_order()
    {
        using var buffer = new ByteBuffer(16);
        byte[] first = Pattern(10);
        byte[] big = Pattern(10_000);
        buffer.Write(first);
        buffer.Write(big);
        for (int i = 0; i < 5000; i++) buffer.Write((byte)i);
        byte[] expected = [.. first, .. big, .. Enumerable.Range(0, 5000).Select(i => (byte)i)];
        Assert.Equal(expected, buffer.WrittenSpan.ToArray());
        Assert.Equal(expected.Length, buffer.Length);
    }

    [Fact]
    public void Writes_into_a_buffer_that_started_with_no_array()
    {
        using var buffer = new ByteBuffer(0);
        buffer.Write((byte)'x');
        using var other = new ByteBuffer(0);
        other.Write(Pattern(20_000));
        Assert.Equal("x"u8.ToArray(), buffer.WrittenSpan.ToArray());
        Assert.Equal(Pattern(20_000), other.WrittenSpan.ToArray());
    }

    [Fact]
    public void GetMemory_and_GetSpan_give_at_least_the_size_asked_and_never_nothing()
    {
        using var buffer = new ByteBuffer(16);
        Assert.True(buffer.GetMemory(5000).Length >= 5000);
        Assert.True(buffer.GetSpan(9000).Length >= 9000);
        buffer.Write(new byte[buffer.GetSpan().Length]);
        Assert.True(buffer.GetMemory().Length >= 1);
        Assert.True(buffer.GetSpan(0).Length >= 1);
    }

    [Fact]
    public void Does_not_grow_while_the_size_asked_still_fits()
    {
        using var buffer = new ByteBuffer(4096);
        byte[] array = ArrayOf(buffer);
        buffer.Write(new byte[array.Length - 1]);
        // Exactly one byte free: asking for one byte keeps the array.
        Assert.Equal(1, buffer.GetSpan(1).Length);
        Assert.Equal(1, buffer.GetMemory(1).Length);
        buffer.Write((byte)1);
        Assert.Same(array, ArrayOf(buffer));
    }

    [Fact]
    public void Advance_takes_at_most_the_free_space()
    {
        using var buffer = new ByteBuffer(16);
        int capacity = ArrayOf(buffer).Length;
        buffer.Write(Pattern(10));
        int free = capacity - 10;
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(free + 1));
        Assert.Equal(10, buffer.Length);
        buffer.Advance(free);
        Assert.Equal(capacity, buffer.Length);
    }

    [Fact]
    public void Truncate_drops_the_tail_and_cannot_lengthen()
    {
        using var buffer = new ByteBuffer(16);
        buffer.Write("abcdef"u8);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Truncate(7));
        Assert.Equal(6, buffer.Length);
        buffer.Truncate(2);
        Assert.Equal("ab"u8.ToArray(), buffer.WrittenSpan.ToArray());
        buffer.Clear();
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void Growing_returns_the_outgrown_array_to_the_pool()
    {
        using var buffer = new ByteBuffer(16);
        byte[] outgrown = ArrayOf(buffer);
        buffer.Write(Pattern(outgrown.Length + 1));
        byte[] rented = ArrayPool<byte>.Shared.Rent(outgrown.Length);
        try
        {
            Assert.Same(outgrown, rented);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        Assert.Equal(Pattern(outgrown.Length + 1), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void ReleaseIfEmpty_returns_the_array_only_when_empty_and_the_buffer_works_after()
    {
        using var buffer = new ByteBuffer(32);
        byte[] array = ArrayOf(buffer);
        buffer.Write("kept"u8);
        buffer.ReleaseIfEmpty();
        Assert.Same(array, ArrayOf(buffer));
        Assert.Equal("kept"u8.ToArray(), buffer.WrittenSpan.ToArray());

        buffer.Clear();
        buffer.ReleaseIfEmpty();
        buffer.ReleaseIfEmpty();
        byte[] rented = ArrayPool<byte>.Shared.Rent(array.Length);
        ArrayPool<byte>.Shared.Return(rented);
        Assert.Same(array, rented);
        Assert.Empty(ArrayOf(buffer));

        buffer.Write("again"u8);
        Assert.Equal("again"u8.ToArray(), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Dispose_returns_the_array_to_the_pool_once()
    {
        var buffer = new ByteBuffer(64);
        byte[] array = ArrayOf(buffer);
        buffer.Write("x"u8);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Equal(0, buffer.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(array.Length);
        ArrayPool<byte>.Shared.Return(rented);
        Assert.Same(array, rented);
    }
}

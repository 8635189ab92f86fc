using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Parley.Http1;

/// <summary>
/// Classifies a head 64 bytes at a time into two bitmasks (bit i for byte <c>Base + i</c>), so that the
/// field-line walk finds each line's colon and end with a bit search instead of a load and compare per
/// line: the masks of a block do not depend on where the lines fall, so the loads of the next block can
/// run ahead while the walk is still in this one.
/// <list type="bullet">
/// <item><see cref="Control"/>: a byte no field value may hold (RFC 9110 §5.5: CTL but HTAB, and DEL),
/// which includes the CR and LF of the line ends (RFC 9112 §2.2).</item>
/// <item><see cref="NonName"/>: a byte other than a letter, digit or '-', the tchar (RFC 9110 §5.6.2) of
/// nearly every field name; ':' is one, so the first such byte of a well-formed line is its colon.</item>
/// </list>
/// Moves forward only. Needs Vector128 hardware (the callers keep a scalar path).
/// </summary>
internal ref struct HeadScanner
{
    private readonly ref byte _start;
    private readonly int _length;
    /// <summary>Index of the byte bit 0 of the masks stands for.</summary>
    public int Base;
    public ulong Control;
    public ulong NonName;

    /// <summary>Scans from <paramref name="from"/>; the span must hold at least 64 bytes.</summary>
    public HeadScanner(ReadOnlySpan<byte> buffer, int from)
    {
        _start = ref MemoryMarshal.GetReference(buffer);
        _length = buffer.Length;
        Base = from - 64;
        Control = NonName = 0;
    }

    public static bool IsSupported => Vector128.IsHardwareAccelerated;

    /// <summary>Moves to the next 64 bytes; false when the buffer has no more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Advance()
    {
        int next = Base + 64;
        if (next >= _length) return false;
        Base = next;
        if (next <= _length - 64)
        {
            Classify(ref Unsafe.Add(ref _start, (nuint)(uint)next), out Control, out NonName);
        }
        else
        {
            // The buffer's last 64 bytes, overlapping what came before; shifting out the overlap leaves
            // zero bits for the positions past the end, where no search may stop.
            int shift = next - (_length - 64);
            Classify(ref Unsafe.Add(ref _start, (nuint)(uint)(_length - 64)), out ulong control, out ulong nonName);
            Control = control >> shift;
            NonName = nonName >> shift;
        }
        return true;
    }

    /// <summary>Index of the first <see cref="NonName"/> byte at or after <paramref name="from"/>, or -1; <paramref name="from"/> must not lie before <see cref="Base"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextNonName(int from)
    {
        while (true)
        {
            // After an advance, from may lie before Base: then every bit of the new block counts.
            int relative = Math.Max(from - Base, 0);
            if (relative < 64)
            {
                ulong bits = NonName & (ulong.MaxValue << relative);
                if (bits != 0) return Base + BitOperations.TrailingZeroCount(bits);
            }
            if (!Advance()) return -1;
        }
    }

    /// <summary>Index of the first <see cref="Control"/> byte at or after <paramref name="from"/>, or -1; <paramref name="from"/> must not lie before <see cref="Base"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextControl(int from)
    {
        while (true)
        {
            // After an advance, from may lie before Base: then every bit of the new block counts.
            int relative = Math.Max(from - Base, 0);
            if (relative < 64)
            {
                ulong bits = Control & (ulong.MaxValue << relative);
                if (bits != 0) return Base + BitOperations.TrailingZeroCount(bits);
            }
            if (!Advance()) return -1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify(ref byte at, out ulong control, out ulong nonName)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<byte> v = Vector512.LoadUnsafe(ref at);
            control = ((Vector512.LessThan(v, Vector512.Create((byte)0x20)) & ~Vector512.Equals(v, Vector512.Create((byte)'\t')))
                | Vector512.Equals(v, Vector512.Create((byte)0x7F))).ExtractMostSignificantBits();
            nonName = ~(Vector512.LessThan((v | Vector512.Create((byte)0x20)) - Vector512.Create((byte)'a'), Vector512.Create((byte)26))
                | Vector512.LessThan(v - Vector512.Create((byte)'0'), Vector512.Create((byte)10))
                | Vector512.Equals(v, Vector512.Create((byte)'-'))).ExtractMostSignificantBits();
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Classify256(Vector256.LoadUnsafe(ref at), out uint c0, out uint n0);
            Classify256(Vector256.LoadUnsafe(ref at, 32), out uint c1, out uint n1);
            control = c0 | (ulong)c1 << 32;
            nonName = n0 | (ulong)n1 << 32;
        }
        else
        {
            control = nonName = 0;
            for (int i = 0; i < 4; i++)
            {
                Classify128(Vector128.LoadUnsafe(ref at, (nuint)(16 * i)), out uint c, out uint n);
                control |= (ulong)c << (16 * i);
                nonName |= (ulong)n << (16 * i);
            }
        }
    }

    private static void Classify256(Vector256<byte> v, out uint control, out uint nonName)
    {
        control = ((Vector256.LessThan(v, Vector256.Create((byte)0x20)) & ~Vector256.Equals(v, Vector256.Create((byte)'\t')))
            | Vector256.Equals(v, Vector256.Create((byte)0x7F))).ExtractMostSignificantBits();
        nonName = ~(Vector256.LessThan((v | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)26))
            | Vector256.LessThan(v - Vector256.Create((byte)'0'), Vector256.Create((byte)10))
            | Vector256.Equals(v, Vector256.Create((byte)'-'))).ExtractMostSignificantBits();
    }

    private static void Classify128(Vector128<byte> v, out uint control, out uint nonName)
    {
        control = ((Vector128.LessThan(v, Vector128.Create((byte)0x20)) & ~Vector128.Equals(v, Vector128.Create((byte)'\t')))
            | Vector128.Equals(v, Vector128.Create((byte)0x7F))).ExtractMostSignificantBits();
        nonName = ~(Vector128.LessThan((v | Vector128.Create((byte)0x20)) - Vector128.Create((byte)'a'), Vector128.Create((byte)26))
            | Vector128.LessThan(v - Vector128.Create((byte)'0'), Vector128.Create((byte)10))
            | Vector128.Equals(v, Vector128.Create((byte)'-'))).ExtractMostSignificantBits() & 0xFFFF;
    }
}

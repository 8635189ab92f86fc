using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Parley.Http1;

/// <summary>
/// One flag byte per octet for the character classes the hot parsing loops test byte by byte. Names,
/// methods and targets are short, so a table lookup per byte beats setting up a vectorized search.
/// Must agree with the search sets in <see cref="HttpSyntax"/> and <see cref="HostSyntax"/>; a test
/// compares every octet.
/// </summary>
internal static class ByteClasses
{
    /// <summary>tchar (RFC 9110 §5.6.2).</summary>
    public const byte Token = 1;
    /// <summary>A byte a request-target may hold: not in <see cref="HttpSyntax.InvalidTargetBytes"/>.</summary>
    public const byte Target = 2;
    /// <summary>A byte of reg-name, or '%' of its pct-encoding (RFC 3986 §3.2.2).</summary>
    public const byte RegName = 4;
    /// <summary>'%' and '?': the target bytes after which a target needs a closer look.</summary>
    public const byte TargetMark = 8;

    // Generated from the sets above: bit 1 tchar, bit 2 target, bit 4 reg-name, bit 8 '%' or '?'.
    private static ReadOnlySpan<byte> Table =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x00
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x10
        0, 7, 2, 1, 7, 15, 7, 7, 6, 6, 7, 7, 6, 7, 7, 2, // 0x20
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 2, 6, 2, 6, 2, 10, // 0x30
        2, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 0x40
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 2, 2, 2, 3, 7, // 0x50
        3, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 0x60
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 2, 3, 2, 7, 0, // 0x70
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x80
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x90
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xA0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xB0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xC0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xD0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xE0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xF0
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is(byte b, byte classes) => (Table[b] & classes) != 0;

    /// <summary>
    /// Length of the run of request-target bytes at the start of <paramref name="span"/>; whether it holds
    /// a '%', and the index of its first '?' (or -1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TargetRun(ReadOnlySpan<byte> span, out bool percent, out int query)
    {
        ReadOnlySpan<byte> table = Table;
        percent = false;
        query = -1;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 32 bytes at a time while there are 32: the Target class is exactly 0x21-0x7E but '#'.
            ref byte start = ref MemoryMarshal.GetReference(span);
            for (; i <= span.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                Vector256<byte> v = Vector256.LoadUnsafe(ref start, (nuint)(uint)i);
                uint invalid = (Vector256.GreaterThan(v - Vector256.Create((byte)0x21), Vector256.Create((byte)(0x7E - 0x21)))
                    | Vector256.Equals(v, Vector256.Create((byte)'#'))).ExtractMostSignificantBits();
                // The bytes before the first invalid one (all 32 when there is none).
                uint run = invalid == 0 ? uint.MaxValue : (1u << BitOperations.TrailingZeroCount(invalid)) - 1;
                if ((Vector256.Equals(v, Vector256.Create((byte)'%')).ExtractMostSignificantBits() & run) != 0) percent = true;
                uint questions = Vector256.Equals(v, Vector256.Create((byte)'?')).ExtractMostSignificantBits() & run;
                if (query < 0 && questions != 0) query = i + BitOperations.TrailingZeroCount(questions);
                if (invalid != 0) return i + BitOperations.TrailingZeroCount(invalid);
            }
        }
        for (; (uint)i < (uint)span.Length; i++)
        {
            byte b = span[i];
            byte flags = table[b];
            if ((flags & Target) == 0) break;
            if ((flags & TargetMark) != 0)
            {
                if (b == (byte)'%') percent = true;
                else if (query < 0) query = i;
            }
        }
        return i;
    }

    /// <summary>Length of the run of bytes of class <paramref name="classes"/> at the start of <paramref name="span"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Run(ReadOnlySpan<byte> span, byte classes)
    {
        ReadOnlySpan<byte> table = Table;
        int i = 0;
        while ((uint)i < (uint)span.Length && (table[span[i]] & classes) != 0) i++;
        return i;
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Parley.Http1;

/// <summary>
/// The whole field section of a common request head checked 64 bytes at a time, with no loop per byte
/// and no search per line. Each block of the section is classified into three bitmasks (bit i for byte i
/// of the block: CR, name bytes, controls) and the rules of RFC 9112 §2.2 and §5.1 are checked on the
/// masks of the block at once:
/// <list type="bullet">
/// <item>the controls are CR and the byte after each CR, and nothing else (so no CTL but HTAB in a
/// value, and no LF that does not follow a CR); the byte after each CR is then checked to be LF, once
/// per line, so that every line starts two bytes after the CR of the line before;</item>
/// <item>each line starts with a name of letters, digits and '-': adding the line-start bits to the
/// name-byte mask carries each start through its run of name bytes, so the sum's bits outside the name
/// bytes are the first byte after each name, which must not be the line start itself (an empty name, or
/// a leading SP or HTAB: obs-fold, §5.2) nor the line's CR; it is then checked to be the colon, once per line.</item>
/// </list>
/// The first line that starts with CR is the empty line that ends the section. Each line's colon and CR
/// are then found again from the kept marks by one bit search each. Anything unusual (a tchar other than
/// letters, digits and '-' in a name, an incomplete section, more than <see cref="MaxBlocks"/> blocks, a
/// buffer shorter than 64 bytes) makes it answer no, and the careful per-line parser decides instead,
/// errors and all.
/// </summary>
internal static class WellFormedHead
{
    /// <summary>Blocks of 64 bytes this path takes: 2 KiB of field lines, the size of nearly every request's.</summary>
    public const int MaxBlocks = 32;

    /// <summary>True where the vector hardware the masks need is there (callers keep the per-line path).</summary>
    public static bool IsSupported => Vector128.IsHardwareAccelerated;

    /// <summary>
    /// The width in bits of the <see cref="Classify(ref byte, out ulong, out ulong, out ulong)"/> version this
    /// process runs: 512, 256 or 128, or 0 when the section is parsed line by line (no vector hardware).
    /// Tests use it to check that each width was run.
    /// </summary>
    internal static int ActiveVectorWidth =>
        !IsSupported ? 0
        : Vector512.IsHardwareAccelerated && Avx512Vbmi.IsSupported ? 512
        : Vector256.IsHardwareAccelerated ? 256
        : 128;

    /// <summary>
    /// Checks the field section that starts at <paramref name="fieldsStart"/> of <paramref name="buffer"/>
    /// (at least 64 bytes; the byte before is the LF that ended the start line) and, when it is complete
    /// and well formed, marks each line's colon and CR in <paramref name="marks"/> (bit i of block k
    /// stands for byte <c>fieldsStart + 64 k + i</c>), so that walking the marks gives colon, CR, colon,
    /// CR ... and the empty line's CR last. Returns the number of field lines (0 or more) and the index
    /// just past the empty line, or -1 when the careful path must decide.
    /// </summary>
    public static int Scan(ReadOnlySpan<byte> buffer, int fieldsStart, ref LineMarks marks, out int sectionEnd)
    {
        sectionEnd = 0;
        ref byte start = ref MemoryMarshal.GetReference(buffer);
        int length = buffer.Length;
        int limit = Math.Min(length, fieldsStart + 64 * MaxBlocks);
        ref ulong mark = ref marks[0];
        // What the previous block hands on: the line starts two bytes after its last two bytes' CRs, the
        // byte after a CR in its last byte, and the carry of the name-run addition. Bit 0 of the first
        // block starts a line.
        ulong startCarry = 1, crCarry = 0, addCarry = 0;
        ulong cr, name, control, lineStarts, emptyLine;
        int at = fieldsStart;
        while (true)
        {
            if (at >= limit) return -1;
            Classify(ref start, length, at, out cr, out name, out control);
            lineStarts = cr << 2 | startCarry;
            emptyLine = lineStarts & cr;
            if (emptyLine != 0) break;
            // A block inside the section: every rule on all 64 bits. A carry in means the previous block
            // ended inside a name, so bit 0 starts no line: the two never meet, and one addition takes both.
            ulong nameEnds = name + (lineStarts | addCarry);
            addCarry = nameEnds < name ? 1UL : 0UL;
            nameEnds &= ~name;
            // RFC 9112 §2.2: no bare CR or LF; RFC 9110 §5.5: no CTL but HTAB in a value; RFC 9112 §5.1: a
            // non-empty name before the line's end (§5.2: no obs-fold, whose leading SP or HTAB ends the name at once).
            if ((control ^ (cr | cr << 1 | crCarry) | nameEnds & (lineStarts | cr)) != 0) return -1;
            mark = nameEnds | cr;
            mark = ref Unsafe.Add(ref mark, 1);
            startCarry = cr >> 62;
            crCarry = cr >> 63;
            at += 64;
        }

        // The block where the empty line starts: the rules on its bits up to the empty line's CRLF only.
        int emptyAt = BitOperations.TrailingZeroCount(emptyLine);
        ulong inLines = (1UL << emptyAt) - 1;
        // At bit 63 the empty line's LF is the next block's first byte.
        ulong inSection = emptyAt >= 62 ? ulong.MaxValue : (1UL << (emptyAt + 2)) - 1;
        int emptyLf = at + emptyAt + 1;
        if (emptyLf >= length || Unsafe.Add(ref start, (nuint)(uint)emptyLf) != (byte)'\n') return -1;
        ulong lastEnds = (name + (lineStarts | addCarry)) & ~name & inLines;
        if (((control ^ (cr | cr << 1 | crCarry)) & inSection | lastEnds & (lineStarts | cr)) != 0) return -1;
        mark = lastEnds | cr & inSection;
        sectionEnd = emptyLf + 1;

        // A colon and a CR for each field line, and the empty line's CR.
        int marked = 0;
        int blocks = (at - fieldsStart) / 64;
        for (int block = 0; block <= blocks; block++) marked += BitOperations.PopCount(marks[block]);
        return marked >> 1;
    }

    /// <summary>
    /// Walks the marks of a section <see cref="Scan"/> accepted, adding its <paramref name="lines"/> field
    /// lines to <paramref name="fields"/> (each value without the OWS around it, RFC 9112 §5.1). False,
    /// with the table as it was, when a name does not end at a colon or a CR is not followed by LF.
    /// </summary>
    public static bool AddFieldLines(ReadOnlySpan<byte> buffer, int fieldsStart, int lines, ref LineMarks marks, FieldTable fields)
    {
        // Scan proved every mark lies inside the buffer and every line holds a colon before its CR, so the
        // bytes are read without bounds checks.
        ref byte start = ref MemoryMarshal.GetReference(buffer);
        var walk = new MarkWalk(ref marks, fieldsStart);
        int lineStart = fieldsStart;
        int first = fields.Count;
        ref FieldTable.Entry entry = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(fields.Reserve(lines)), first);
        ref int firstIndexes = ref fields.FirstKnownIndexes;
        // The table's masks are written only once every line passed, so a false leaves it as it was.
        uint seen = fields.KnownFieldsSeen, repeated = fields.KnownFieldsRepeated;
        for (int line = first; line < first + lines; line++)
        {
            int colon = walk.Next();
            int lineEnd = walk.Next();
            // RFC 9112 §5.1: the name ends at the colon; §2.2: the line at CRLF.
            if (Unsafe.Add(ref start, colon) != (byte)':' || Unsafe.Add(ref start, lineEnd + 1) != (byte)'\n') return false;

            int valueStart = colon + 1, valueEnd = lineEnd;
            while (valueStart < valueEnd && HttpSyntax.IsOws(Unsafe.Add(ref start, valueStart))) valueStart++;
            while (valueEnd > valueStart && HttpSyntax.IsOws(Unsafe.Add(ref start, valueEnd - 1))) valueEnd--;
            int nameLength = colon - lineStart;
            KnownField known = KnownFields.Identify(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref start, lineStart), nameLength));
            entry.NameStart = lineStart;
            entry.NameLength = nameLength;
            entry.ValueStart = valueStart;
            entry.ValueLength = valueEnd - valueStart;
            entry.Known = known;
            entry = ref Unsafe.Add(ref entry, 1);
            if (known != KnownField.Other) FieldTable.NoteKnown(known, line, ref seen, ref repeated, ref firstIndexes);
            lineStart = lineEnd + 2;
        }
        fields.Commit(lines, seen, repeated);
        return true;
    }

    /// <summary>
    /// <see cref="Classify(ref byte, out ulong, out ulong, out ulong)"/> for the 64 bytes at
    /// <paramref name="at"/>, or those of them the buffer holds: then the buffer's last 64 bytes, shifted
    /// so that bit 0 stands for byte <paramref name="at"/> and the positions past the end are 0 in every
    /// mask, which no rule of <see cref="Scan"/> accepts as the end of a section.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify(ref byte start, int length, int at, out ulong cr, out ulong name, out ulong control)
    {
        if (at <= length - 64)
        {
            Classify(ref Unsafe.Add(ref start, (nuint)(uint)at), out cr, out name, out control);
            return;
        }
        int shift = at - (length - 64);
        Classify(ref Unsafe.Add(ref start, (nuint)(uint)(length - 64)), out cr, out name, out control);
        cr >>= shift;
        name >>= shift;
        control >>= shift;
    }

    /// <summary>
    /// Masks of one 64-byte block: CR, name bytes (letters, digits, '-': RFC 9110 §5.6.2 tchar as nearly
    /// every field name has them) and controls (RFC 9110 §5.5: CTL but HTAB, and DEL; CR and LF among them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify(ref byte at, out ulong cr, out ulong name, out ulong control)
    {
        if (Vector512.IsHardwareAccelerated && Avx512Vbmi.IsSupported) Classify512(ref at, out cr, out name, out control);
        else if (Vector256.IsHardwareAccelerated) Classify256(ref at, out cr, out name, out control);
        else Classify128(ref at, out cr, out name, out control);
    }

    /// <summary>
    /// The AVX-512 version of <see cref="Classify(ref byte, out ulong, out ulong, out ulong)"/>; only where
    /// <see cref="Avx512Vbmi.IsSupported"/>. Each width is internal so that tests run every version the
    /// machine has, not only the one it picks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify512(ref byte at, out ulong cr, out ulong name, out ulong control)
    {
        // One 128-entry table lookup gives each byte its classes: bit 7 control, bit 6 name byte. The
        // lookup reads the low 7 bits of a byte, so bytes 0x80-0xFF (obs-text, RFC 9110 §5.5: allowed
        // in values, never a name byte nor a control) have both bits cleared by their own top bit.
        Vector512<byte> v = Vector512.LoadUnsafe(ref at);
        Vector512<byte> classes = Avx512Vbmi.PermuteVar64x8x2(ClassesLow, v, ClassesHigh);
        cr = Vector512.Equals(v, Vector512.Create((byte)'\r')).ExtractMostSignificantBits();
        name = Vector512.AndNot(classes + classes, v).ExtractMostSignificantBits();
        control = Vector512.AndNot(classes, v).ExtractMostSignificantBits();
    }

    /// <summary>The version of <see cref="Classify(ref byte, out ulong, out ulong, out ulong)"/> in two 256-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify256(ref byte at, out ulong cr, out ulong name, out ulong control)
    {
        Classify256(Vector256.LoadUnsafe(ref at), out uint cr0, out uint name0, out uint control0);
        Classify256(Vector256.LoadUnsafe(ref at, 32), out uint cr1, out uint name1, out uint control1);
        cr = cr0 | (ulong)cr1 << 32;
        name = name0 | (ulong)name1 << 32;
        control = control0 | (ulong)control1 << 32;
    }

    /// <summary>The version of <see cref="Classify(ref byte, out ulong, out ulong, out ulong)"/> in four 128-bit quarters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify128(ref byte at, out ulong cr, out ulong name, out ulong control)
    {
        cr = name = control = 0;
        for (int i = 0; i < 4; i++)
        {
            Vector128<byte> v = Vector128.LoadUnsafe(ref at, (nuint)(16 * i));
            int shift = 16 * i;
            cr |= (ulong)Vector128.Equals(v, Vector128.Create((byte)'\r')).ExtractMostSignificantBits() << shift;
            name |= (ulong)(Vector128.LessThan((v | Vector128.Create((byte)0x20)) - Vector128.Create((byte)'a'), Vector128.Create((byte)26))
                | Vector128.LessThan(v - Vector128.Create((byte)'0'), Vector128.Create((byte)10))
                | Vector128.Equals(v, Vector128.Create((byte)'-'))).ExtractMostSignificantBits() << shift;
            control |= (ulong)((Vector128.LessThan(v, Vector128.Create((byte)0x20)) & ~Vector128.Equals(v, Vector128.Create((byte)'\t')))
                | Vector128.Equals(v, Vector128.Create((byte)0x7F))).ExtractMostSignificantBits() << shift;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify256(Vector256<byte> v, out uint cr, out uint name, out uint control)
    {
        cr = Vector256.Equals(v, Vector256.Create((byte)'\r')).ExtractMostSignificantBits();
        name = (Vector256.LessThan((v | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)26))
            | Vector256.LessThan(v - Vector256.Create((byte)'0'), Vector256.Create((byte)10))
            | Vector256.Equals(v, Vector256.Create((byte)'-'))).ExtractMostSignificantBits();
        control = ((Vector256.LessThan(v, Vector256.Create((byte)0x20)) & ~Vector256.Equals(v, Vector256.Create((byte)'\t')))
            | Vector256.Equals(v, Vector256.Create((byte)0x7F))).ExtractMostSignificantBits();
    }

    // The class of each byte 0x00-0x7F for the table lookup of Classify, in two halves of 64: bit 7 for
    // the controls (CTL but HTAB, and DEL), bit 6 for the name bytes (letters, digits and '-').
    private static readonly Vector512<byte> ClassesLow = ClassTable(0), ClassesHigh = ClassTable(64);

    private static Vector512<byte> ClassTable(int first)
    {
        Span<byte> table = stackalloc byte[64];
        for (int i = 0; i < 64; i++)
        {
            int b = first + i;
            bool control = HttpSyntax.InvalidFieldValueBytes.Contains((byte)b);
            bool name = char.IsAsciiLetterOrDigit((char)b) || b == '-';
            table[i] = (byte)((control ? 0x80 : 0) | (name ? 0x40 : 0));
        }
        return Vector512.Create<byte>(table);
    }
}

/// <summary>
/// Walks the set bits of <see cref="LineMarks"/> in order, as byte indexes: block k's bit i is byte
/// <c>start + 64 k + i</c>. The caller asks for no more bits than are set.
/// </summary>
internal ref struct MarkWalk
{
    private ref ulong _block;
    private ulong _bits;
    private int _blockBase;

    public MarkWalk(ref LineMarks marks, int start)
    {
        _block = ref marks[0];
        _bits = _block;
        _blockBase = start;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next()
    {
        while (_bits == 0)
        {
            _block = ref Unsafe.Add(ref _block, 1);
            _bits = _block;
            _blockBase += 64;
        }
        int at = _blockBase + BitOperations.TrailingZeroCount(_bits);
        _bits &= _bits - 1;
        return at;
    }
}

/// <summary>One 64-bit mask per block of <see cref="WellFormedHead.Scan"/>: a struct, so a parse keeps it on its stack.</summary>
[InlineArray(WellFormedHead.MaxBlocks)]
internal struct LineMarks
{
    private ulong _block;
}

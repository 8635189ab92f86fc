using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Parley.Http1;

/// <summary>
/// Parses field lines (RFC 9112 §5) into a <see cref="FieldTable"/>. Shared by request heads, response
/// heads and chunked trailers, so every role enforces the same rules.
/// </summary>
internal static class FieldLineParser
{

    /// <summary>
    /// Parses one complete field line (without its CRLF) found at <paramref name="lineStart"/> of
    /// <paramref name="source"/> and appends it to <paramref name="fields"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, int lineStart, int lineLength, FieldTable fields, out HttpError error)
    {
        error = default;
        ReadOnlySpan<byte> line = source.Slice(lineStart, lineLength);
        if (HttpSyntax.IsOws(line[0]))
        {
            // RFC 9112 §5.2: obs-fold is deprecated; a server MUST reject it (or unfold it). We reject.
            error = HttpError.BadRequest("obsolete line folding (obs-fold) in a field");
            return false;
        }
        int colon = line.IndexOfAnyExcept(HttpSyntax.TokenBytes);
        if (colon < 0)
        {
            error = HttpError.BadRequest("field line without a colon");
            return false;
        }
        if (line[colon] != (byte)':')
        {
            // RFC 9112 §5.1: no whitespace is allowed between the field name and colon; a server MUST
            // reject such a message with 400. Any other non-token byte makes the name invalid.
            error = HttpError.BadRequest(HttpSyntax.IsOws(line[colon])
                ? "whitespace between field name and colon"
                : "invalid character in field name");
            return false;
        }
        if (colon == 0)
        {
            error = HttpError.BadRequest("empty field name");
            return false;
        }
        ReadOnlySpan<byte> rawValue = line[(colon + 1)..];
        if (rawValue.ContainsAny(HttpSyntax.InvalidFieldValueBytes))
        {
            // RFC 9110 §5.5: field values never contain CTLs or NUL; RFC 9112 §2.2: nor a bare CR.
            error = HttpError.BadRequest("control character in field value");
            return false;
        }
        int valueStart = colon + 1;
        int valueEnd = line.Length;
        while (valueStart < valueEnd && HttpSyntax.IsOws(line[valueStart])) valueStart++;
        while (valueEnd > valueStart && HttpSyntax.IsOws(line[valueEnd - 1])) valueEnd--;
        fields.Add(lineStart, colon, lineStart + valueStart, valueEnd - valueStart, KnownFields.Identify(line[..colon]));
        return true;
    }

    /// <summary>
    /// The common case in one pass: a complete, well-formed field line within the limits. Each byte is
    /// looked at once: the name is checked while looking for the colon, and the value while looking for
    /// its first control byte, which must be the CR of the CRLF (32 bytes at a time where there are 32
    /// left, else by a loop with the tchar table). Returns the bytes consumed (line and CRLF)
    /// after adding the field, 0 for the empty line that ends the section, or -1 when anything is unusual
    /// (incomplete, malformed, over a limit): then the careful path below decides, line end first, so
    /// errors and their precedence are those of the careful path alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TryParseWellFormedLine(ReadOnlySpan<byte> source, int offset, FieldTable fields,
        int maxSectionEnd, int maxFieldCount)
    {
        ReadOnlySpan<byte> rest = source.Slice(offset);
        if (rest.Length < 2) return -1;
        if (rest[0] == (byte)'\r')
        {
            return rest[1] == (byte)'\n' && offset + 2 <= maxSectionEnd ? 0 : -1;
        }
        int colon, lineLength;
        if (Vector256.IsHardwareAccelerated && rest.Length >= Vector256<byte>.Count)
        {
            // The first 32 bytes hold the colon, and often the line end, of most field lines: one load
            // answers where the name ends, whether it is made of common token bytes, and where the first
            // control byte after the colon is.
            Vector256<byte> v = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(rest));
            uint colons = Vector256.Equals(v, Vector256.Create((byte)':')).ExtractMostSignificantBits();
            if (colons == 0) return -1;
            colon = BitOperations.TrailingZeroCount(colons);
            // Letters, digits and '-': the tchar of nearly every name; names with other tchar take the careful path.
            Vector256<byte> common = Vector256.LessThan((v | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)26))
                | Vector256.LessThan(v - Vector256.Create((byte)'0'), Vector256.Create((byte)10))
                | Vector256.Equals(v, Vector256.Create((byte)'-'));
            uint nameMask = (1u << colon) - 1;
            if (colon == 0 || (common.ExtractMostSignificantBits() & nameMask) != nameMask) return -1;
            Vector256<byte> control = (Vector256.LessThan(v, Vector256.Create((byte)0x20)) & ~Vector256.Equals(v, Vector256.Create((byte)'\t')))
                | Vector256.Equals(v, Vector256.Create((byte)0x7F));
            uint controls = control.ExtractMostSignificantBits() & ~(nameMask | (1u << colon));
            if (controls != 0)
            {
                lineLength = BitOperations.TrailingZeroCount(controls);
            }
            else
            {
                lineLength = IndexOfControlAfterFirstVector(rest);
                if (lineLength < 0) return -1;
            }
        }
        else
        {
            // A leading SP or HTAB (obs-fold) is not a token byte, so it leaves the name empty here.
            colon = ByteClasses.Run(rest, ByteClasses.Token);
            if (colon == 0 || (uint)colon >= (uint)rest.Length || rest[colon] != (byte)':') return -1;
            // Fewer than 32 bytes are left (or no vectors): a plain loop beats a search's setup.
            lineLength = colon + 1;
            while (true)
            {
                if ((uint)lineLength >= (uint)rest.Length) return -1;
                byte b = rest[lineLength];
                if ((b < 0x20 && b != (byte)'\t') || b == 0x7F) break;
                lineLength++;
            }
        }
        int valueStart = colon + 1;
        if ((uint)(lineLength + 1) >= (uint)rest.Length || rest[lineLength] != (byte)'\r' || rest[lineLength + 1] != (byte)'\n'
            || lineLength + 2 > maxSectionEnd - offset || fields.Count >= maxFieldCount)
        {
            return -1;
        }
        int valueEnd = lineLength;
        while (valueStart < valueEnd && HttpSyntax.IsOws(rest[valueStart])) valueStart++;
        while (valueEnd > valueStart && HttpSyntax.IsOws(rest[valueEnd - 1])) valueEnd--;
        fields.Add(offset, colon, offset + valueStart, valueEnd - valueStart, KnownFields.Identify(rest.Slice(0, colon)));
        return lineLength + 2;
    }

    // The index of the first byte of HttpSyntax.InvalidFieldValueBytes (a CTL but HTAB, or DEL) in
    // span[32..], or -1; the first 32 bytes are known to hold none after the colon.
    private static int IndexOfControlAfterFirstVector(ReadOnlySpan<byte> span)
    {
        ref byte start = ref MemoryMarshal.GetReference(span);
        int length = span.Length;
        int i = Vector256<byte>.Count;
        while (i < length)
        {
            // Every load stays inside the span; the last may overlap bytes already found clean.
            int at = Math.Min(i, length - Vector256<byte>.Count);
            Vector256<byte> v = Vector256.LoadUnsafe(ref start, (nuint)at);
            Vector256<byte> control = (Vector256.LessThan(v, Vector256.Create((byte)0x20)) & ~Vector256.Equals(v, Vector256.Create((byte)'\t')))
                | Vector256.Equals(v, Vector256.Create((byte)0x7F));
            uint controls = control.ExtractMostSignificantBits();
            if (controls != 0) return at + BitOperations.TrailingZeroCount(controls);
            i = at + Vector256<byte>.Count;
        }
        return -1;
    }

    /// <summary>
    /// Parses field lines from <paramref name="offset"/> until the empty line that ends the section.
    /// Resumable: on NeedMoreData, <paramref name="offset"/> points at the first unparsed line.
    /// Complete leaves <paramref name="offset"/> just past the empty line.
    /// </summary>
    // The whole-section path keeps 256 bytes of line marks on the stack, which need no zeroing; a caller
    // that inlines this method carries the same attribute (the method compiled decides).
    [SkipLocalsInit]
    public static ParseStatus ParseSection(ReadOnlySpan<byte> source, ref int offset, FieldTable fields,
        int maxSectionEnd, int maxFieldCount, out HttpError error)
    {
        if (TryParseWellFormedSection(source, ref offset, fields, maxSectionEnd, maxFieldCount))
        {
            error = default;
            return ParseStatus.Complete;
        }
        return ParseLineByLine(source, ref offset, fields, maxSectionEnd, maxFieldCount, out error);
    }

    // The common case: the whole section is here and well formed, which WellFormedHead checks 64 bytes
    // at a time. Anything else, an error included, is decided line by line.
    [SkipLocalsInit]
    private static bool TryParseWellFormedSection(ReadOnlySpan<byte> source, ref int offset, FieldTable fields,
        int maxSectionEnd, int maxFieldCount)
    {
        if (!WellFormedHead.IsSupported || source.Length < 64) return false;
        Unsafe.SkipInit(out LineMarks marks);
        int lines = WellFormedHead.Scan(source, offset, ref marks, out int sectionEnd);
        if (lines < 0 || sectionEnd > maxSectionEnd || fields.Count + lines > maxFieldCount) return false;
        if (!WellFormedHead.AddFieldLines(source, offset, lines, ref marks, fields)) return false;
        offset = sectionEnd;
        return true;
    }

    /// <summary>
    /// <see cref="ParseSection"/> without the whole-section path: each line on its own (internal so that
    /// tests can hold the two paths against each other).
    /// </summary>
    internal static ParseStatus ParseLineByLine(ReadOnlySpan<byte> source, ref int offset, FieldTable fields,
        int maxSectionEnd, int maxFieldCount, out HttpError error)
    {
        while (true)
        {
            int parsed = TryParseWellFormedLine(source, offset, fields, maxSectionEnd, maxFieldCount);
            if (parsed > 0)
            {
                offset += parsed;
                continue;
            }
            if (parsed == 0)
            {
                offset += 2;
                error = default;
                return ParseStatus.Complete;
            }

            ParseStatus line = LineReader.TryReadLine(source, offset, out int lineLength, out error);
            if (line != ParseStatus.Complete)
            {
                // Past the limit, the size is the error even when a bare CR or LF follows: a sender trickling
                // the same bytes would have been stopped there, and the outcome must not depend on arrival.
                if (offset + lineLength > maxSectionEnd)
                {
                    error = new HttpError(431, "header section too large");
                    return ParseStatus.Invalid;
                }
                return line;
            }
            if (offset + lineLength + 2 > maxSectionEnd)
            {
                error = new HttpError(431, "header section too large");
                return ParseStatus.Invalid;
            }
            if (lineLength == 0)
            {
                offset += 2;
                return ParseStatus.Complete;
            }
            if (fields.Count >= maxFieldCount)
            {
                error = new HttpError(431, "too many header fields");
                return ParseStatus.Invalid;
            }
            if (!TryParse(source, offset, lineLength, fields, out error)) return ParseStatus.Invalid;
            offset += lineLength + 2;
        }
    }
}

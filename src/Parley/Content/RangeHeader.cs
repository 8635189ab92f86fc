using Parley.Http1;

namespace Parley.Content;

/// <summary>One satisfiable byte range of a representation: <see cref="Length"/> bytes from <see cref="Start"/>.</summary>
/// <param name="Start">Offset of the first byte, zero-based.</param>
/// <param name="Length">Number of bytes, at least one.</param>
internal readonly record struct ByteRange(long Start, long Length)
{
    /// <summary>Offset of the last byte (the <c>last-pos</c> of RFC 9110 §14.1.2).</summary>
    public long End => Start + Length - 1;
}

/// <summary>What to do with a <c>Range</c> request header field.</summary>
internal enum RangeResultKind
{
    /// <summary>No usable <c>Range</c> field: ignore it and send the whole representation (200).</summary>
    None,

    /// <summary>Send the ranges in <see cref="RangeResult.Ranges"/> (206).</summary>
    Satisfiable,

    /// <summary>No range overlaps the representation: answer 416 with <c>Content-Range: bytes */length</c>.</summary>
    Unsatisfiable,
}

/// <summary>The result of <see cref="RangeHeader.Parse"/>.</summary>
internal sealed class RangeResult
{
    internal static readonly RangeResult NoRange = new(RangeResultKind.None, []);
    internal static readonly RangeResult NotSatisfiable = new(RangeResultKind.Unsatisfiable, []);

    internal RangeResult(RangeResultKind kind, IReadOnlyList<ByteRange> ranges)
    {
        Kind = kind;
        Ranges = ranges;
    }

    /// <summary>How to answer.</summary>
    public RangeResultKind Kind { get; }

    /// <summary>
    /// For <see cref="RangeResultKind.Satisfiable"/>: the ranges to send, clamped to the representation,
    /// with overlapping and adjacent ranges coalesced, in the order they were requested. Empty otherwise.
    /// </summary>
    public IReadOnlyList<ByteRange> Ranges { get; }
}

/// <summary>Parses the <c>Range</c> request header field for the <c>bytes</c> unit (RFC 9110 §14.1-14.2).</summary>
internal static class RangeHeader
{
    /// <summary>
    /// Interprets <paramref name="range"/> against a representation of <paramref name="length"/> bytes.
    /// A missing field, an unknown unit, invalid syntax, an empty representation or a header beyond
    /// <paramref name="limits"/> yields <see cref="RangeResultKind.None"/>. Never throws except for
    /// a negative <paramref name="length"/>.
    /// </summary>
    public static RangeResult Parse(string? range, long length, RangeLimits? limits = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        limits ??= RangeLimits.Default;
        ReadOnlySpan<char> text = HttpSyntax.TrimOws(range);
        int eq = text.IndexOf('=');
        if (eq < 0)
        {
            return RangeResult.NoRange;
        }

        // RFC 9110 §14.1: ranges-specifier = range-unit "=" range-set; range units are case-insensitive.
        // §14.2: "An origin server MUST ignore a Range header field that contains a range unit it does not understand."
        if (!text[..eq].Equals("bytes", StringComparison.OrdinalIgnoreCase))
        {
            return RangeResult.NoRange;
        }

        // §14.2: "A server MAY ignore the Range header field" — we do for an empty representation,
        // which has no range to send; a 200 with no content serves the client better than a 416.
        if (length == 0)
        {
            return RangeResult.NoRange;
        }

        var satisfiable = new List<ByteRange>(Math.Clamp(limits.MaxRanges, 1, 16));
        int specs = 0;
        ReadOnlySpan<char> rest = text[(eq + 1)..];
        while (!rest.IsEmpty)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> spec = HttpSyntax.TrimOws(comma < 0 ? rest : rest[..comma]);
            rest = comma < 0 ? default : rest[(comma + 1)..];
            if (spec.IsEmpty)
            {
                continue; // RFC 9110 §5.6.1: recipients accept empty list elements.
            }

            // §14.2: a server MAY ignore a Range with many ranges, a sign of a broken client or an attack.
            if (++specs > limits.MaxRanges)
            {
                return RangeResult.NoRange;
            }

            if (!TryParseSpec(spec, length, out ByteRange byteRange, out bool isSatisfiable))
            {
                return RangeResult.NoRange; // §14.2: MAY ignore an invalid ranges-specifier.
            }

            if (isSatisfiable)
            {
                satisfiable.Add(byteRange);
            }
        }

        if (specs == 0)
        {
            return RangeResult.NoRange; // range-set = 1#range-spec
        }

        if (satisfiable.Count == 0)
        {
            return RangeResult.NotSatisfiable; // §14.1.1 / §15.5.17: 416
        }

        ByteRange[] ranges = satisfiable.ToArray();

        // §14.2: a server MAY ignore a Range with "more than two overlapping ranges".
        if (CountOverlapping(ranges) > limits.MaxOverlappingRanges)
        {
            return RangeResult.NoRange;
        }

        return new RangeResult(RangeResultKind.Satisfiable, Coalesce(ranges));
    }

    // int-range = first-pos "-" [ last-pos ] ; suffix-range = "-" suffix-length (RFC 9110 §14.1.2)
    private static bool TryParseSpec(ReadOnlySpan<char> spec, long length, out ByteRange range, out bool satisfiable)
    {
        range = default;
        satisfiable = false;
        int dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        if (dash == 0)
        {
            if (!TryParseDigits(spec[1..], out long suffix))
            {
                return false;
            }

            // §14.1.2: a suffix-range is satisfiable if its suffix-length is non-zero; a suffix longer
            // than the representation selects all of it.
            satisfiable = suffix > 0;
            long start = suffix >= length ? 0 : length - suffix;
            range = new ByteRange(start, length - start);
            return true;
        }

        if (!TryParseDigits(spec[..dash], out long first))
        {
            return false;
        }

        long last = long.MaxValue;
        ReadOnlySpan<char> lastText = spec[(dash + 1)..];
        if (!lastText.IsEmpty && !TryParseDigits(lastText, out last))
        {
            return false;
        }

        // §14.1.1: "A range-spec is invalid if ... last-pos value is less than the first-pos value."
        if (last < first)
        {
            return false;
        }

        // §14.1.1: an int-range is satisfiable if first-pos is less than the length; a last-pos at or
        // beyond the end is replaced by length - 1.
        satisfiable = first < length;
        long end = Math.Min(last, length - 1);
        range = new ByteRange(first, end - first + 1);
        return true;
    }

    // 1*DIGIT, saturating at long.MaxValue: a huge position is simply beyond any representation.
    private static bool TryParseDigits(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            int digit = c - '0';
            value = value > (long.MaxValue - digit) / 10 ? long.MaxValue : (value * 10) + digit;
        }

        return true;
    }

    private static int CountOverlapping(ByteRange[] ranges)
    {
        int overlapping = 0;
        for (int i = 0; i < ranges.Length; i++)
        {
            for (int j = 0; j < ranges.Length; j++)
            {
                if (i != j && ranges[i].Start <= ranges[j].End && ranges[j].Start <= ranges[i].End)
                {
                    overlapping++;
                    break;
                }
            }
        }

        return overlapping;
    }

    // §14.2: "a server MAY coalesce any of the ranges that overlap, or that are separated by a gap that
    // is smaller than the overhead of sending multiple parts". We merge overlapping and adjacent ranges
    // and keep the order of first request, as §15.3.7.2 asks parts to follow the requested order.
    private static ByteRange[] Coalesce(ByteRange[] ranges)
    {
        if (ranges.Length == 1)
        {
            return ranges;
        }

        int[] order = new int[ranges.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => ranges[a].Start != ranges[b].Start ? ranges[a].Start.CompareTo(ranges[b].Start) : a.CompareTo(b));
        var merged = new List<(ByteRange Range, int FirstIndex)>(ranges.Length);
        foreach (int index in order)
        {
            ByteRange r = ranges[index];
            if (merged.Count > 0 && r.Start <= merged[^1].Range.End + 1)
            {
                (ByteRange last, int firstIndex) = merged[^1];
                long end = Math.Max(last.End, r.End);
                merged[^1] = (new ByteRange(last.Start, end - last.Start + 1), Math.Min(firstIndex, index));
            }
            else
            {
                merged.Add((r, index));
            }
        }

        merged.Sort((a, b) => a.FirstIndex.CompareTo(b.FirstIndex));
        var result = new ByteRange[merged.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = merged[i].Range;
        }

        return result;
    }
}

using System.Globalization;

namespace Parley.Content;

/// <summary>Formats the <c>Content-Range</c> response field for the <c>bytes</c> unit (RFC 9110 §14.4).</summary>
internal static class ContentRange
{
    /// <summary>
    /// <c>bytes first-last/complete</c>, e.g. <c>bytes 0-99/1000</c> for a 206 response or part.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or does not lie within <paramref name="total"/>.</exception>
    public static string Format(long start, long length, long total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, total - start, nameof(length));

        // RFC 9110 §14.4: range-resp = incl-range "/" ( complete-length / "*" )
        return string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{start + length - 1}/{total}");
    }

    /// <summary>As <see cref="Format(long, long, long)"/> for a <see cref="ByteRange"/>.</summary>
    public static string Format(ByteRange range, long total) => Format(range.Start, range.Length, total);

    /// <summary><c>bytes */complete</c>, sent with 416 (Range Not Satisfiable), e.g. <c>bytes */1000</c>.</summary>
    public static string FormatUnsatisfied(long total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);

        // RFC 9110 §14.4: unsatisfied-range = "*/" complete-length
        return string.Create(CultureInfo.InvariantCulture, $"bytes */{total}");
    }
}

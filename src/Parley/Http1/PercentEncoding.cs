using System.Buffers;
using System.Text;

namespace Parley.Http1;

/// <summary>
/// Percent-decoding (RFC 3986 §2.1), the one decoder of paths, route values, query strings and form bodies.
/// A '%' not followed by two hex digits is kept as it is (WHATWG URL §1.3 percent-decode); callers that
/// must refuse it ask <see cref="IndexOfMalformedEscape"/>.
/// </summary>
internal static class PercentEncoding
{
    private const int StackLimit = 256;

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/> (at least as long as the source)
    /// and returns the decoded length. <paramref name="plusAsSpace"/>: '+' decodes to a space, as in
    /// <c>application/x-www-form-urlencoded</c> (WHATWG URL §5.1 step 3.4).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination, bool plusAsSpace)
    {
        int length = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            if (b == (byte)'%' && i + 2 < source.Length)
            {
                int high = HttpSyntax.HexValue(source[i + 1]), low = HttpSyntax.HexValue(source[i + 2]);
                if (high >= 0 && low >= 0)
                {
                    b = (byte)(high << 4 | low);
                    i += 2;
                }
            }
            else if (b == (byte)'+' && plusAsSpace)
            {
                b = (byte)' ';
            }
            destination[length++] = b;
        }
        return length;
    }

    /// <summary>The index of the first '%' not followed by two hex digits, or -1.</summary>
    public static int IndexOfMalformedEscape(ReadOnlySpan<byte> source)
    {
        for (int i = source.IndexOf((byte)'%'); i >= 0 && i < source.Length; i++)
        {
            if (source[i] != (byte)'%') continue;
            if (i + 2 >= source.Length || HttpSyntax.HexValue(source[i + 1]) < 0 || HttpSyntax.HexValue(source[i + 2]) < 0) return i;
            i += 2;
        }
        return -1;
    }

    /// <summary>Decodes to a string of UTF-8; invalid UTF-8 becomes U+FFFD. Input without '%' (or '+') is read as it is.</summary>
    public static string DecodeToString(ReadOnlySpan<byte> source, bool plusAsSpace)
    {
        if (source.IsEmpty) return string.Empty;
        bool escaped = plusAsSpace ? source.IndexOfAny((byte)'%', (byte)'+') >= 0 : source.IndexOf((byte)'%') >= 0;
        if (!escaped) return Encoding.UTF8.GetString(source);
        byte[]? rented = null;
        Span<byte> scratch = source.Length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(source.Length));
        try
        {
            int length = Decode(source, scratch, plusAsSpace);
            return Encoding.UTF8.GetString(scratch[..length]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Whether <paramref name="encoded"/> decodes (without '+' as space) to exactly <paramref name="decoded"/>, without allocating.</summary>
    public static bool DecodesTo(ReadOnlySpan<byte> encoded, ReadOnlySpan<byte> decoded)
    {
        if (encoded.IndexOf((byte)'%') < 0) return encoded.SequenceEqual(decoded);
        // Each escape shrinks three bytes to one, so a decoded length is between a third of the encoded one and all of it.
        if (decoded.Length > encoded.Length || decoded.Length * 3 < encoded.Length) return false;
        byte[]? rented = null;
        Span<byte> scratch = encoded.Length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(encoded.Length));
        try
        {
            return scratch[..Decode(encoded, scratch, plusAsSpace: false)].SequenceEqual(decoded);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

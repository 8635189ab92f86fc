using System.Buffers;
using System.Text;

namespace Parley.AspNetCore;

/// <summary>
/// Turns the request's raw path into ASP.NET Core's <c>Request.Path</c> as Kestrel does: percent-decoded
/// as UTF-8 except <c>%2F</c>, which stays encoded so that an encoded slash cannot become a path
/// separator, and with <c>.</c> and <c>..</c> segments removed (RFC 3986 §5.2.4).
/// </summary>
internal static class RequestPath
{
    public static string Decode(ReadOnlySpan<byte> rawPath)
    {
        if (rawPath.IsEmpty) return "";
        if (rawPath.IndexOf((byte)'%') < 0 && rawPath.IndexOf("/."u8) < 0) return Encoding.UTF8.GetString(rawPath);
        byte[]? rented = null;
        Span<byte> work = rawPath.Length <= 512 ? stackalloc byte[rawPath.Length] : (rented = ArrayPool<byte>.Shared.Rent(rawPath.Length));
        try
        {
            int length = PercentDecode(rawPath, work);
            length = RemoveDotSegments(work[..length]);
            return Encoding.UTF8.GetString(work[..length]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int PercentDecode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int written = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            if (b == (byte)'%' && i + 2 < source.Length && HexValue(source[i + 1]) >= 0 && HexValue(source[i + 2]) >= 0)
            {
                int value = HexValue(source[i + 1]) * 16 + HexValue(source[i + 2]);
                if (value != '/')
                {
                    destination[written++] = (byte)value;
                    i += 2;
                    continue;
                }
            }
            destination[written++] = b;
        }
        return written;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    // RFC 3986 §5.2.4, in place over a path that starts with '/'.
    private static int RemoveDotSegments(Span<byte> path)
    {
        if (path.IsEmpty || path[0] != (byte)'/') return path.Length;
        int read = 0, written = 0;
        while (read < path.Length)
        {
            // At a '/': look at the segment after it.
            int segmentStart = read + 1;
            int segmentEnd = path[segmentStart..].IndexOf((byte)'/');
            segmentEnd = segmentEnd < 0 ? path.Length : segmentStart + segmentEnd;
            ReadOnlySpan<byte> segment = path[segmentStart..segmentEnd];
            bool last = segmentEnd == path.Length;
            if (segment.SequenceEqual("."u8))
            {
                if (last) path[written++] = (byte)'/';
            }
            else if (segment.SequenceEqual(".."u8))
            {
                int parent = written > 0 ? path[..written].LastIndexOf((byte)'/') : 0;
                written = Math.Max(parent, 0);
                if (last) path[written++] = (byte)'/';
            }
            else
            {
                path[read..segmentEnd].CopyTo(path[written..]);
                written += segmentEnd - read;
            }
            read = segmentEnd;
        }
        return written == 0 ? 1 : written;
    }
}

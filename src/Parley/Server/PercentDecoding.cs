using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>Percent-decoding of request paths (RFC 3986 §2.1) into UTF-8 strings.</summary>
internal static class PercentDecoding
{
    public static string DecodePath(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'%') < 0) return Encoding.ASCII.GetString(raw);
        byte[] decoded = new byte[raw.Length];
        int length = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == (byte)'%' && i + 2 < raw.Length)
            {
                int high = HttpSyntax.HexValue(raw[i + 1]), low = HttpSyntax.HexValue(raw[i + 2]);
                if (high >= 0 && low >= 0)
                {
                    decoded[length++] = (byte)(high << 4 | low);
                    i += 2;
                    continue;
                }
            }
            decoded[length++] = b;
        }
        return Encoding.UTF8.GetString(decoded, 0, length);
    }
}

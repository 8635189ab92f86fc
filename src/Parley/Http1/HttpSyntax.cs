using System.Buffers;

namespace Parley.Http1;

/// <summary>Character classes of the HTTP grammar (RFC 9110 §5.6, RFC 9112 §2), as vectorizable search sets.</summary>
internal static partial class HttpSyntax
{
    // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    public const string TokenCharacters =
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static readonly SearchValues<byte> TokenBytes = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // RFC 9110 §5.5: field-value bytes are VCHAR, obs-text, SP and HTAB; everything else (CTLs, NUL, DEL, a bare CR) is invalid.
    public static readonly SearchValues<byte> InvalidFieldValueBytes = SearchValues.Create(CreateInvalidFieldValueBytes());

    // RFC 3986 §2: what a request-target may contain: unreserved, sub-delims, gen-delims but '#', and '%' for pct-encoded.
    // We also accept the characters browsers leave raw in paths and queries ({ } | ^ ` \ " < >): they are
    // unambiguous inside a target that cannot contain whitespace, and Kestrel, nginx and Go accept them too.
    public static readonly SearchValues<byte> InvalidTargetBytes = SearchValues.Create(CreateInvalidTargetBytes());

    public static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789ABCDEFabcdef"u8);

    public static bool IsToken(ReadOnlySpan<byte> value) => value.Length > 0 && !value.ContainsAnyExcept(TokenBytes);

    public static bool IsToken(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) return false;
        foreach (char c in value)
        {
            if (!IsTokenChar(c)) return false;
        }
        return true;
    }

    public static bool IsOws(byte b) => b == (byte)' ' || b == (byte)'\t';

    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> value)
    {
        int start = 0, end = value.Length;
        while (start < end && IsOws(value[start])) start++;
        while (end > start && IsOws(value[end - 1])) end--;
        return value[start..end];
    }

    public static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>Parses 1*DIGIT into a non-negative long; false on empty input, any other byte, or overflow.</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            if (value > (long.MaxValue - d) / 10) return false;
            value = value * 10 + d;
        }
        return true;
    }

    // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG
    public static bool HasValidPercentEncoding(ReadOnlySpan<byte> value)
    {
        int index = value.IndexOf((byte)'%');
        while (index >= 0)
        {
            if (index + 2 >= value.Length) return false;
            if (HexValue(value[index + 1]) < 0 || HexValue(value[index + 2]) < 0) return false;
            int next = value[(index + 3)..].IndexOf((byte)'%');
            index = next < 0 ? -1 : index + 3 + next;
        }
        return true;
    }

    private static byte[] CreateInvalidFieldValueBytes()
    {
        var bytes = new List<byte>();
        for (int b = 0; b < 0x20; b++)
        {
            if (b != '\t') bytes.Add((byte)b);
        }
        bytes.Add(0x7F);
        return bytes.ToArray();
    }

    private static byte[] CreateInvalidTargetBytes()
    {
        var bytes = new List<byte>();
        for (int b = 0; b <= 0x20; b++) bytes.Add((byte)b);
        bytes.Add((byte)'#');
        for (int b = 0x7F; b <= 0xFF; b++) bytes.Add((byte)b);
        return bytes.ToArray();
    }
}

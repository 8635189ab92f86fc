namespace Parley.Http1;

/// <summary>
/// Validates chunk extensions (RFC 9112 §7.1.1). No extension is defined, so they are checked and ignored;
/// strict checking matters because a lenient extension parser lets a bare LF hide a second request.
/// </summary>
internal static class ChunkExtensions
{
    // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    public static bool TryValidate(ReadOnlySpan<byte> ext, out HttpError error)
    {
        error = default;
        // RFC 9112 §7.1: BWS may come only before ';', '=' and a name or value, so nothing valid ends in
        // whitespace ("a \r\n"): refused rather than read the way some other parser might not.
        if (ext.Length > 0 && HttpSyntax.IsOws(ext[^1])) return Fail(out error, "whitespace at the end of a chunk-size line");
        int i = 0;
        while (true)
        {
            i = SkipWhitespace(ext, i);
            if (i == ext.Length) return true;
            if (ext[i] != (byte)';') return Fail(out error, "invalid chunk extension");
            i = SkipWhitespace(ext, i + 1);
            int nameLength = TokenLength(ext[i..]);
            if (nameLength == 0) return Fail(out error, "invalid chunk extension name");
            i = SkipWhitespace(ext, i + nameLength);
            if (i == ext.Length || ext[i] != (byte)'=') continue;
            i = SkipWhitespace(ext, i + 1);
            if (i == ext.Length) return Fail(out error, "missing chunk extension value");
            if (ext[i] == (byte)'"')
            {
                int end = QuotedStringEnd(ext, i);
                if (end < 0) return Fail(out error, "invalid quoted chunk extension value");
                i = end;
            }
            else
            {
                int valueLength = TokenLength(ext[i..]);
                if (valueLength == 0) return Fail(out error, "invalid chunk extension value");
                i += valueLength;
            }
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && HttpSyntax.IsOws(s[i])) i++;
        return i;
    }

    private static int TokenLength(ReadOnlySpan<byte> s)
    {
        int end = s.IndexOfAnyExcept(HttpSyntax.TokenBytes);
        return end < 0 ? s.Length : end;
    }

    // RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE. Returns the index after the closing quote.
    private static int QuotedStringEnd(ReadOnlySpan<byte> s, int openQuote)
    {
        for (int i = openQuote + 1; i < s.Length; i++)
        {
            byte b = s[i];
            if (b == (byte)'"') return i + 1;
            if (b == (byte)'\\')
            {
                if (++i == s.Length || !IsQuotedPairByte(s[i])) return -1;
                continue;
            }
            if (!IsQdText(b)) return -1;
        }
        return -1;
    }

    private static bool IsQdText(byte b) => b == (byte)'\t' || b == (byte)' ' || b == 0x21 || (b >= 0x23 && b <= 0x5B) || (b >= 0x5D && b <= 0x7E) || b >= 0x80;

    private static bool IsQuotedPairByte(byte b) => b == (byte)'\t' || (b >= 0x20 && b <= 0x7E) || b >= 0x80;

    private static bool Fail(out HttpError error, string reason)
    {
        error = HttpError.BadRequest(reason);
        return false;
    }
}

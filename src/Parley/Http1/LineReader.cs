namespace Parley.Http1;

/// <summary>Finds the end of one CRLF-terminated line, refusing bare CR and bare LF.</summary>
internal static class LineReader
{
    /// <summary>
    /// Looks for the CRLF that ends the line starting at <paramref name="start"/>.
    /// Complete: <paramref name="lineLength"/> excludes the CRLF. NeedMoreData: no terminator yet.
    /// Invalid: a CR not followed by LF, or an LF not preceded by CR.
    /// </summary>
    public static ParseStatus TryReadLine(ReadOnlySpan<byte> buffer, int start, out int lineLength, out HttpError error)
    {
        error = default;
        ReadOnlySpan<byte> rest = buffer[start..];
        int index = rest.IndexOfAny((byte)'\r', (byte)'\n');
        if (index < 0)
        {
            lineLength = rest.Length;
            return ParseStatus.NeedMoreData;
        }
        lineLength = index;
        if (rest[index] == (byte)'\n')
        {
            // RFC 9112 §2.2 lets a recipient accept a bare LF; we do not, so no two parsers can disagree
            // on where a line ends (a classic request-smuggling vector).
            error = HttpError.BadRequest("bare LF line terminator (CRLF required)");
            return ParseStatus.Invalid;
        }
        if (index + 1 == rest.Length)
        {
            return ParseStatus.NeedMoreData;
        }
        if (rest[index + 1] != (byte)'\n')
        {
            // RFC 9112 §2.2: a bare CR outside the line terminator MUST be rejected or replaced by SP.
            error = HttpError.BadRequest("bare CR in message head");
            return ParseStatus.Invalid;
        }
        return ParseStatus.Complete;
    }
}

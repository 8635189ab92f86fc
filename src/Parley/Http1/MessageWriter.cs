using System.Buffers.Text;

namespace Parley.Http1;

/// <summary>
/// Serializes message heads and chunked framing with its trailer section (RFC 9112 §3, §4, §5, §7) into a
/// <see cref="ByteBuffer"/>.
/// Field names and values are validated as they are written, so a handler cannot split a response by
/// smuggling CR or LF into a header value.
/// </summary>
internal static class MessageWriter
{
    /// <summary>Writes <c>HTTP/1.1 NNN Reason\r\n</c>.</summary>
    public static void WriteStatusLine(ByteBuffer output, int statusCode) => output.Write(StatusCodes.StatusLine(statusCode));

    /// <summary>Writes a request line <c>METHOD target HTTP/1.1\r\n</c>.</summary>
    public static void WriteRequestLine(ByteBuffer output, string method, string target)
    {
        if (!HttpSyntax.IsToken(method)) throw new ArgumentException($"invalid method '{method}'", nameof(method));
        if (target.Length == 0) throw new ArgumentException("empty request-target", nameof(target));
        WriteAscii(output, method);
        output.Write((byte)' ');
        foreach (char c in target)
        {
            if (c <= ' ' || c >= 0x7F || c == '#') throw new ArgumentException($"invalid character in request-target '{target}'", nameof(target));
        }
        WriteAscii(output, target);
        output.Write(" HTTP/1.1\r\n"u8);
    }

    /// <summary>Writes <c>name: value\r\n</c> after checking both (RFC 9110 §5.1, §5.5).</summary>
    public static void WriteField(ByteBuffer output, string name, string value)
    {
        ValidateField(name, value);
        WriteAscii(output, name);
        output.Write(": "u8);
        WriteAscii(output, value);
        output.Write("\r\n"u8);
    }

    /// <summary>Writes a field line already encoded, CRLF included.</summary>
    public static void WriteFieldLine(ByteBuffer output, ReadOnlySpan<byte> line) => output.Write(line);

    /// <summary>Writes <c>Content-Length: n\r\n</c>.</summary>
    public static void WriteContentLength(ByteBuffer output, long length)
    {
        output.Write("Content-Length: "u8);
        WriteDecimal(output, length);
        output.Write("\r\n"u8);
    }

    /// <summary>Writes a non-negative decimal number.</summary>
    public static void WriteDecimal(ByteBuffer output, long value)
    {
        Span<byte> span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        output.Advance(written);
    }

    /// <summary>Writes the chunk-size line for a chunk of <paramref name="length"/> bytes (RFC 9112 §7.1).</summary>
    public static void WriteChunkHeader(ByteBuffer output, int length)
    {
        Span<byte> span = output.GetSpan(10);
        Utf8Formatter.TryFormat(length, span, out int written, new System.Buffers.StandardFormat('x'));
        span[written] = (byte)'\r';
        span[written + 1] = (byte)'\n';
        output.Advance(written + 2);
    }

    /// <summary>Writes the CRLF that closes a chunk's data.</summary>
    public static void WriteChunkTrailer(ByteBuffer output) => output.Write("\r\n"u8);

    /// <summary>Writes the last chunk and an empty trailer section.</summary>
    public static void WriteLastChunk(ByteBuffer output) => output.Write("0\r\n\r\n"u8);

    /// <summary>
    /// Writes the last chunk, then <paramref name="trailers"/> as the trailer section and the empty line
    /// that ends the message (RFC 9112 §7.1: <c>last-chunk trailer-section CRLF</c>). Each field is checked
    /// as a head field is, and one that must not be sent in trailers (RFC 9110 §6.5.1) is refused.
    /// </summary>
    /// <exception cref="ArgumentException">A field name or value is invalid, or the field is not allowed in trailers.</exception>
    public static void WriteLastChunk(ByteBuffer output, ReadOnlySpan<KeyValuePair<string, string>> trailers)
    {
        foreach ((string name, string value) in trailers) ValidateTrailerField(name, value);
        output.Write("0\r\n"u8);
        foreach ((string name, string value) in trailers)
        {
            WriteAscii(output, name);
            output.Write(": "u8);
            WriteAscii(output, value);
            output.Write("\r\n"u8);
        }
        output.Write("\r\n"u8);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the field is valid (see <see cref="ValidateField"/>)
    /// and allowed in a trailer section (RFC 9110 §6.5.1).
    /// </summary>
    public static void ValidateTrailerField(string name, string value)
    {
        ValidateField(name, value);
        if (TrailerFields.IsProhibited(name))
        {
            throw new ArgumentException($"'{name}' is not allowed in a trailer section: its recipient needs it before the content (RFC 9110 §6.5.1)", nameof(name));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the name is a token and the value is valid field content.</summary>
    public static void ValidateField(string name, string value)
    {
        // A null value would pass the character check (its span is empty) and fail later, when encoded.
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(TokenChars))
        {
            throw new ArgumentException($"invalid field name '{name}'", nameof(name));
        }
        // RFC 9110 §5.5: field-value = *( VCHAR / SP / HTAB / obs-text ); we send ASCII only (obs-text is opaque).
        int invalid = value.AsSpan().IndexOfAnyExcept(FieldValueChars);
        if (invalid >= 0)
        {
            throw new ArgumentException($"invalid character U+{(int)value[invalid]:X4} in the value of field '{name}'", nameof(value));
        }
    }

    private static readonly System.Buffers.SearchValues<char> TokenChars = System.Buffers.SearchValues.Create(HttpSyntax.TokenCharacters);

    private static readonly System.Buffers.SearchValues<char> FieldValueChars = System.Buffers.SearchValues.Create(CreateFieldValueChars());

    private static string CreateFieldValueChars()
    {
        var chars = new System.Text.StringBuilder("\t");
        for (char c = ' '; c < (char)0x7F; c++) chars.Append(c);
        return chars.ToString();
    }

    private static void WriteAscii(ByteBuffer output, string text)
    {
        Span<byte> span = output.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++) span[i] = (byte)text[i];
        output.Advance(text.Length);
    }
}

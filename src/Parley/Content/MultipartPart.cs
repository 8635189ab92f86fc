using System.Text;
using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// One part of a <c>multipart/form-data</c> body, as returned by <see cref="MultipartReader.ReadNextPartAsync"/>.
/// Its <see cref="Body"/> streams the content and is valid until the next part is requested.
/// </summary>
public sealed class MultipartPart
{
    internal MultipartPart(IReadOnlyList<KeyValuePair<string, string>> headers, Stream body)
    {
        Headers = headers;
        Body = body;
        ContentType = GetHeader("Content-Type");
        string? disposition = GetHeader("Content-Disposition");
        if (disposition is not null)
        {
            ParseContentDisposition(disposition);
        }
    }

    /// <summary>The part's header fields in received order (names as sent).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>
    /// The <c>name</c> parameter of a <c>Content-Disposition: form-data</c> header (RFC 7578 §4.2),
    /// or <c>null</c> when the part has none.
    /// </summary>
    public string? Name { get; private set; }

    /// <summary>
    /// The <c>filename</c> parameter (or a UTF-8 <c>filename*</c>), or <c>null</c> for a non-file
    /// field. Supplied by the client: it may contain paths or hostile characters; never use it
    /// as a file-system path without sanitising it (RFC 7578 §4.2).
    /// </summary>
    public string? FileName { get; private set; }

    /// <summary>The part's <c>Content-Type</c>, or <c>null</c> (RFC 7578 §4.4: defaults to text/plain).</summary>
    public string? ContentType { get; }

    /// <summary>Whether the part carries a file (it has a <c>filename</c> parameter).</summary>
    public bool IsFile => FileName is not null;

    /// <summary>The part's content, read-only and forward-only; it ends at the next boundary.</summary>
    public Stream Body { get; }

    /// <summary>The value of the first header named <paramref name="name"/> (case-insensitive), or <c>null</c>.</summary>
    public string? GetHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (KeyValuePair<string, string> header in Headers)
        {
            if (header.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }

    // RFC 7578 §4.2: Content-Disposition: form-data; name="user"; filename="a.txt"
    // (RFC 6266 §4.1 syntax: disposition-type *( OWS ";" OWS disposition-parm ))
    private void ParseContentDisposition(ReadOnlySpan<char> value)
    {
        int semicolon = HttpSyntax.IndexOfUnquoted(value, ';');
        ReadOnlySpan<char> type = HttpSyntax.TrimOws(semicolon < 0 ? value : value[..semicolon]);
        if (!type.Equals("form-data", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        string? name = null, fileName = null, fileNameStar = null;
        ReadOnlySpan<char> rest = semicolon < 0 ? default : value[(semicolon + 1)..];
        while (!rest.IsEmpty)
        {
            semicolon = HttpSyntax.IndexOfUnquoted(rest, ';');
            ReadOnlySpan<char> parameter = HttpSyntax.TrimOws(semicolon < 0 ? rest : rest[..semicolon]);
            rest = semicolon < 0 ? default : rest[(semicolon + 1)..];
            if (!HttpSyntax.TryParseParameter(parameter, out ReadOnlySpan<char> key, out string parameterValue))
            {
                continue; // a malformed parameter is skipped, not fatal
            }

            if (key.Equals("name", StringComparison.OrdinalIgnoreCase))
            {
                name ??= parameterValue;
            }
            else if (key.Equals("filename", StringComparison.OrdinalIgnoreCase))
            {
                fileName ??= parameterValue;
            }
            else if (key.Equals("filename*", StringComparison.OrdinalIgnoreCase))
            {
                fileNameStar ??= DecodeExtendedValue(parameterValue);
            }
        }

        Name = name;
        FileName = fileNameStar ?? fileName;
    }

    // RFC 8187 §3.2: ext-value = charset "'" [ language ] "'" value-chars; only UTF-8 is decoded.
    private static string? DecodeExtendedValue(string value)
    {
        const string Prefix = "utf-8'";
        if (!value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        int quote = value.IndexOf('\'', Prefix.Length);
        if (quote < 0)
        {
            return null;
        }

        ReadOnlySpan<char> encoded = value.AsSpan(quote + 1);
        var bytes = new byte[encoded.Length];
        int length = 0;
        for (int i = 0; i < encoded.Length; i++)
        {
            char c = encoded[i];
            if (c == '%' && i + 2 < encoded.Length && char.IsAsciiHexDigit(encoded[i + 1]) && char.IsAsciiHexDigit(encoded[i + 2]))
            {
                bytes[length++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
            }
            else if (c < 0x80 && c != '%')
            {
                bytes[length++] = (byte)c;
            }
            else
            {
                return null;
            }
        }

        return System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(0, length)) ? Encoding.UTF8.GetString(bytes, 0, length) : null;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

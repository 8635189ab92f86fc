using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// The <c>application/x-www-form-urlencoded</c> format as the WHATWG URL Standard §5 defines it:
/// what browsers send for <c>&lt;form method=post&gt;</c> without a file input.
/// </summary>
public static class FormUrlEncoded
{
    /// <summary>The media type this class reads and writes.</summary>
    public const string MediaType = "application/x-www-form-urlencoded";

    private const int StackLimit = 256;

    /// <summary>
    /// Parses a form body into its ordered name/value pairs. <c>+</c> decodes to a space and
    /// <c>%XX</c> to the byte XX; the decoded bytes must be UTF-8.
    /// </summary>
    /// <exception cref="FormException">
    /// 400 for a malformed percent escape, invalid UTF-8, too many fields or a too-long name or value;
    /// 413 when the body exceeds <see cref="FormLimits.MaxBodyBytes"/>. No other exception is thrown.
    /// </exception>
    public static FormFields Parse(ReadOnlySpan<byte> body, FormLimits? limits = null)
    {
        limits ??= FormLimits.Default;
        if (body.Length > limits.MaxBodyBytes)
        {
            throw FormException.TooLarge($"Form body is {body.Length} bytes; the limit is {limits.MaxBodyBytes}.");
        }

        var fields = new FormFields();
        byte[]? rented = null;
        Span<byte> scratch = body.Length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(body.Length));
        try
        {
            var pairs = new UrlEncodedPairs(body);
            while (pairs.TryRead(out ReadOnlySpan<byte> rawName, out ReadOnlySpan<byte> rawValue))
            {
                if (fields.Count == limits.MaxFieldCount)
                {
                    throw FormException.BadRequest($"Form has more than {limits.MaxFieldCount} fields.");
                }

                string name = Decode(rawName, scratch, limits, "name");
                string value = Decode(rawValue, scratch, limits, "value");
                fields.Add(name, value);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return fields;
    }

    /// <summary>
    /// Serializes pairs exactly as browsers do (WHATWG URL §5.2 with the
    /// <c>application/x-www-form-urlencoded</c> percent-encode set): space becomes <c>+</c>,
    /// ASCII alphanumerics and <c>*-._</c> are kept, every other UTF-8 byte becomes <c>%XX</c>
    /// with upper-case hex. Lone surrogates are encoded as U+FFFD, as the UTF-8 encoder does.
    /// </summary>
    public static string Encode(IEnumerable<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var sb = new StringBuilder();
        foreach (KeyValuePair<string, string> field in fields)
        {
            if (sb.Length > 0)
            {
                sb.Append('&');
            }

            AppendEncoded(sb, field.Key ?? throw new ArgumentException("A form field name is null.", nameof(fields)));
            sb.Append('=');
            AppendEncoded(sb, field.Value ?? string.Empty);
        }

        return sb.ToString();
    }

    private static string Decode(ReadOnlySpan<byte> raw, Span<byte> scratch, FormLimits limits, string what)
    {
        if (raw.IsEmpty)
        {
            return string.Empty;
        }

        // Percent-decoding (WHATWG URL §1.3) would pass a bad escape through unchanged;
        // we reject it instead, since only a broken or hostile client sends one.
        int malformed = PercentEncoding.IndexOfMalformedEscape(raw);
        if (malformed >= 0)
        {
            int end = Math.Min(raw.Length, malformed + 3);
            throw FormException.BadRequest(
                $"Malformed percent escape '{Printable(raw[malformed..end])}' in form field {what}: '%' must be followed by two hex digits.");
        }

        // WHATWG URL §5.1 step 3.4: replace 0x2B (+) with 0x20 (SP), then percent-decode.
        int length = PercentEncoding.Decode(raw, scratch, plusAsSpace: true);

        if (length > limits.MaxValueLength)
        {
            throw FormException.BadRequest($"Form field {what} is {length} bytes; the limit is {limits.MaxValueLength}.");
        }

        ReadOnlySpan<byte> decoded = scratch[..length];
        if (!Utf8.IsValid(decoded))
        {
            throw FormException.BadRequest($"Form field {what} is not valid UTF-8 after percent-decoding.");
        }

        return Encoding.UTF8.GetString(decoded);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            sb.Append(b is >= 0x21 and < 0x7F ? (char)b : '?');
        }

        return sb.ToString();
    }

    private static void AppendEncoded(StringBuilder sb, string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int count = Encoding.UTF8.GetBytes(text, utf8);
        foreach (byte b in utf8[..count])
        {
            if (b == (byte)' ')
            {
                sb.Append('+');
            }
            else if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'*' or (byte)'-' or (byte)'.' or (byte)'_')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(HexUpper[b >> 4]).Append(HexUpper[b & 0xF]);
            }
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private const string HexUpper = "0123456789ABCDEF";
}

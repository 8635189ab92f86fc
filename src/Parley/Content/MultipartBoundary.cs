namespace Parley.Content;

/// <summary>Extracts the <c>boundary</c> parameter of a multipart <c>Content-Type</c> (RFC 2046 §5.1.1).</summary>
public static class MultipartBoundary
{
    /// <summary>The longest boundary RFC 2046 §5.1.1 allows.</summary>
    public const int MaxLength = 70;

    /// <summary>
    /// Reads the boundary from a field value such as <c>multipart/form-data; boundary="----x"</c>.
    /// Fails when the type is not <c>multipart/*</c>, the parameter is missing, or the boundary is
    /// not 1-70 bchars not ending in a space. Never throws.
    /// </summary>
    public static bool TryParse(string? contentType, out string boundary)
    {
        boundary = string.Empty;
        if (contentType is null || !MediaType.TryParseFull(contentType, out MediaType type)
            || !type.Type.Equals("multipart", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string? value = type.GetParameter("boundary");
        if (value is null || !IsValid(value))
        {
            return false;
        }

        boundary = value;
        return true;
    }

    /// <summary>As <see cref="TryParse"/>, throwing when there is no valid boundary.</summary>
    /// <exception cref="FormException">400, with a message saying what is wrong.</exception>
    public static string Parse(string? contentType) =>
        TryParse(contentType, out string boundary)
            ? boundary
            : throw FormException.BadRequest(
                $"Content-Type '{contentType}' is not multipart with a valid boundary parameter (RFC 2046 §5.1.1: 1-70 characters).");

    /// <summary>
    /// Whether <paramref name="boundary"/> is 1-70 bchars and does not end with a space:
    /// <c>boundary := 0*69&lt;bchars&gt; bcharsnospace</c> (RFC 2046 §5.1.1).
    /// </summary>
    public static bool IsValid(ReadOnlySpan<char> boundary)
    {
        if (boundary.IsEmpty || boundary.Length > MaxLength || boundary[^1] == ' ')
        {
            return false;
        }

        foreach (char c in boundary)
        {
            // bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?"
            bool ok = char.IsAsciiLetterOrDigit(c) || c is '\'' or '(' or ')' or '+' or '_' or ',' or '-' or '.' or '/' or ':' or '=' or '?' or ' ';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}

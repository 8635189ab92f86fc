namespace Parley.Http1;

/// <summary>Rules for the Transfer-Encoding field of a request (RFC 9112 §6.1, §7).</summary>
internal static class TransferCoding
{
    /// <summary>
    /// Accepts exactly one <c>chunked</c> as the final coding. A final coding other than chunked makes
    /// the body length undeterminable (400, RFC 9112 §6.3); chunked applied twice is forbidden (§7);
    /// any other coding before chunked is one we do not implement (501, §6.1).
    /// </summary>
    public static bool TryValidate(FieldTable fields, out HttpError error)
    {
        error = default;
        int codings = 0;
        bool chunkedSeen = false, lastIsChunked = false, unsupported = false;
        for (int i = fields.IndexOf(KnownField.TransferEncoding); i >= 0; i = fields.IndexOf(KnownField.TransferEncoding, i + 1))
        {
            ReadOnlySpan<byte> value = fields.ValueAt(i);
            foreach (Range part in value.Split((byte)','))
            {
                ReadOnlySpan<byte> element = HttpSyntax.TrimOws(value[part]);
                // RFC 9110 §5.6.1: empty list elements are ignored.
                if (element.IsEmpty) continue;
                codings++;
                if (!HttpSyntax.IsToken(element))
                {
                    // Parameters (";x=y") are not defined for chunked and we implement no other coding.
                    error = HttpError.BadRequest("invalid transfer-coding in Transfer-Encoding");
                    return false;
                }
                bool isChunked = System.Text.Ascii.EqualsIgnoreCase(element, "chunked"u8);
                if (isChunked && chunkedSeen)
                {
                    error = HttpError.BadRequest("chunked applied more than once");
                    return false;
                }
                chunkedSeen |= isChunked;
                unsupported |= !isChunked;
                lastIsChunked = isChunked;
            }
        }
        if (codings == 0)
        {
            error = HttpError.BadRequest("empty Transfer-Encoding");
            return false;
        }
        if (!lastIsChunked)
        {
            error = HttpError.BadRequest("final transfer-coding is not chunked");
            return false;
        }
        if (unsupported)
        {
            error = new HttpError(501, "unsupported transfer-coding");
            return false;
        }
        return true;
    }
}

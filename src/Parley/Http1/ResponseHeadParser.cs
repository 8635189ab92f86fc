using System.Runtime.CompilerServices;

namespace Parley.Http1;

/// <summary>
/// Incremental parser of response heads (RFC 9112 §4), sharing the field-line rules of requests, and the
/// framing rules a client applies to a response (RFC 9112 §6.3).
/// </summary>
internal static class ResponseHeadParser
{
    /// <summary>Parses the head at the start of <paramref name="response"/>; resumable like <see cref="RequestHeadParser"/>.</summary>
    // FieldLineParser.ParseSection inlines here with its line marks, which need no zeroing.
    [SkipLocalsInit]
    public static ParseStatus Parse(ReadOnlyMemory<byte> response, ResponseHead head, HeadLimits limits, out HttpError error)
    {
        head.Fields.Rebind(response);
        ReadOnlySpan<byte> buffer = response.Span;
        int offset = head.ParseOffset;
        error = default;
        while (!head.StatusLineParsed)
        {
            ParseStatus line = LineReader.TryReadLine(buffer, offset, out int lineLength, out error);
            // Checked whether or not the line is complete, so the error does not depend on how it arrived.
            if (lineLength > limits.MaxHeadBytes)
            {
                error = HttpError.BadResponse("status line too long");
                return ParseStatus.Invalid;
            }
            if (line != ParseStatus.Complete) return line;
            if (lineLength == 0)
            {
                // RFC 9112 §2.2 robustness, as servers do before a request line: skip a few empty lines
                // (a server may send a stray CRLF after a 100 Continue). Only empty lines precede the
                // status line, so the offset counts them across resumed calls.
                if (offset / 2 >= MaxLeadingEmptyLines)
                {
                    error = HttpError.BadResponse("too many empty lines before the status line");
                    return ParseStatus.Invalid;
                }
                offset += 2;
                head.ParseOffset = offset;
                continue;
            }
            if (!TryParseStatusLine(buffer.Slice(offset, lineLength), head, offset, out error)) return ParseStatus.Invalid;
            offset += lineLength + 2;
            head.StatusLineParsed = true;
        }
        ParseStatus fields = FieldLineParser.ParseSection(buffer, ref offset, head.Fields, limits.MaxHeadBytes, limits.MaxFieldCount, out error);
        // The field-line rules are shared with requests, whose errors carry 400/431; in a response the
        // same fault is an invalid response.
        if (fields == ParseStatus.Invalid) error = HttpError.BadResponse(error.Reason);
        head.ParseOffset = offset;
        if (fields == ParseStatus.Complete) head.HeadLength = offset;
        return fields;
    }

    /// <summary>
    /// Decides how the body of a response is delimited (RFC 9112 §6.3). <paramref name="contentLength"/> is
    /// set for <see cref="BodyFraming.ContentLength"/>. Ambiguous framing is an error, never a guess.
    /// </summary>
    public static bool TryGetFraming(ResponseHead head, bool requestWasHead, out BodyFraming framing, out long contentLength, out HttpError error) =>
        TryGetFraming(head, requestWasHead ? "HEAD"u8 : "GET"u8, out framing, out contentLength, out error);

    /// <summary>
    /// As <see cref="TryGetFraming(ResponseHead, bool, out BodyFraming, out long, out HttpError)"/>, knowing
    /// the request's method, which also settles a 2xx answer to CONNECT.
    /// </summary>
    public static bool TryGetFraming(ResponseHead head, ReadOnlySpan<byte> requestMethod, out BodyFraming framing, out long contentLength, out HttpError error)
    {
        framing = BodyFraming.None;
        contentLength = -1;
        error = default;
        // §6.3 (1): responses to HEAD, and 1xx, 204 and 304 responses, end at the head.
        if (requestMethod.SequenceEqual("HEAD"u8) || StatusCodes.ForbidsBody(head.StatusCode)) return true;
        // §6.3 (2): a 2xx answer to CONNECT turns the connection into a tunnel right after the head; its
        // Content-Length and Transfer-Encoding MUST be ignored. No HTTP body follows.
        if (head.StatusCode is >= 200 and < 300 && requestMethod.SequenceEqual("CONNECT"u8)) return true;

        FieldTable fields = head.Fields;
        int te = fields.IndexOf(KnownField.TransferEncoding);
        int cl = fields.IndexOf(KnownField.ContentLength);
        if (te >= 0)
        {
            // RFC 9112 §6.1: a client receiving HTTP/1.0 with Transfer-Encoding MUST treat the framing as faulty.
            if (head.Version == HttpVersion.Http10)
            {
                error = HttpError.BadResponse("Transfer-Encoding in an HTTP/1.0 response");
                return false;
            }
            if (cl >= 0)
            {
                error = HttpError.BadResponse("response has both Transfer-Encoding and Content-Length");
                return false;
            }
            // §6.3 (4): chunked last means chunked; any other final coding reads until close.
            bool lastIsChunked = false;
            for (int i = te; i >= 0; i = fields.IndexOf(KnownField.TransferEncoding, i + 1))
            {
                ReadOnlySpan<byte> value = fields.ValueAt(i);
                foreach (Range part in value.Split((byte)','))
                {
                    ReadOnlySpan<byte> element = HttpSyntax.TrimOws(value[part]);
                    // RFC 9110 §5.6.1: empty list elements are ignored.
                    if (!element.IsEmpty) lastIsChunked = System.Text.Ascii.EqualsIgnoreCase(element, "chunked"u8);
                }
            }
            framing = lastIsChunked ? BodyFraming.Chunked : BodyFraming.UntilClose;
            return true;
        }
        if (cl >= 0)
        {
            long merged = -1;
            for (int i = cl; i >= 0; i = fields.IndexOf(KnownField.ContentLength, i + 1))
            {
                ReadOnlySpan<byte> value = fields.ValueAt(i);
                foreach (Range part in value.Split((byte)','))
                {
                    if (!HttpSyntax.TryParseDecimal(HttpSyntax.TrimOws(value[part]), out long parsed) || (merged >= 0 && merged != parsed))
                    {
                        // §6.3 (5): an invalid Content-Length is an unrecoverable error.
                        error = HttpError.BadResponse("invalid or conflicting Content-Length in response");
                        return false;
                    }
                    merged = parsed;
                }
            }
            contentLength = merged;
            framing = merged == 0 ? BodyFraming.None : BodyFraming.ContentLength;
            return true;
        }
        // §6.3 (8): otherwise the body runs until the server closes the connection.
        framing = BodyFraming.UntilClose;
        return true;
    }

    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    // Empty lines skipped before a status line; more is no HTTP/1.1 server we can talk to.
    private const int MaxLeadingEmptyLines = 4;

    private static bool TryParseStatusLine(ReadOnlySpan<byte> line, ResponseHead head, int lineStart, out HttpError error)
    {
        error = default;
        if (IsOtherVersion(line))
        {
            // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; a major version other than 1 is
            // well-formed but not one this client speaks (HTTP/0.9 had no status line; HTTP/2 and 3 no text form).
            error = HttpError.BadResponse("unsupported HTTP version in the status line");
            return false;
        }
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)line[7]) || line[8] != (byte)' ')
        {
            error = HttpError.BadResponse("malformed status line");
            return false;
        }
        head.Version = line[7] == (byte)'0' ? HttpVersion.Http10 : HttpVersion.Http11;
        ReadOnlySpan<byte> code = line.Slice(9, 3);
        if (!HttpSyntax.TryParseDecimal(code, out long status) || status < 100 || status > 999 || (line.Length > 12 && line[12] != (byte)' '))
        {
            error = HttpError.BadResponse("malformed status code");
            return false;
        }
        head.StatusCode = (int)status;
        ReadOnlySpan<byte> reason = line.Length > 13 ? line[13..] : default;
        if (reason.ContainsAny(HttpSyntax.InvalidFieldValueBytes))
        {
            error = HttpError.BadResponse("control character in reason phrase");
            return false;
        }
        head.ReasonStart = lineStart + Math.Min(line.Length, 13);
        head.ReasonLength = reason.Length;
        return true;
    }

    // "HTTP/" DIGIT ["." DIGIT] SP with a major version other than 1.
    private static bool IsOtherVersion(ReadOnlySpan<byte> line)
    {
        if (line.Length < 7 || !line.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)line[5]) || line[5] == (byte)'1') return false;
        if (line[6] == (byte)' ') return true;
        return line.Length >= 9 && line[6] == (byte)'.' && char.IsAsciiDigit((char)line[7]) && line[8] == (byte)' ';
    }
}

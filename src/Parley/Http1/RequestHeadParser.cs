using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Parley.Http1;

/// <summary>
/// Incremental, allocation-free parser of request heads (RFC 9112 §2-§3, §5-§6).
/// Feed it the bytes of a request from its first byte on; call again with more bytes appended after
/// <see cref="ParseStatus.NeedMoreData"/>. Lines already parsed are not scanned again.
/// </summary>
internal static class RequestHeadParser
{
    // RFC 9112 §2.2 asks servers to ignore at least one empty line before the request-line; we ignore a few.
    private const int MaxLeadingEmptyLines = 4;

    /// <summary>
    /// Parses the request head at the start of <paramref name="request"/> into <paramref name="head"/>
    /// (which must be <see cref="RequestHead.Reset"/> before the first call for a new request).
    /// </summary>
    // FieldLineParser.ParseSection inlines here with its line marks, which need no zeroing.
    [SkipLocalsInit]
    public static ParseStatus Parse(ReadOnlyMemory<byte> request, RequestHead head, HeadLimits limits, out HttpError error)
    {
        head.Fields.Rebind(request);
        ReadOnlySpan<byte> buffer = request.Span;
        int offset = head.ParseOffset;
        error = default;

        if (!head.RequestLineParsed)
        {
            if (offset == 0 && TryParseWellFormedRequestLine(buffer, head, limits, out int lineEnd, out ParseStatus fastStatus, out error))
            {
                if (fastStatus == ParseStatus.Invalid) return fastStatus;
                offset = lineEnd;
            }
            else
            {
                ParseStatus lineStatus = ParseRequestLine(buffer, head, limits, ref offset, out error);
                if (lineStatus != ParseStatus.Complete)
                {
                    head.ParseOffset = offset;
                    return lineStatus;
                }
            }
            head.RequestLineParsed = true;
        }

        ParseStatus fieldsStatus = FieldLineParser.ParseSection(buffer, ref offset, head.Fields,
            limits.MaxHeadBytes, limits.MaxFieldCount, out error);
        head.ParseOffset = offset;
        if (fieldsStatus != ParseStatus.Complete) return fieldsStatus;

        head.HeadLength = offset;
        return RequestSemantics.Apply(head, buffer, out error) ? ParseStatus.Complete : ParseStatus.Invalid;
    }

    /// <summary>
    /// The common case in one pass: a complete request line with a token method, a target of valid bytes,
    /// one SP between the parts, and <c>HTTP/1.1</c> or <c>HTTP/1.0</c>, within the limits. Returns false,
    /// having changed nothing, when anything is unusual; the careful path then decides, so errors and their
    /// precedence are those of the careful path alone. True with Invalid when the line is well formed but
    /// its target is not (the careful path would reach the same check with the same state).
    /// </summary>
    internal static bool TryParseWellFormedRequestLine(ReadOnlySpan<byte> buffer, RequestHead head, HeadLimits limits,
        out int lineEnd, out ParseStatus status, out HttpError error)
    {
        lineEnd = 0;
        status = ParseStatus.Complete;
        error = default;
        // GET, by far the most common method, is recognised with its SP from one 4-byte compare.
        bool isGet = buffer.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(buffer) == GetSpaceBytes;
        int methodLength = isGet ? 3 : ByteClasses.Run(buffer, ByteClasses.Token);
        if (methodLength == 0 || methodLength > limits.MaxMethodLength || (uint)methodLength >= (uint)buffer.Length
            || buffer[methodLength] != (byte)' ')
        {
            return false;
        }
        int targetStart = methodLength + 1;
        int targetLength = ByteClasses.TargetRun(buffer.Slice(targetStart), out bool percent, out int query);
        int versionStart = targetStart + targetLength + 1;
        // "HTTP/1.x" and CRLF after the SP that ends the target.
        if (targetLength == 0 || targetLength > limits.MaxTargetLength || versionStart + 10 > buffer.Length
            || buffer[versionStart - 1] != (byte)' ' || versionStart + 8 > limits.MaxHeadBytes)
        {
            return false;
        }
        ulong version = BinaryPrimitives.ReadUInt64LittleEndian(buffer.Slice(versionStart));
        HttpVersion parsedVersion;
        if (version == Http11Bytes) parsedVersion = HttpVersion.Http11;
        else if (version == Http10Bytes) parsedVersion = HttpVersion.Http10;
        else return false;
        if (buffer[versionStart + 8] != (byte)'\r' || buffer[versionStart + 9] != (byte)'\n') return false;

        head.MethodStart = 0;
        head.MethodLength = methodLength;
        head.SetMethod(isGet ? HttpMethods.GetKind : HttpMethods.KindOf(buffer.Slice(0, methodLength)));
        head.TargetStart = targetStart;
        head.TargetLength = targetLength;
        head.Version = parsedVersion;
        lineEnd = versionStart + 10;
        if (buffer[targetStart] == (byte)'/' && !percent && (isGet || !IsConnect(buffer, methodLength)))
        {
            // origin-form without pct-encoding: RequestTarget would only split path and query.
            head.TargetForm = RequestTargetForm.Origin;
            head.PathStart = targetStart;
            head.PathLength = query < 0 ? targetLength : query;
            return true;
        }
        if (!RequestTarget.TryParse(buffer, head, out error, charactersChecked: true)) status = ParseStatus.Invalid;
        return true;
    }

    private static bool IsConnect(ReadOnlySpan<byte> buffer, int methodLength) =>
        methodLength == 7 && buffer.StartsWith("CONNECT"u8);

    private const ulong Http11Bytes = 0x312E312F50545448; // "HTTP/1.1" read little-endian
    private const ulong Http10Bytes = 0x302E312F50545448; // "HTTP/1.0"
    private const uint GetSpaceBytes = 0x20544547;        // "GET "

    private static ParseStatus ParseRequestLine(ReadOnlySpan<byte> buffer, RequestHead head, HeadLimits limits,
        ref int offset, out HttpError error)
    {
        error = default;
        // Only empty lines (2 bytes each) precede a request line still being parsed, so the offset counts
        // those already skipped by earlier calls; a count kept per call would restart on every resume.
        int emptyLines = offset / 2;
        while (true)
        {
            ParseStatus status = LineReader.TryReadLine(buffer, offset, out int lineLength, out error);
            // The bytes of the line seen so far (up to the CRLF, or up to a bare CR or LF) get the checks of a
            // partial line first, whether or not the line is complete: a sender trickling the same bytes would
            // have tripped those checks before the rest arrived, and the outcome must not depend on arrival.
            if (CheckPartialRequestLine(buffer.Slice(offset, lineLength), limits, out HttpError early) == ParseStatus.Invalid)
            {
                error = early;
                return ParseStatus.Invalid;
            }
            if (status != ParseStatus.Complete) return status;
            if (lineLength == 0)
            {
                if (++emptyLines > MaxLeadingEmptyLines)
                {
                    error = HttpError.BadRequest("too many empty lines before the request line");
                    return ParseStatus.Invalid;
                }
                offset += 2;
                continue;
            }
            if (!TryParseRequestLine(buffer, offset, lineLength, head, out error)) return ParseStatus.Invalid;
            offset += lineLength + 2;
            return ParseStatus.Complete;
        }
    }

    // Reject a request line that can no longer become valid before all of it has arrived, so a client
    // cannot make us buffer an endless line, and bytes that cannot begin a method (say, a TLS handshake)
    // fail at once. When several rules are broken, the one broken earliest in the byte stream names the
    // error, so the status is the same however the line was split.
    private static ParseStatus CheckPartialRequestLine(ReadOnlySpan<byte> partial, HeadLimits limits, out HttpError error)
    {
        error = default;
        int firstSpace = partial.IndexOf((byte)' ');
        ReadOnlySpan<byte> method = firstSpace >= 0 ? partial[..firstSpace] : partial;

        // Index of the byte that breaks each rule, or int.MaxValue. A method byte past MaxMethodLength
        // breaks the length rule there, unless that byte is no token byte (then the method is invalid).
        int badMethodByte = firstSpace == 0 ? 0 : method.IndexOfAnyExcept(HttpSyntax.TokenBytes);
        int methodBreaks = badMethodByte >= 0 ? badMethodByte : int.MaxValue;
        int methodLengthBreaks = method.Length > limits.MaxMethodLength && methodBreaks > limits.MaxMethodLength
            ? limits.MaxMethodLength
            : int.MaxValue;
        int targetBreaks = int.MaxValue;
        if (firstSpace > 0)
        {
            ReadOnlySpan<byte> afterMethod = partial[(firstSpace + 1)..];
            int secondSpace = afterMethod.IndexOf((byte)' ');
            int targetSoFar = secondSpace >= 0 ? secondSpace : afterMethod.Length;
            if (targetSoFar > limits.MaxTargetLength) targetBreaks = firstSpace + 1 + limits.MaxTargetLength;
        }
        int sizeBreaks = partial.Length > limits.MaxHeadBytes ? limits.MaxHeadBytes : int.MaxValue;

        int first = Math.Min(Math.Min(methodBreaks, methodLengthBreaks), Math.Min(targetBreaks, sizeBreaks));
        if (first == int.MaxValue) return ParseStatus.NeedMoreData;
        if (first == methodBreaks)
        {
            error = HttpError.BadRequest(firstSpace == 0 ? "request line starts with whitespace" : "invalid character in method");
        }
        else if (first == methodLengthBreaks)
        {
            // RFC 9112 §3: a method longer than any the server implements SHOULD get 501 (not 431, which
            // RFC 6585 §5 keeps for header fields).
            error = new HttpError(501, "method too long");
        }
        else
        {
            error = first == targetBreaks ? new HttpError(414, "request-target too long") : new HttpError(431, "request line too large");
        }
        return ParseStatus.Invalid;
    }

    private static bool TryParseRequestLine(ReadOnlySpan<byte> buffer, int start, int length, RequestHead head,
        out HttpError error)
    {
        error = default;
        ReadOnlySpan<byte> line = buffer.Slice(start, length);

        // RFC 9112 §3: request-line = method SP request-target SP HTTP-version. CheckPartialRequestLine has
        // already seen the whole line: a leading space, a method byte that is no tchar and a request-target
        // over its limit were rejected there.
        int methodEnd = line.IndexOf((byte)' ');
        if (methodEnd < 0)
        {
            error = HttpError.BadRequest("malformed request line");
            return false;
        }
        ReadOnlySpan<byte> method = line[..methodEnd];
        head.MethodStart = start;
        head.MethodLength = methodEnd;
        head.SetMethod(HttpMethods.KindOf(method));

        ReadOnlySpan<byte> rest = line[(methodEnd + 1)..];
        int targetEnd = rest.IndexOf((byte)' ');
        if (targetEnd < 0)
        {
            // HTTP/0.9's "GET /" has no version; it is not supported.
            error = HttpError.BadRequest("request line has no HTTP version");
            return false;
        }
        if (targetEnd == 0)
        {
            error = HttpError.BadRequest("empty request-target or repeated whitespace");
            return false;
        }
        int targetStart = start + methodEnd + 1;
        head.TargetStart = targetStart;
        head.TargetLength = targetEnd;

        ReadOnlySpan<byte> version = rest[(targetEnd + 1)..];
        if (!TryParseVersion(version, out HttpVersion parsedVersion, out error)) return false;
        head.Version = parsedVersion;

        return RequestTarget.TryParse(buffer, head, out error);
    }

    private static bool TryParseVersion(ReadOnlySpan<byte> version, out HttpVersion parsed, out HttpError error)
    {
        parsed = HttpVersion.Unknown;
        error = default;
        // RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name is case-sensitive "HTTP".
        if (version.Length != 8 || !version.StartsWith("HTTP/"u8) || version[6] != (byte)'.'
            || !char.IsAsciiDigit((char)version[5]) || !char.IsAsciiDigit((char)version[7]))
        {
            error = HttpError.BadRequest(version.IndexOf((byte)' ') >= 0
                ? "repeated whitespace in request line"
                : "malformed HTTP version");
            return false;
        }
        if (version[5] != (byte)'1')
        {
            // RFC 9110 §15.6.6: 505 for a major version the server does not support.
            error = new HttpError(505, "HTTP version not supported");
            return false;
        }
        // RFC 9110 §2.5: a higher minor version is processed as the highest one we implement.
        parsed = version[7] == (byte)'0' ? HttpVersion.Http10 : HttpVersion.Http11;
        return true;
    }
}

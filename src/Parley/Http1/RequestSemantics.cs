using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Parley.Http1;

/// <summary>
/// Checks that a complete request head is unambiguous and derives its framing (RFC 9112 §6.1-§6.3,
/// §9.3; RFC 9110 §7.2, §8.6, §10.1.1). Every rejection here closes the connection, because a peer that
/// sent ambiguous framing may be trying to smuggle a second request past an intermediary.
/// </summary>
internal static class RequestSemantics
{
    private const uint BodyOrExpectFields =
        1u << (int)KnownField.ContentLength | 1u << (int)KnownField.TransferEncoding | 1u << (int)KnownField.Expect;

    // RFC 9112 §3.2, §3.3: an empty Host names no authority; the server may use a configured default
    // (RequestHead.EmptyHostAllowed) or reject the request, and without a default it rejects.
    private const string EmptyHost = "empty Host field (the server has no default host)";

    public static bool Apply(RequestHead head, out HttpError error) => Apply(head, head.Fields.Source, out error);

    /// <summary>Applies the rules to a head parsed from <paramref name="source"/> (the bytes its fields are bound to).</summary>
    public static bool Apply(RequestHead head, ReadOnlySpan<byte> source, out HttpError error)
    {
        FieldTable fields = head.Fields;
        return (fields.KnownFieldsSeen & BodyOrExpectFields) == 0
            ? ApplyWithoutBody(head, fields, source, out error)
            : ApplyAll(head, fields, out error);
    }

    // The common request (no Content-Length, Transfer-Encoding or Expect): Host and Connection found by
    // the indexes the field table recorded while parsing, no scan. The rules are those of ApplyAll.
    private static bool ApplyWithoutBody(RequestHead head, FieldTable fields, ReadOnlySpan<byte> source, out HttpError error)
    {
        error = default;
        int hostIndex = fields.FirstIndexOf(KnownField.Host);
        if (hostIndex >= 0 && fields.IsRepeated(KnownField.Host))
        {
            error = HttpError.BadRequest("more than one Host field");
            return false;
        }
        if (hostIndex < 0 && head.Version == HttpVersion.Http11)
        {
            error = HttpError.BadRequest("missing Host field");
            return false;
        }
        if (hostIndex >= 0)
        {
            ref readonly FieldTable.Entry host = ref fields.RecordedEntry(hostIndex);
            if (host.ValueLength == 0 && !head.EmptyHostAllowed)
            {
                error = HttpError.BadRequest(EmptyHost);
                return false;
            }
            if (!HostSyntax.IsValidHostField(source, host.ValueStart, source.Slice(host.ValueStart, host.ValueLength)))
            {
                error = HttpError.BadRequest("invalid Host field");
                return false;
            }
        }
        bool connectionClose = false, connectionKeepAlive = false;
        int connectionIndex = fields.FirstIndexOf(KnownField.Connection);
        if (connectionIndex >= 0)
        {
            ref readonly FieldTable.Entry connection = ref fields.RecordedEntry(connectionIndex);
            ScanConnectionOptions(source.Slice(connection.ValueStart, connection.ValueLength), ref connectionClose, ref connectionKeepAlive);
            if (fields.IsRepeated(KnownField.Connection))
            {
                for (int i = fields.IndexOf(KnownField.Connection, connectionIndex + 1); i >= 0; i = fields.IndexOf(KnownField.Connection, i + 1))
                {
                    ScanConnectionOptions(fields.ValueAt(source, i), ref connectionClose, ref connectionKeepAlive);
                }
            }
        }
        head.Framing = BodyFraming.None;
        head.KeepAlive = head.Version == HttpVersion.Http11 ? !connectionClose : connectionKeepAlive && !connectionClose;
        return true;
    }

    private static bool ApplyAll(RequestHead head, FieldTable fields, out HttpError error)
    {
        error = default;
        int hostCount = 0, hostIndex = -1;
        bool hasContentLength = false, hasTransferEncoding = false;
        long contentLength = -1;
        bool connectionClose = false, connectionKeepAlive = false;
        bool chunked = false;

        for (int i = 0; i < fields.Count; i++)
        {
            switch (fields.KnownAt(i))
            {
                case KnownField.Host:
                    hostCount++;
                    hostIndex = i;
                    break;
                case KnownField.ContentLength:
                    // RFC 9110 §8.6: a list or repeated field of identical values MAY be taken as one value
                    // or rejected; we reject, so no front end that reads it otherwise can be desynchronised.
                    if (hasContentLength)
                    {
                        error = HttpError.BadRequest("more than one Content-Length field");
                        return false;
                    }
                    if (!HttpSyntax.TryParseDecimal(fields.ValueAt(i), out contentLength))
                    {
                        error = HttpError.BadRequest(fields.ValueAt(i).Contains((byte)',') ? "Content-Length is a list" : "invalid Content-Length");
                        return false;
                    }
                    hasContentLength = true;
                    break;
                case KnownField.TransferEncoding:
                    hasTransferEncoding = true;
                    break;
                case KnownField.Connection:
                    ScanConnectionOptions(fields.ValueAt(i), ref connectionClose, ref connectionKeepAlive);
                    break;
                case KnownField.Expect:
                    // RFC 9110 §10.1.1: 100-continue is the only expectation defined; a server MAY answer 417 to others.
                    if (!System.Text.Ascii.EqualsIgnoreCase(fields.ValueAt(i), "100-continue"u8))
                    {
                        error = new HttpError(417, "unsupported expectation");
                        return false;
                    }
                    head.ExpectContinue = head.Version == HttpVersion.Http11;
                    break;
            }
        }

        // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request that lacks Host, that has more
        // than one Host line, or whose Host value is invalid.
        if (hostCount > 1)
        {
            error = HttpError.BadRequest("more than one Host field");
            return false;
        }
        if (hostCount == 0 && head.Version == HttpVersion.Http11)
        {
            error = HttpError.BadRequest("missing Host field");
            return false;
        }
        if (hostIndex >= 0 && fields.ValueAt(hostIndex).IsEmpty && !head.EmptyHostAllowed)
        {
            error = HttpError.BadRequest(EmptyHost);
            return false;
        }
        if (hostIndex >= 0 && !HostSyntax.IsValidAuthority(fields.ValueAt(hostIndex), requirePort: false, allowEmpty: true))
        {
            error = HttpError.BadRequest("invalid Host field");
            return false;
        }

        if (hasTransferEncoding)
        {
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as faulty framing.
            if (head.Version == HttpVersion.Http10)
            {
                error = HttpError.BadRequest("Transfer-Encoding in an HTTP/1.0 request");
                return false;
            }
            // RFC 9112 §6.3 (3): Transfer-Encoding with Content-Length is a smuggling attempt; a server
            // MAY reject it, and we do, rather than let the two fields disagree.
            if (hasContentLength)
            {
                error = HttpError.BadRequest("both Transfer-Encoding and Content-Length");
                return false;
            }
            if (!TransferCoding.TryValidate(fields, out error)) return false;
            chunked = true;
        }

        if (chunked)
        {
            head.Framing = BodyFraming.Chunked;
        }
        else if (hasContentLength)
        {
            head.ContentLength = contentLength;
            head.Framing = contentLength > 0 ? BodyFraming.ContentLength : BodyFraming.None;
        }
        else
        {
            // RFC 9112 §6.3 (7): a request without either field has no body.
            head.Framing = BodyFraming.None;
        }

        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 persists only with "keep-alive".
        head.KeepAlive = head.Version == HttpVersion.Http11 ? !connectionClose : connectionKeepAlive && !connectionClose;
        return true;
    }

    // Connection options are case-insensitive (RFC 9110 §7.6.1): compared by words with 0x20 OR-ed into
    // the letter positions ('-' is compared exactly), as KnownFields compares names.
    private static bool IsKeepAlive(ReadOnlySpan<byte> option) =>
        option.Length == 10
        && (BinaryPrimitives.ReadUInt64LittleEndian(option) | 0x2020200020202020) == 0x696c612d7065656b // "keep-ali"
        && (BinaryPrimitives.ReadUInt16LittleEndian(option.Slice(8)) | 0x2020) == 0x6576; // "ve"

    private static bool IsClose(ReadOnlySpan<byte> option) =>
        option.Length == 5 && (BinaryPrimitives.ReadUInt32LittleEndian(option) | 0x20202020) == 0x736f6c63 && (option[4] | 0x20) == 'e'; // "clos", "e"

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScanConnectionOptions(ReadOnlySpan<byte> value, ref bool close, ref bool keepAlive)
    {
        // A single option, the usual case, needs no split.
        if (IsKeepAlive(value))
        {
            keepAlive = true;
            return;
        }
        if (IsClose(value))
        {
            close = true;
            return;
        }
        ScanConnectionList(value, ref close, ref keepAlive);
    }

    private static void ScanConnectionList(ReadOnlySpan<byte> value, ref bool close, ref bool keepAlive)
    {
        foreach (Range part in value.Split((byte)','))
        {
            ReadOnlySpan<byte> option = HttpSyntax.TrimOws(value[part]);
            if (IsClose(option)) close = true;
            else if (IsKeepAlive(option)) keepAlive = true;
        }
    }
}

using System.Buffers.Text;
using Parley.Http1;

namespace Parley.Server;

// Writing the response: buffering small bodies, choosing the framing, writing the head.
internal sealed partial class HttpConnection
{
    private enum BodyMode { Buffered, FixedLength, Chunked, CloseDelimited, Upgraded }

    private BodyMode _mode;
    private long _bodyWritten;
    private long _declaredLength;
    private int _responseStart;
    private bool _responseFlushed;
    // Set once the message is complete in the output (Content-Length reached or last chunk written).
    private bool _responseEnded;
    // The Date line a head preview showed; the head is then written with it, not with the clock's next second.
    private byte[]? _previewedDate;

    /// <summary>True once the response head is in the output buffer.</summary>
    internal bool ResponseHeadWritten { get; private set; }

    private bool IsHeadRequest => ReferenceEquals(_head.Method, HttpMethods.Head);

    private void ResetResponseState()
    {
        ResponseHeadWritten = false;
        _mode = BodyMode.Buffered;
        _bodyWritten = 0;
        _declaredLength = -1;
        _responseStart = _output.Length;
        _responseFlushed = false;
        _responseEnded = false;
        _previewedDate = null;
        _exchange!.BodyBuffer?.Clear();
    }

    // Forgets everything the current response wrote, as long as none of it has been sent.
    private void DiscardResponse()
    {
        _output.Truncate(_responseStart);
        bool keepAlive = _keepAlive;
        _response.Reset();
        ResetResponseState();
        _keepAlive = keepAlive;
    }

    internal void WriteResponseBody(ReadOnlySpan<byte> bytes)
    {
        SettleDeferredFlush();
        AppendBody(bytes);
        // A synchronous writer of a large body gets a blocking send rather than an unbounded buffer.
        if (_output.Length >= 4 * _options.ResponseBufferSize) FlushOutputSync();
    }

    internal async ValueTask WriteResponseBodyAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await SettleDeferredFlushAsync(cancellationToken).ConfigureAwait(false);
        AppendBody(bytes.Span);
        if (_output.Length >= _options.ResponseBufferSize) await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the response if needed and sends what is buffered. Asked for inside the handler's synchronous
    /// call, the send waits until the call returns (see HttpConnection.DeferredFlush.cs), unless
    /// <paramref name="now"/> (a synchronous flush, after which the caller may block).
    /// </summary>
    internal async ValueTask FlushResponseAsync(CancellationToken cancellationToken, bool now = false)
    {
        if (!ResponseHeadWritten) StartStreaming();
        if (!now && InHandlerCall)
        {
            _deferredFlush = FlushDeferred;
            return;
        }
        await SettleDeferredFlushAsync(cancellationToken).ConfigureAwait(false);
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
    }

    private void AppendBody(ReadOnlySpan<byte> bytes)
    {
        if (StatusCodes.ForbidsBody(_response.StatusCode))
        {
            if (bytes.IsEmpty) return;
            throw new InvalidOperationException($"a {_response.StatusCode} response has no body (RFC 9110 §6.4.1)");
        }
        if (IsHeadRequest)
        {
            // RFC 9110 §9.3.2: HEAD gets the GET head without the body; count it for Content-Length.
            _bodyWritten += bytes.Length;
            return;
        }
        if (!ResponseHeadWritten)
        {
            // With the length known and the request fully read, whether the connection stays open is
            // settled, so the head can go out now and the body straight after it, uncopied.
            if (_response.ContentLength is long length && _bodyComplete)
            {
                WriteHead(BodyMode.FixedLength, length);
            }
            else
            {
                ByteBuffer pending = _exchange!.BodyBuffer ??= new ByteBuffer(0);
                if (pending.Length + bytes.Length <= _options.ResponseBufferSize)
                {
                    pending.Write(bytes);
                    _bodyWritten += bytes.Length;
                    return;
                }
                StartStreaming();
            }
        }
        WriteBodyBytes(bytes);
    }

    // Commits the head for a body of unknown length and moves the buffered part of the body out.
    private void StartStreaming()
    {
        if (ResponseHeadWritten || IsHeadRequest || StatusCodes.ForbidsBody(_response.StatusCode)) return;
        if (_response.ContentLength is long length)
        {
            WriteHead(BodyMode.FixedLength, length);
        }
        else if (_head.Version == HttpVersion.Http11)
        {
            WriteHead(BodyMode.Chunked, -1);
        }
        else
        {
            // RFC 9112 §6.3 (8): an HTTP/1.0 client reads a body of unknown length until the close.
            _keepAlive = false;
            WriteHead(BodyMode.CloseDelimited, -1);
        }
        if (_exchange!.BodyBuffer is { Length: > 0 } buffered)
        {
            _bodyWritten -= buffered.Length;
            WriteBodyBytes(buffered.WrittenSpan);
            buffered.Clear();
        }
    }

    private void WriteBodyBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        switch (_mode)
        {
            case BodyMode.FixedLength:
                if (_bodyWritten + bytes.Length > _declaredLength)
                {
                    throw new InvalidOperationException($"response body exceeds its Content-Length of {_declaredLength}");
                }
                _output.Write(bytes);
                break;
            case BodyMode.Chunked:
                MessageWriter.WriteChunkHeader(_output, bytes.Length);
                _output.Write(bytes);
                MessageWriter.WriteChunkTrailer(_output);
                break;
            default:
                _output.Write(bytes);
                break;
        }
        _bodyWritten += bytes.Length;
    }

    /// <summary>
    /// Why trailer fields set now could not be sent, or null when they could: they travel only in the
    /// trailer section of a chunked body (RFC 9112 §7.1.2).
    /// </summary>
    internal string? TrailersRefusal()
    {
        if (_head.Version != HttpVersion.Http11) return "the request is HTTP/1.0, which has no chunked coding (RFC 9112 §7.1)";
        if (IsHeadRequest) return "a response to HEAD has no body (RFC 9110 §9.3.2)";
        if (_responseEnded) return "the response has ended";
        if (StatusCodes.ForbidsBody(_response.StatusCode)) return $"a {_response.StatusCode} response has no body (RFC 9110 §6.4.1)";
        if (ResponseHeadWritten) return _mode == BodyMode.Chunked ? null : "the response started without chunked coding";
        return _response.ContentLength is null ? null : "it has a Content-Length; trailers need chunked coding (RFC 9112 §7.1.2)";
    }

    /// <summary>Completes the response after the handler returned. False when its framing cannot be honoured.</summary>
    private bool FinishResponse()
    {
        _responseEnded = true;
        // Trailers need the chunked coding, even for a body small enough to go with a Content-Length.
        if (!ResponseHeadWritten && _response.HasTrailerFields) StartStreaming();
        if (!ResponseHeadWritten)
        {
            bool bodyless = StatusCodes.ForbidsBody(_response.StatusCode);
            long length = _response.ContentLength ?? _bodyWritten;
            if (IsHeadRequest || bodyless)
            {
                WriteHead(BodyMode.FixedLength, bodyless && _response.ContentLength is null ? -1 : length);
                return true;
            }
            if (_response.ContentLength is long declared && declared != _bodyWritten) return false;
            WriteHead(BodyMode.FixedLength, length);
            if (_exchange!.BodyBuffer is { Length: > 0 } buffered)
            {
                _output.Write(buffered.WrittenSpan);
                buffered.Clear();
            }
            return true;
        }
        switch (_mode)
        {
            case BodyMode.Chunked:
                // In the same output as the last data chunk, so both leave in one send.
                if (_response.HasTrailerFields) MessageWriter.WriteLastChunk(_output, _response.TrailerLines);
                else MessageWriter.WriteLastChunk(_output);
                return true;
            case BodyMode.FixedLength:
                return IsHeadRequest || _bodyWritten == _declaredLength;
            default:
                return true;
        }
    }

    // The longest framing a head can have after its fields (Keep-Alive's prefix aside): a Content-Length of
    // 19 digits, "Connection: keep-alive", ", max=" with 10 digits and the CRLFs.
    private const int MaxFramingBytes = 128;

    private static void Append(Span<byte> span, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        at += bytes.Length;
    }

    private static void AppendDecimal(Span<byte> span, ref int at, long value)
    {
        Utf8Formatter.TryFormat(value, span[at..], out int written);
        at += written;
    }

    /// <summary>
    /// The head <see cref="WriteHead"/> will write for a body of <paramref name="contentLength"/> bytes, as
    /// Latin-1 text. Fixes the Date line and whether the connection stays open for this response, so the
    /// head sent is the one shown as long as the handler changes no status, field or length afterwards.
    /// </summary>
    internal string PreviewHead(long contentLength)
    {
        if (ResponseHeadWritten) throw new InvalidOperationException("the response head has already been written");
        if (_previewedDate is null)
        {
            _previewedDate = DateField.CurrentLine.ToArray();
            if (_server.IsStopping) _keepAlive = false;
            // An unread request body ends the connection after the response (or is drained first, which
            // the preview cannot foresee): settle it now so that the head shown says so.
            if (!_bodyComplete) _keepAlive = false;
        }
        // As FinishResponse: no Content-Length on a 1xx, 204 or 304 unless the handler declared one.
        long length = StatusCodes.ForbidsBody(_response.StatusCode) && _response.ContentLength is null ? -1 : contentLength;
        ReadOnlySpan<byte> fields = _response.Headers.EncodedFieldLines();
        byte[] head = new byte[HeadCapacity(_previewedDate, fields)];
        int written = ComposeHead(head, _previewedDate, fields, BodyMode.FixedLength, length);
        return System.Text.Encoding.Latin1.GetString(head, 0, written);
    }

    private void WriteHead(BodyMode mode, long contentLength)
    {
        // After a preview the stop check was made there: the head must stay the one shown.
        if (_previewedDate is null && _server.IsStopping) _keepAlive = false;
        ReadOnlySpan<byte> date = _previewedDate is { } previewed ? previewed : DateField.CurrentLine;
        ReadOnlySpan<byte> fields = _response.Headers.EncodedFieldLines();
        // One reservation for the whole head.
        Span<byte> span = _output.GetSpan(HeadCapacity(date, fields));
        int at = ComposeHead(span, date, fields, mode, contentLength);
        _output.Advance(at);

        _mode = mode;
        _declaredLength = contentLength;
        ResponseHeadWritten = true;
        _response.Headers.MakeReadOnly();
    }

    // The framing lines after the handler's fields take at most MaxFramingBytes besides the Keep-Alive prefix.
    private int HeadCapacity(ReadOnlySpan<byte> date, ReadOnlySpan<byte> fields) =>
        StatusCodes.StatusLine(_response.StatusCode).Length + date.Length + (_server.ServerFieldLine?.Length ?? 0) +
        fields.Length + StrictTransportSecurityLine.Length + _server.KeepAliveFieldPrefix.Length + MaxFramingBytes;

    // RFC 6797 §7.2: over TLS only, never over plain HTTP; a field the handler set wins.
    private ReadOnlySpan<byte> StrictTransportSecurityLine =>
        _tls is not null && _server.StrictTransportSecurityFieldLine is { } line && !_response.Headers.Contains("Strict-Transport-Security") ? line : default;

    // Writes the status line, Date, Server, the handler's fields, the framing and the connection fields, and
    // the blank line; settles whether the connection stays open. Returns the bytes written.
    private int ComposeHead(Span<byte> span, ReadOnlySpan<byte> date, ReadOnlySpan<byte> fields, BodyMode mode, long contentLength)
    {
        int status = _response.StatusCode;
        int maxRequests = _options.MaxRequestsPerConnection;
        if (maxRequests > 0 && RequestCount >= maxRequests) _keepAlive = false;
        if (_response.CloseConnection) _keepAlive = false;

        ReadOnlySpan<byte> server = _server.ServerFieldLine;
        ReadOnlySpan<byte> keepAlivePrefix = _server.KeepAliveFieldPrefix;
        ReadOnlySpan<byte> hsts = StrictTransportSecurityLine;
        int at = 0;
        Append(span, ref at, StatusCodes.StatusLine(status));
        Append(span, ref at, date);
        Append(span, ref at, server);
        Append(span, ref at, fields);
        Append(span, ref at, hsts);
        if (mode == BodyMode.Chunked)
        {
            Append(span, ref at, "Transfer-Encoding: chunked\r\n"u8);
        }
        else if (mode == BodyMode.FixedLength && contentLength >= 0 && status is not (< 200 or 204))
        {
            // RFC 9110 §8.6: never a Content-Length on 1xx or 204 responses.
            Append(span, ref at, "Content-Length: "u8);
            AppendDecimal(span, ref at, contentLength);
            Append(span, ref at, "\r\n"u8);
        }
        if (mode == BodyMode.Upgraded)
        {
            // RFC 9110 §7.8: the 101 names the new protocol in Upgrade (among the handler's fields).
            Append(span, ref at, "Connection: upgrade\r\n"u8);
        }
        else if (!_keepAlive)
        {
            Append(span, ref at, "Connection: close\r\n"u8);
        }
        else
        {
            // RFC 9112 §9.3: an HTTP/1.0 client keeps the connection only when told so.
            if (_head.Version == HttpVersion.Http10) Append(span, ref at, "Connection: keep-alive\r\n"u8);
            Append(span, ref at, keepAlivePrefix);
            if (maxRequests > 0)
            {
                Append(span, ref at, ", max="u8);
                AppendDecimal(span, ref at, maxRequests - RequestCount);
            }
            Append(span, ref at, "\r\n"u8);
        }
        Append(span, ref at, "\r\n"u8);
        return at;
    }
}

using System.Runtime.CompilerServices;
using Parley.Http1;

namespace Parley.Client;

/// <summary>The response side: framing, keep-alive, and the body readers (length, chunked, until close).</summary>
internal sealed partial class ClientConnection
{
    private readonly ChunkedDecoder _chunked = new();
    private bool _requestWasHead;
    private BodyFraming _framing;
    private long _remaining;
    private long _bodyBytes;
    private int _pendingStart;
    private int _pendingEnd;
    private ParleyResponse? _response;

    /// <summary>Decides framing and persistence, and builds the response (inline body or streaming).</summary>
    private ParleyResponse StartResponse(ResponseHead head, ParleyRequest request)
    {
        int headLength = head.HeadLength;
        Raise(new SessionEvent { Kind = SessionEventKind.ResponseHeadReceived, StatusCode = head.StatusCode, Bytes = _buffer.AsMemory(_start, headLength) }, _observer);
        if (head.StatusCode == 101) return SwitchProtocols(head, request);
        if (!ResponseHeadParser.TryGetFraming(head, _requestWasHead, out BodyFraming framing, out long contentLength, out HttpError error))
        {
            throw Malformed(error.Reason, "");
        }
        DecidePersistence(head);
        int available = _end - _start - headLength;
        ParleyResponse response;
        if (framing == BodyFraming.None || (framing == BodyFraming.ContentLength && contentLength <= available && contentLength <= InlineBodyLimit))
        {
            // The whole message is here: one copy for head and body, and the connection is free at once.
            int bodyLength = framing == BodyFraming.None ? 0 : (int)contentLength;
            byte[] copy = _buffer.AsSpan(_start, headLength + bodyLength).ToArray();
            _start += headLength + bodyLength;
            response = new ParleyResponse(head, copy, request.Uri, bodyLength, contentLength < 0 ? 0 : contentLength);
            _framing = BodyFraming.None;
            _bodyBytes = bodyLength;
            FinishBody();
            return response;
        }

        byte[] headCopy = _buffer.AsSpan(_start, headLength).ToArray();
        _start += headLength;
        _framing = framing;
        _remaining = contentLength;
        _bodyBytes = 0;
        _pendingStart = _pendingEnd = 0;
        if (framing == BodyFraming.Chunked) _chunked.Reset();
        response = new ParleyResponse(head, headCopy, request.Uri, this, framing == BodyFraming.ContentLength ? contentLength : null);
        _response = response;
        return response;
    }

    /// <summary>
    /// RFC 9110 §7.8: after a 101 the connection speaks the new protocol "immediately after the empty line";
    /// it never goes back to the pool, and the response's body is the connection both ways (bytes that came
    /// with the head first), closed when that stream is disposed.
    /// </summary>
    private ParleyResponse SwitchProtocols(ResponseHead head, ParleyRequest request)
    {
        int headLength = head.HeadLength;
        byte[] headCopy = _buffer.AsSpan(_start, headLength).ToArray();
        byte[] early = _buffer.AsSpan(_start + headLength, _end - _start - headLength).ToArray();
        _start = _end = 0;
        _persistent = false;
        return new ParleyResponse(head, headCopy, request.Uri, new UpgradedConnectionStream(this, _transport, early));
    }

    /// <summary>Ends an upgraded connection: pending operations end, then the socket closes and its slot is free.</summary>
    internal void CloseUpgraded()
    {
        Abort(AbortDisposed);
        Close();
    }

    /// <summary>RFC 9112 §9.3: whether the connection persists after this response, and for how long idle.</summary>
    private void DecidePersistence(ResponseHead head)
    {
        FieldTable fields = head.Fields;
        bool close = false, keepAlive = false;
        for (int i = fields.IndexOf(KnownField.Connection); i >= 0; i = fields.IndexOf(KnownField.Connection, i + 1))
        {
            foreach (Range part in fields.ValueAt(i).Split((byte)','))
            {
                ReadOnlySpan<byte> option = HttpSyntax.TrimOws(fields.ValueAt(i)[part]);
                close |= System.Text.Ascii.EqualsIgnoreCase(option, "close"u8);
                keepAlive |= System.Text.Ascii.EqualsIgnoreCase(option, "keep-alive"u8);
            }
        }
        // HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive" (RFC 9112 §9.3).
        if (close || (head.Version == HttpVersion.Http10 && !keepAlive)) _persistent = false;

        long idle = (long)_options.PooledConnectionIdleTimeout.TotalMilliseconds;
        int keepAliveField = fields.IndexOf(KnownField.KeepAlive);
        if (keepAliveField >= 0)
        {
            // Keep-Alive: timeout=5, max=100 (RFC 2068 §19.7.1): leave a margin before the server's timeout.
            foreach (Range part in fields.ValueAt(keepAliveField).Split((byte)','))
            {
                ReadOnlySpan<byte> parameter = HttpSyntax.TrimOws(fields.ValueAt(keepAliveField)[part]);
                int equals = parameter.IndexOf((byte)'=');
                if (equals < 0 || !HttpSyntax.TryParseDecimal(HttpSyntax.TrimOws(parameter[(equals + 1)..]), out long value)) continue;
                ReadOnlySpan<byte> name = HttpSyntax.TrimOws(parameter[..equals]);
                if (System.Text.Ascii.EqualsIgnoreCase(name, "timeout"u8)) idle = Math.Min(idle, value * 1000 - Math.Max(250, value * 100));
                else if (System.Text.Ascii.EqualsIgnoreCase(name, "max"u8)) _requestsLeft = (int)Math.Min(value, int.MaxValue);
            }
        }
        _idleMilliseconds = idle;
    }

    private long _idleMilliseconds;

    /// <summary>
    /// Reads body bytes into <paramref name="destination"/>; 0 at the end of the body. The end is reached
    /// only through the framing (never by trusting a close when a length was promised).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty) return 0;
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((ClientConnection)state!).Abort(AbortCanceled), this)
            : default;
        try
        {
            while (true)
            {
                if (TryReadBuffered(destination.Span, out int copied, out bool done))
                {
                    if (done) FinishBody();
                    return copied;
                }
                Arm(_options.BodyIdleTimeout, "waiting for response body bytes from");
                int received;
                if (_framing != BodyFraming.Chunked && _start == _end && destination.Length >= 8 * 1024)
                {
                    // Large reads go straight from the socket to the caller: no copy for big downloads.
                    Memory<byte> direct = _framing == BodyFraming.ContentLength && _remaining < destination.Length
                        ? destination[..(int)_remaining] : destination;
                    received = await _transport.ReceiveAsync(direct).ConfigureAwait(false);
                    Disarm();
                    if (received > 0)
                    {
                        _bodyBytes += received;
                        if (_framing == BodyFraming.ContentLength && (_remaining -= received) == 0) FinishBody();
                        return received;
                    }
                }
                else
                {
                    received = await ReceiveAsync().ConfigureAwait(false);
                    Disarm();
                }
                if (received == 0)
                {
                    if (_framing == BodyFraming.UntilClose)
                    {
                        // RFC 9112 §6.3 (8): the close is the end of this body; the connection is finished.
                        _persistent = false;
                        FinishBody();
                        return 0;
                    }
                    throw _framing == BodyFraming.ContentLength
                        ? Malformed($"response body truncated: connection closed after {_bodyBytes} of {_bodyBytes + _remaining} bytes", "")
                        : Malformed($"chunked response body truncated: connection closed after {_chunked.TotalDataLength} bytes of data", "");
                }
            }
        }
        catch (Exception ex)
        {
            Close();
            Exception translated = Translate(ex, cancellationToken);
            if (translated is ParleyHttpException { Kind: ParleyErrorKind.ConnectionClosed } closed)
            {
                throw new ParleyHttpException(ParleyErrorKind.MalformedResponse,
                    $"response body from {RemoteText} cut off after {_bodyBytes} bytes: {closed.InnerException?.Message}", ex);
            }
            throw translated;
        }
        finally
        {
            registration.Dispose();
        }
    }

    /// <summary>Serves the body from bytes already received. False when more must be received first.</summary>
    private bool TryReadBuffered(Span<byte> destination, out int copied, out bool done)
    {
        copied = 0;
        done = false;
        switch (_framing)
        {
            case BodyFraming.ContentLength:
            {
                if (_remaining == 0)
                {
                    done = true;
                    return true;
                }
                int available = _end - _start;
                if (available == 0) return false;
                copied = (int)Math.Min(Math.Min(available, _remaining), destination.Length);
                _buffer.AsSpan(_start, copied).CopyTo(destination);
                _start += copied;
                _remaining -= copied;
                _bodyBytes += copied;
                done = _remaining == 0;
                return true;
            }
            case BodyFraming.UntilClose:
            {
                int available = _end - _start;
                if (available == 0) return false;
                copied = Math.Min(available, destination.Length);
                _buffer.AsSpan(_start, copied).CopyTo(destination);
                _start += copied;
                _bodyBytes += copied;
                return true;
            }
            case BodyFraming.Chunked:
            {
                while (true)
                {
                    if (_pendingEnd > _pendingStart)
                    {
                        copied = Math.Min(_pendingEnd - _pendingStart, destination.Length);
                        _buffer.AsSpan(_pendingStart, copied).CopyTo(destination);
                        _pendingStart += copied;
                        return true;
                    }
                    if (_chunked.IsComplete)
                    {
                        done = true;
                        return true;
                    }
                    int start = _start;
                    ParseStatus status = _chunked.Decode(_buffer.AsSpan(start, _end - start), out int consumed, out int dataStart, out int dataLength, out HttpError error);
                    if (status == ParseStatus.Invalid)
                    {
                        throw Malformed($"invalid chunked body: {error.Reason}", Printable(_buffer.AsSpan(start, Math.Min(_end - start, 40))));
                    }
                    _start = start + consumed;
                    _bodyBytes += consumed;
                    if (status == ParseStatus.NeedMoreData) return false;
                    // Decoded data lies inside the consumed range; hand it out before decoding further.
                    _pendingStart = start + dataStart;
                    _pendingEnd = start + dataStart + dataLength;
                }
            }
            default:
                done = true;
                return true;
        }
    }

    /// <summary>The body ended cleanly: hand over trailers, then back to the pool if the connection may persist.</summary>
    private void FinishBody()
    {
        ParleyResponse? response = _response;
        _response = null;
        if (response is not null) response.OnBodyComplete(_framing == BodyFraming.Chunked ? _chunked.Trailers : null);
        Raise(new SessionEvent { Kind = SessionEventKind.ResponseBodyDone, Size = _bodyBytes }, _observer);
        _observer = null;
        Disarm();
        // Bytes after the end of the response were never asked for: the stream is out of step, so close.
        if (!_persistent || _start != _end || _requestsLeft <= 0 || _idleMilliseconds <= 0)
        {
            Close();
            return;
        }
        _start = _end = 0;
        IdleExpires = Environment.TickCount64 + _idleMilliseconds;
        // Idle first, slot second: a renter woken by the slot must find this connection idle, or it
        // opens one more than MaxConnectionsPerOrigin. Once idle, another renter may take the connection
        // (and a slot of its own), so the flag is cleared before the connection is shared.
        bool heldSlot = _holdsSlot;
        _holdsSlot = false;
        MarkIdle();
        Owner.Return(this);
        if (heldSlot) Owner.Slots.Release();
    }

    /// <summary>
    /// The caller is done with a response before its end: finish it from buffered bytes if they hold the
    /// rest, otherwise close (reading an unknown amount just to keep a connection is not worth a hang).
    /// </summary>
    public void AbandonBody(ParleyResponse response)
    {
        if (!ReferenceEquals(_response, response) || IsClosed) return;
        try
        {
            Span<byte> sink = stackalloc byte[512];
            while (TryReadBuffered(sink, out int copied, out bool done))
            {
                if (done)
                {
                    FinishBody();
                    return;
                }
                if (copied == 0) break;
            }
        }
        catch (ParleyHttpException)
        {
        }
        _response = null;
        Close();
    }
}

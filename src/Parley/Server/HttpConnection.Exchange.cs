using System.Runtime.CompilerServices;
using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Parley.Http1;

namespace Parley.Server;

// One request/response exchange: running the handler, reading the request body.
internal sealed partial class HttpConnection
{
    private const int MaxDrainBytes = 64 * 1024;

    private long _bodyRemaining;
    private bool _bodyComplete;
    private bool _continueSent;
    private bool _framingBroken;
    private int _chunkDataPos, _chunkDataLength;
    private bool _keepAlive;
    private long _bodyStartTicks;

    /// <summary>Handles the parsed request. False when the connection must close afterwards.</summary>
    // A handler that completes at once, on a connection that stays open, takes this path without a state
    // machine; the others go on in AwaitHandlerAsync and EndExchangeAsync.
    private ValueTask<bool> ProcessRequestAsync()
    {
        // The start time is only for the access log; without one, no clock read per request.
        long started = _options.AccessLog is null && _options.AccessLogWriter is null ? 0 : Stopwatch.GetTimestamp();
        _request.Reset();
        _response.Reset();
        ResetResponseState();
        ResetRequestAborted();
        _bodyPos = _start + _head.HeadLength;
        _continueSent = false;
        _framingBroken = false;
        _bodyStartTicks = 0;
        _chunkDataLength = 0;
        _keepAlive = _head.KeepAlive;
        BeginTelemetry();
        switch (_head.Framing)
        {
            case BodyFraming.ContentLength:
                _bodyRemaining = _head.ContentLength;
                _bodyComplete = false;
                if (_head.ContentLength > _options.MaxRequestBodySize)
                {
                    // RFC 9110 §15.5.14: 413; we will not read the body, so the connection must close.
                    EndTelemetry(413);
                    return RejectBodyAsync();
                }
                break;
            case BodyFraming.Chunked:
                ChunkedDecoder chunked = _exchange!.Chunked ??= new ChunkedDecoder();
                chunked.Reset();
                chunked.MaxBodySize = _options.MaxRequestBodySize;
                chunked.MaxTrailerBytes = _options.HeadLimits.MaxHeadBytes;
                chunked.MaxTrailerFields = _options.HeadLimits.MaxFieldCount;
                _bodyComplete = false;
                break;
            default:
                _bodyComplete = true;
                break;
        }

        ValueTask handled;
        _inHandler = true;
        BeginHandlerCall();
        try
        {
            handled = _handler(_request, _response);
        }
        catch (Exception ex)
        {
            if (IsDisconnect(ex))
            {
                EndHandlerCall(sendWithResponse: true);
                throw;
            }
            // Settled as a failed asynchronous handler is, after what it flushed has been sent.
            handled = ValueTask.FromException(ex);
        }
        EndHandlerCall(sendWithResponse: handled.IsCompletedSuccessfully);
        LeaveActivity();
        if (!handled.IsCompletedSuccessfully) return AwaitHandlerAsync(handled, started);
        _inHandler = false;
        handled.GetAwaiter().GetResult();
        return CompleteExchange(started);
    }

    private async ValueTask<bool> RejectBodyAsync()
    {
        await SendErrorAndCloseAsync(413, "request body too large").ConfigureAwait(false);
        return false;
    }

    // Pooled: a handler that goes asynchronous does so on every request, and this state machine must not be
    // a per-request allocation.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AwaitHandlerAsync(ValueTask handled, long started)
    {
        Exception? failure = null;
        try
        {
            await handled.ConfigureAwait(false);
        }
        catch (Exception ex) when (!IsDisconnect(ex))
        {
            failure = ex;
        }
        finally
        {
            _inHandler = false;
        }
        // A flush the connection sent for the handler (EndHandlerCall) ends before the response is settled.
        if (Volatile.Read(ref _deferredFlush) != NoDeferredFlush) await SettleDeferredFlushAsync(default).ConfigureAwait(false);
        if (failure is not null && !RecoverFromHandlerFailure(failure))
        {
            EndTelemetry(0);
            return false;
        }
        return await CompleteExchange(started).ConfigureAwait(false);
    }

    // After the handler: settles the unread body and the response's framing, and whether the connection stays open.
    private ValueTask<bool> CompleteExchange(long started)
    {
        StopPeerWatch();
        if (_upgraded is { } upgraded && !_handlerAborted) return FinishUpgradedAsync(upgraded, started);
        // The handler abandoned the response (HttpResponse.Abort): the connection is already shut.
        if (_handlerAborted)
        {
            _server.Status.Count(FailureKind.HandlerAborted);
            _failure = "aborted";
            EndTelemetry(0);
            return new(false);
        }
        if (!_bodyComplete) ConsumeBufferedBody();
        bool drainLater = false;
        if (!_bodyComplete)
        {
            // Unread request body: skip a small remainder, otherwise close rather than read a large
            // upload nobody wants. Without a 100 Continue the client may never send it (RFC 9110 §10.1.1).
            bool expectUnanswered = _head.ExpectContinue && !_continueSent;
            drainLater = !_framingBroken && !expectUnanswered && _head.Framing == BodyFraming.ContentLength && _bodyRemaining <= MaxDrainBytes;
            if (!drainLater) _keepAlive = false;
        }
        if (_framingBroken) _keepAlive = false;

        if (!FinishResponse())
        {
            // The handler promised a Content-Length it did not deliver. If none of the response is on the
            // wire yet, answer 500 instead (keeping the responses batched before it); otherwise the client
            // cannot tell where the response ends, and the only honest signal left is closing the connection.
            LogRequestError($"{_request.Method} {_request.Target}: response body shorter than its Content-Length; connection closed", null);
            if (_responseFlushed) return new(false);
            DiscardResponse();
            _keepAlive = false;
            _response.StatusCode = 500;
            _response.WriteText("500 Internal Server Error\n");
            FinishResponse();
        }
        LogAccess(_response.StatusCode, _bodyWritten, started, rawTarget: false);
        EndTelemetry(_response.StatusCode);
        if (_response.StatusCode >= 500) _server.Status.CountStatus(_response.StatusCode);

        if (drainLater || !_keepAlive) return EndExchangeAsync(drainLater);
        _start = _bodyPos;
        return new(true);
    }

    // Pooled: a body drained on a kept connection may go asynchronous on every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> EndExchangeAsync(bool drainLater)
    {
        if (drainLater && !await DrainBodyAsync().ConfigureAwait(false)) _keepAlive = false;
        if (!_keepAlive)
        {
            await FlushOutputAsync(default).ConfigureAwait(false);
            if (!ClientEndsCleanly()) await CloseGracefullyAsync().ConfigureAwait(false);
            return false;
        }
        _start = _bodyPos;
        return true;
    }

    /// <summary>
    /// True when closing at once cannot cost the client its response: the client itself asked for the
    /// close, so it sends nothing after this request (RFC 9112 §9.6: a client that sends "close" MUST NOT
    /// send further requests), and every byte it sent is read, so close(2) sends a FIN, not a reset. The
    /// lingering close (half-close, then discard for a moment) is for the other cases.
    /// </summary>
    private bool ClientEndsCleanly() => !_head.KeepAlive && _bodyComplete && !_framingBroken && _bodyPos == _end;

    private bool RecoverFromHandlerFailure(Exception ex)
    {
        NoteFailure(ex);
        int status = ex is BadRequestException bad ? bad.StatusCode : 500;
        // A 5xx is counted with the response it ends in (CompleteExchange); a client error here is the
        // engine's rejection of the body (a broken chunk, a body over the limit).
        if (status >= 500) _server.Status.Count(FailureKind.HandlerException);
        else _server.Status.CountStatus(status);
        if (status >= 500) LogRequestError($"handler failed for {_request.Method} {_request.Target}", ex);
        if (_responseFlushed) return false; // bytes of the failed response are already on the wire
        DiscardResponse();
        _response.StatusCode = status;
        string reason = StatusCodes.ReasonPhrase(status);
        // Never show exception details of a server failure; a client error's message is meant for the client.
        _response.WriteText(status >= 500 ? $"{status} {reason}\n" : $"{status} {reason}: {ex.Message}\n");
        return true;
    }

    private void LogAccess(int statusCode, long bodyBytes, long startedTimestamp, bool rawTarget)
    {
        if (_options.AccessLogWriter is { } writer) WriteAccessLine(writer, statusCode, bodyBytes, startedTimestamp, rawTarget);
        Action<AccessLogEntry>? log = _options.AccessLog;
        if (log is null) return;
        string method = rawTarget || !_head.RequestLineParsed ? "-" : _request.Method;
        string target = rawTarget || !_head.RequestLineParsed ? "-" : _request.Target;
        try
        {
            log(new AccessLogEntry(method, target, statusCode, bodyBytes, Stopwatch.GetElapsedTime(startedTimestamp), RequestCount));
        }
        catch (Exception ex)
        {
            // The response is settled but not sent yet: a failing log must not cost the client its answer.
            _options.ErrorLog.Report("the access log callback failed", ex);
        }
    }

    private void WriteAccessLine(AccessLogWriter writer, int statusCode, long bodyBytes, long startedTimestamp, bool rawTarget)
    {
        // Both clocks are read together: what the line gathers below (the fields, the forwarded client) must
        // not make the arrival look later than it was.
        TimeSpan duration = Stopwatch.GetElapsedTime(startedTimestamp);
        DateTime arrivedUtc = DateTime.UtcNow - duration;
        bool parsed = !rawTarget && _head.RequestLineParsed;
        ReadOnlySpan<byte> referer = default, userAgent = default;
        bool hasReferer = parsed && _request.Headers.TryGetRawValue("Referer", out referer);
        bool hasUserAgent = parsed && _request.Headers.TryGetRawValue("User-Agent", out userAgent);
        writer.Append(new AccessLogRecord
        {
            // The client as the request names it: behind a trusted proxy, the forwarded one (as nginx's realip
            // module logs it); a head that did not parse has only the connection's.
            Remote = (parsed ? _request.RemoteEndPoint : RemoteEndPoint)?.Address,
            ArrivedUtc = arrivedUtc,
            Method = parsed ? _head.Fields.Source.Slice(_head.MethodStart, _head.MethodLength) : default,
            Target = parsed ? _head.Target : default,
            Protocol = parsed && _head.Version == HttpVersion.Http10 ? "HTTP/1.0" : "HTTP/1.1",
            Status = statusCode,
            BodyBytes = bodyBytes,
            Duration = duration,
            HasReferer = hasReferer,
            Referer = referer,
            HasUserAgent = hasUserAgent,
            UserAgent = userAgent,
            ConnectionId = Id,
            RequestOnConnection = RequestCount,
        });
    }

    /// <summary>Reads request body bytes into <paramref name="destination"/>; 0 at the end of the body.</summary>
    // Pooled: this method goes asynchronous on every request, and its state machine must not be a per-request allocation.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> ReadRequestBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_bodyComplete)
        {
            // The handler has read the whole body; if it wants to know of the client's going away, watch now.
            if (_abortedSource is not null) WatchPeer();
            return 0;
        }
        if (destination.IsEmpty) return 0;
        await SettleDeferredFlushAsync(cancellationToken).ConfigureAwait(false);
        if (_head.ExpectContinue && !_continueSent && _bodyPos == _end) await SendContinueAsync(cancellationToken).ConfigureAwait(false);

        if (_head.Framing == BodyFraming.ContentLength)
        {
            int copied = ConsumeBufferedLengthDelimited(destination.Span);
            if (copied > 0) return copied;
            // Nothing buffered: receive straight into the caller's memory, never past the body's end.
            int wanted = (int)Math.Min(destination.Length, _bodyRemaining);
            SetPhaseUnlessClosed(Phase.ReadingBody, BodyReadDeadline());
            int received = await _transport.ReceiveAsync(destination[..wanted], cancellationToken).ConfigureAwait(false);
            if (!EnterBusy(Phase.ReadingBody)) throw new IOException("connection closed while reading the request body");
            if (received == 0) throw ClientEndedBodyEarly();
            _transport.BytesReceived += received;
            _bodyRemaining -= received;
            _bodyComplete = _bodyRemaining == 0;
            return received;
        }

        while (true)
        {
            if (_chunkDataLength > 0)
            {
                int n = Math.Min(destination.Length, _chunkDataLength);
                _buffer.AsSpan(_chunkDataPos, n).CopyTo(destination.Span);
                _chunkDataPos += n;
                _chunkDataLength -= n;
                return n;
            }
            if (DecodeChunked()) return 0;
            if (_chunkDataLength == 0) await ReceiveMoreBodyAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // Advances the chunked decoder over buffered bytes. True at the end of the body.
    private bool DecodeChunked()
    {
        ChunkedDecoder chunked = _exchange!.Chunked!;
        ParseStatus status = chunked.Decode(_buffer.AsSpan(_bodyPos, _end - _bodyPos), out int consumed, out int dataStart, out int dataLength, out HttpError error);
        if (status == ParseStatus.Invalid)
        {
            _framingBroken = true;
            throw new BadRequestException(error.StatusCode, error.Reason);
        }
        int position = _bodyPos;
        _bodyPos += consumed;
        if (status == ParseStatus.NeedMoreData) return false;
        if (chunked.IsComplete)
        {
            _bodyComplete = true;
            return true;
        }
        _chunkDataPos = position + dataStart;
        _chunkDataLength = dataLength;
        return false;
    }

    private int ConsumeBufferedLengthDelimited(Span<byte> destination)
    {
        int buffered = _end - _bodyPos;
        if (buffered == 0) return 0;
        int n = (int)Math.Min(Math.Min(destination.Length, buffered), _bodyRemaining);
        _buffer.AsSpan(_bodyPos, n).CopyTo(destination);
        _bodyPos += n;
        _bodyRemaining -= n;
        _bodyComplete = _bodyRemaining == 0;
        return n;
    }

    // Skips whatever of the unread body is already buffered (the common case for small bodies).
    private void ConsumeBufferedBody()
    {
        if (_framingBroken) return;
        if (_head.Framing == BodyFraming.ContentLength)
        {
            long n = Math.Min(_end - _bodyPos, _bodyRemaining);
            _bodyPos += (int)n;
            _bodyRemaining -= n;
            _bodyComplete = _bodyRemaining == 0;
            return;
        }
        try
        {
            while (!_bodyComplete)
            {
                _chunkDataLength = 0;
                if (DecodeChunked()) return;
                if (_chunkDataLength == 0) return; // needs more bytes than are buffered
            }
        }
        catch (BadRequestException)
        {
            // Framing is broken; the connection will close after the response.
        }
    }

    private async ValueTask<bool> DrainBodyAsync()
    {
        await FlushOutputAsync(default).ConfigureAwait(false);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            while (await ReadRequestBodyAsync(scratch, default).ConfigureAwait(false) > 0)
            {
            }
            return true;
        }
        catch (Exception ex) when (IsDisconnect(ex) || ex is BadRequestException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    // Makes room after the buffered body bytes (keeping the head in place) and receives more.
    private async ValueTask ReceiveMoreBodyAsync(CancellationToken cancellationToken)
    {
        int headEnd = _start + _head.HeadLength;
        int unconsumed = _end - _bodyPos;
        if (_bodyPos > headEnd)
        {
            _buffer.AsSpan(_bodyPos, unconsumed).CopyTo(_buffer.AsSpan(headEnd));
            _bodyPos = headEnd;
            _end = headEnd + unconsumed;
        }
        if (_end == _buffer.Length) Grow(Math.Max(_buffer.Length * 2, _head.HeadLength + ChunkedDecoder.MaxChunkLineLength * 2));
        SetPhaseUnlessClosed(Phase.ReadingBody, BodyReadDeadline());
        int received = await _transport.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (!EnterBusy(Phase.ReadingBody)) throw new IOException("connection closed while reading the request body");
        if (received == 0) throw ClientEndedBodyEarly();
        _transport.BytesReceived += received;
        _end += received;
    }

    private async ValueTask SendContinueAsync(CancellationToken cancellationToken)
    {
        _continueSent = true;
        // A 100 must precede the final response; once that head is written it is too late to send one.
        if (ResponseHeadWritten) return;
        _output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        _responseFlushed = false; // the interim response is not part of the final one
    }

    // The next body bytes are due within DataTimeout, and soon enough that the body as a whole keeps
    // MinRequestBodyDataRate after the grace period: a sender at B bytes falls below the rate at
    // start + grace + B / rate.
    private long BodyReadDeadline()
    {
        long now = Environment.TickCount64;
        long deadline = now + (long)_options.DataTimeout.TotalMilliseconds;
        if (_bodyStartTicks == 0) _bodyStartTicks = now;
        double rate = _options.MinRequestBodyDataRate;
        if (rate > 0)
        {
            long bytesSoFar = _head.Framing == BodyFraming.ContentLength
                ? _head.ContentLength - _bodyRemaining
                : _exchange!.Chunked!.TotalDataLength;
            long rateDeadline = _bodyStartTicks + (long)_options.MinDataRateGracePeriod.TotalMilliseconds + (long)(bytesSoFar * 1000 / rate);
            deadline = Math.Min(deadline, Math.Max(rateDeadline, now));
        }
        return deadline;
    }

    private IOException ClientEndedBodyEarly()
    {
        _framingBroken = true;
        return new IOException("the client closed the connection before the request body ended");
    }
}

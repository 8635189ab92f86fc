using System.Text;

namespace Parley.Server;

/// <summary>
/// The response a handler builds. Small bodies are buffered and sent with a Content-Length; a body larger
/// than <see cref="HttpServerOptions.ResponseBufferSize"/>, or a flush, starts the response with chunked
/// coding (HTTP/1.1) or close-delimited (HTTP/1.0) unless <see cref="ContentLength"/> was set. A response
/// with <see cref="Trailers"/> is always sent chunked, its trailer fields after the last chunk.
/// One instance per connection, reset between requests.
/// </summary>
public sealed class HttpResponse
{
    private int _statusCode = 200;
    private long? _contentLength;
    // Made at the first use of trailers on this exchange's responses, then reused: a response without
    // trailers never allocates it.
    private ResponseTrailers? _trailers;

    internal HttpResponse() => Body = new ResponseBodyStream(this);

    /// <summary>The connection this response goes to; set while the request is being answered.</summary>
    internal HttpConnection? Connection { get; set; }

    private HttpConnection Owner => Connection ?? throw new InvalidOperationException("this response has been sent; it cannot be used after its handler completed");

    /// <summary>The status code, 200 unless set. Fixed once the head has been written.</summary>
    public int StatusCode
    {
        get => _statusCode;
        set
        {
            CheckHeadNotWritten();
            // RFC 9110 §15.2: an informational status is not a final response; a 101 is sent by SwitchProtocolsAsync.
            if (value < 200) throw new ArgumentOutOfRangeException(nameof(value), value, "a final status is 200 to 599 (send 101 with SwitchProtocolsAsync)");
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 599);
            if (HasTrailerFields && StatusCodes.ForbidsBody(value))
            {
                throw new InvalidOperationException($"a {value} response has no body, so no trailer section (RFC 9110 §6.4.1); remove the trailers first");
            }
            _statusCode = value;
        }
    }

    /// <summary>The header fields to send.</summary>
    public ResponseHeaders Headers { get; } = new();

    /// <summary>
    /// The body length when known in advance; the engine then writes the head at the first body write
    /// and sends the body straight through. Writing more (or, at the end, less) aborts the connection.
    /// </summary>
    /// <exception cref="InvalidOperationException">The head has been written, or <see cref="Trailers"/> are
    /// set (a response with trailers is sent chunked, RFC 9112 §7.1.2).</exception>
    public long? ContentLength
    {
        get => _contentLength;
        set
        {
            CheckHeadNotWritten();
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(value));
            if (value is not null && HasTrailerFields)
            {
                throw new InvalidOperationException("a response with trailers is sent chunked and cannot have a Content-Length (RFC 9112 §7.1.2); remove the trailers first");
            }
            _contentLength = value;
        }
    }

    /// <summary>
    /// The trailer fields to send after the body (RFC 9110 §6.5), in the chunked coding's trailer section
    /// (RFC 9112 §7.1.2). Setting one makes the response chunked even when its body is small; fields may be
    /// added until the handler returns, after the last body write. They are sent whether or not the request
    /// carried <c>TE: trailers</c> (a recipient may discard them, RFC 9110 §6.5.1), so they should hold
    /// nothing the client cannot do without. A field that must not be sent in trailers (framing, routing,
    /// authentication, request modifiers, response controls, content format) is refused with an
    /// <see cref="ArgumentException"/>, and any field with an <see cref="InvalidOperationException"/> while
    /// <see cref="SupportsTrailers"/> is false.
    /// </summary>
    public ResponseTrailers Trailers => _trailers ??= new ResponseTrailers(this);

    /// <summary>
    /// True when trailer fields set now would be sent: the request is HTTP/1.1 (HTTP/1.0 has no chunked
    /// coding), not HEAD, the status allows a body (not 204 or 304), no <see cref="ContentLength"/> is set,
    /// and the response has either not started or started chunked and not ended.
    /// </summary>
    public bool SupportsTrailers => Owner.TrailersRefusal() is null;

    /// <summary>
    /// Announces a trailer field in the <c>Trailer</c> header field (RFC 9110 §6.6.2), so that the client
    /// knows before the body which fields follow it; set the field itself in <see cref="Trailers"/> later.
    /// Declaring a name twice adds it once.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a field name, or the field is not allowed in trailers (RFC 9110 §6.5.1).</exception>
    /// <exception cref="InvalidOperationException">The head has been written, or the response cannot carry trailers (<see cref="SupportsTrailers"/>).</exception>
    public void DeclareTrailer(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Http1.MessageWriter.ValidateTrailerField(name, "");
        CheckHeadNotWritten();
        CheckCanCarryTrailers();
        foreach (KeyValuePair<string, string> field in Headers)
        {
            if (field.Key.Equals("Trailer", StringComparison.OrdinalIgnoreCase) && field.Value.Equals(name, StringComparison.OrdinalIgnoreCase)) return;
        }
        Headers.Add("Trailer", name);
    }

    /// <summary>True when trailer fields are set: the response then goes chunked and ends with them.</summary>
    internal bool HasTrailerFields => _trailers is { Count: > 0 };

    /// <summary>The trailer fields to send, in order; empty when none are set.</summary>
    internal ReadOnlySpan<KeyValuePair<string, string>> TrailerLines => _trailers is { } trailers ? trailers.Lines : default;

    internal void CheckCanCarryTrailers()
    {
        if (Owner.TrailersRefusal() is { } reason) throw new InvalidOperationException($"this response cannot carry trailers: {reason}");
    }

    /// <summary>Ask the engine to close the connection after this response (sends <c>Connection: close</c>).</summary>
    public bool CloseConnection { get; set; }

    /// <summary>True once the head has been written to the connection's output; status and headers are then fixed.</summary>
    public bool HasStarted => Owner.ResponseHeadWritten;

    /// <summary>
    /// The head this response will be sent with when its body is <paramref name="contentLength"/> bytes: the
    /// status line, <c>Date</c>, <c>Server</c>, the fields set so far, <c>Content-Length</c> and the
    /// connection fields, each line ending in CRLF, then the empty line. For pages that show their own
    /// response (a demo, a debugging echo). The first call fixes this response's <c>Date</c> and whether the
    /// connection stays open (a request body not yet read to its end then closes it), so the head sent is
    /// the last one previewed as long as the status, the fields and the length do not change afterwards.
    /// </summary>
    /// <exception cref="InvalidOperationException">The head has already been written.</exception>
    public string PreviewHead(long contentLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentLength);
        return Owner.PreviewHead(contentLength);
    }

    /// <summary>The body as a stream.</summary>
    public Stream Body { get; }

    /// <summary>
    /// Appends body bytes. Once four times <see cref="HttpServerOptions.ResponseBufferSize"/> is buffered, it
    /// sends them before it returns, blocking until the client has taken them (or
    /// <see cref="HttpServerOptions.DataTimeout"/> closes the connection). On <see cref="TransportKind.Epoll"/>
    /// that holds the loop thread and every connection on it: write large bodies with <see cref="WriteAsync"/>.
    /// </summary>
    public void Write(ReadOnlySpan<byte> bytes) => Owner.WriteResponseBody(bytes);

    /// <summary>Appends body bytes, sending when the buffer is full.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        Owner.WriteResponseBodyAsync(bytes, cancellationToken);

    /// <summary>Sends what has been written so far (starting the response if needed).</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => Owner.FlushResponseAsync(cancellationToken);

    /// <summary>
    /// Sends <paramref name="length"/> bytes of <paramref name="file"/> from <paramref name="offset"/> as
    /// the next part of the body. With <see cref="ContentLength"/> set, a large region goes from the page
    /// cache to the socket without managed copies (sendfile); small regions are read into the output buffer
    /// behind the head. The handle must stay open until the returned task completes; open it with
    /// <see cref="FileOptions.Asynchronous"/> to allow the zero-copy path. A file shorter than the region
    /// ends the connection (the client cannot be told otherwise once the head is sent).
    /// </summary>
    public ValueTask SendFileAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long length, CancellationToken cancellationToken = default) =>
        Owner.SendFileAsync(file, offset, length, cancellationToken);

    /// <summary>
    /// Abandons the response: the connection is closed at once, nothing more of this response (or of
    /// responses buffered behind it) is sent, and <see cref="HttpRequest.Aborted"/> fires. For a failure
    /// after the head went out, when the client must see an incomplete response rather than a complete
    /// wrong one.
    /// </summary>
    public void Abort() => Owner.AbortFromHandler();

    /// <summary>
    /// Answers <c>101 Switching Protocols</c> to <paramref name="protocol"/> (RFC 9110 §7.8) and hands over the
    /// connection as a duplex stream: what the client sent after the request head is read first, then the
    /// connection's bytes (decrypted on TLS). The 101 carries the fields set in <see cref="Headers"/> and
    /// <c>Upgrade: protocol</c>. The engine reads and writes nothing more; the connection stays open, counted
    /// against the server's limits and free of its timeouts, until the handler has returned and the stream
    /// is disposed. A graceful stop closes it.
    /// </summary>
    /// <param name="protocol">One of the protocols the request offered in its Upgrade field, e.g. <c>websocket</c>.</param>
    /// <param name="cancellationToken">Cancels sending the 101.</param>
    /// <exception cref="InvalidOperationException">The request does not offer <paramref name="protocol"/>
    /// (see <see cref="HttpRequest.IsUpgradeRequest"/>), its body is not read to its end, or the response has
    /// already started.</exception>
    public ValueTask<Stream> SwitchProtocolsAsync(string protocol, CancellationToken cancellationToken = default) =>
        Owner.SwitchProtocolsAsync(protocol, cancellationToken);

    /// <summary>
    /// Completes a WebSocket opening handshake (RFC 6455 §4.2.2) and returns the WebSocket, run by the base
    /// library's <see cref="System.Net.WebSockets.WebSocket.CreateFromStream(Stream, System.Net.WebSockets.WebSocketCreationOptions)"/>
    /// over the switched connection: the 101 carries <c>Sec-WebSocket-Accept</c>, the chosen subprotocol and, when
    /// the client offers it and <see cref="WebSocketAcceptOptions.EnableCompression"/> is on, permessage-deflate
    /// (RFC 7692). When the request is not a valid handshake, it is answered here and the result is null: 426
    /// with <c>Upgrade: websocket</c> for a request that does not ask to upgrade to WebSocket, 426 with
    /// <c>Sec-WebSocket-Version: 13</c> for another version, 400 otherwise (not a GET, a missing or malformed
    /// key); the body names what was wrong. Dispose the WebSocket when done; a graceful stop sends it a 1001
    /// close.
    /// </summary>
    /// <exception cref="InvalidOperationException">The response has already started.</exception>
    public ValueTask<System.Net.WebSockets.WebSocket?> AcceptWebSocketAsync(WebSocketAcceptOptions? options = null, CancellationToken cancellationToken = default) =>
        Owner.AcceptWebSocketAsync(options ?? DefaultWebSocketOptions, cancellationToken);

    private static readonly WebSocketAcceptOptions DefaultWebSocketOptions = new();

    internal void SetSwitchingProtocols(string protocol)
    {
        _statusCode = 101;
        _contentLength = null;
        Headers.Set("Upgrade", protocol);
    }

    /// <summary>Sends <paramref name="text"/> as the whole body, UTF-8 encoded, with the given Content-Type.</summary>
    public void WriteText(string text, string contentType = "text/plain; charset=utf-8")
    {
        Headers.Set("Content-Type", contentType);
        int byteCount = Encoding.UTF8.GetByteCount(text);
        ContentLength = byteCount;
        if (byteCount <= 1024)
        {
            Span<byte> bytes = stackalloc byte[byteCount];
            Encoding.UTF8.GetBytes(text, bytes);
            Write(bytes);
        }
        else
        {
            Write(Encoding.UTF8.GetBytes(text));
        }
    }

    /// <summary>Sends an HTML page (<c>text/html; charset=utf-8</c>).</summary>
    public void WriteHtml(string html) => WriteText(html, "text/html; charset=utf-8");

    /// <summary>Sends a JSON document (<c>application/json</c>) given as text.</summary>
    public void WriteJson(string json) => WriteText(json, "application/json");

    /// <summary>Sends a JSON document given as UTF-8 bytes.</summary>
    public void WriteJson(ReadOnlySpan<byte> utf8Json)
    {
        Headers.Set("Content-Type", "application/json");
        ContentLength = utf8Json.Length;
        Write(utf8Json);
    }

    /// <summary>Answers with a redirect (301, 302, 303, 307 or 308) to <paramref name="location"/> and a short HTML body.</summary>
    public void Redirect(string location, int statusCode = 302)
    {
        if (statusCode is not (301 or 302 or 303 or 307 or 308)) throw new ArgumentOutOfRangeException(nameof(statusCode), "not a redirect status");
        StatusCode = statusCode;
        Headers.Set("Location", location);
        string escaped = System.Net.WebUtility.HtmlEncode(location);
        WriteHtml($"<!DOCTYPE html><title>{statusCode} {StatusCodes.ReasonPhrase(statusCode)}</title><p>Moved to <a href=\"{escaped}\">{escaped}</a>.</p>\n");
    }

    internal void Reset()
    {
        _statusCode = 200;
        _contentLength = null;
        CloseConnection = false;
        Headers.Clear();
        _trailers?.Clear();
    }

    private void CheckHeadNotWritten()
    {
        if (Owner.ResponseHeadWritten) throw new InvalidOperationException("the response head has already been written");
    }
}

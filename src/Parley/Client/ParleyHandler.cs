using System.Net;

namespace Parley.Client;

/// <summary>
/// Lets existing code run on Parley unchanged: <c>new HttpClient(new ParleyHandler())</c>. Requests and
/// responses are mapped field by field (content fields go to <see cref="HttpContent.Headers"/>), the
/// response content streams from the connection, and cancellation flows through. Failures surface as
/// <see cref="HttpRequestException"/> with the <see cref="ParleyHttpException"/> inside, as HttpClient
/// callers expect. A 101 Switching Protocols to a request that asked to upgrade comes back with the
/// connection as its content stream, readable and writable, so that
/// <c>new ClientWebSocket().ConnectAsync(uri, new HttpMessageInvoker(new ParleyHandler()), ct)</c> runs
/// WebSockets over Parley's client.
/// </summary>
public sealed class ParleyHandler : HttpMessageHandler
{
    private const int BufferedRequestLimit = 1 << 20;
    private readonly bool _ownsClient;

    /// <summary>
    /// A handler over its own <see cref="ParleyClient"/>. Without options it follows redirects, as
    /// HttpClient's default handler does.
    /// </summary>
    public ParleyHandler(ParleyClientOptions? options = null)
    {
        Client = new ParleyClient(options ?? new ParleyClientOptions { FollowRedirects = true });
        _ownsClient = true;
    }

    /// <summary>A handler over a shared client (not disposed with the handler).</summary>
    public ParleyHandler(ParleyClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
    }

    /// <summary>The client that carries the requests.</summary>
    public ParleyClient Client { get; }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Uri uri = request.RequestUri ?? throw new InvalidOperationException("the request has no RequestUri");
        // ClientWebSocket sends its opening handshake to the ws:// or wss:// URI itself (RFC 6455 §3: they
        // name the same origins as http:// and https://).
        if (uri.Scheme is "ws" or "wss") uri = new UriBuilder(uri) { Scheme = uri.Scheme == "ws" ? "http" : "https" }.Uri;
        var parleyRequest = new ParleyRequest(request.Method.Method, uri);
        foreach (KeyValuePair<string, IEnumerable<string>> field in request.Headers)
        {
            if (string.Equals(field.Key, "Expect", StringComparison.OrdinalIgnoreCase) && request.Headers.ExpectContinue == true)
            {
                parleyRequest.ExpectContinue = true;
                continue;
            }
            foreach (string value in field.Value) parleyRequest.Headers.Add(field.Key, value);
        }
        if (request.Content is { } content)
        {
            foreach (KeyValuePair<string, IEnumerable<string>> field in content.Headers)
            {
                if (string.Equals(field.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
                foreach (string value in field.Value) parleyRequest.Headers.Add(field.Key, value);
            }
            long? length = content.Headers.ContentLength;
            // Small bodies are buffered so that a retry or a 307/308 redirect can send them again.
            parleyRequest.Content = length is <= BufferedRequestLimit
                ? ParleyContent.FromBytes(await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), contentType: null)
                : ParleyContent.FromStream(await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), length, contentType: null);
        }

        ParleyResponse response;
        try
        {
            response = await Client.SendAsync(parleyRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyHttpException ex)
        {
            throw new HttpRequestException(ErrorOf(ex.Kind), ex.Message, ex);
        }

        var message = new HttpResponseMessage((HttpStatusCode)response.StatusCode)
        {
            ReasonPhrase = response.ReasonPhrase,
            Version = response.Version,
            RequestMessage = request,
        };
        request.RequestUri = response.RequestUri;
        // A 101: the content is the connection, readable and writable (ClientWebSocket runs over it).
        HttpContent body = response.StatusCode == 101 ? new UpgradedContent(response.Body) : new StreamContent(new HandlerBodyStream(response, message));
        foreach (KeyValuePair<string, string> field in response.Headers)
        {
            if (response.DecodedContentEncoding is not null
                && (string.Equals(field.Key, "Content-Encoding", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(field.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            if (!message.Headers.TryAddWithoutValidation(field.Key, field.Value))
            {
                body.Headers.TryAddWithoutValidation(field.Key, field.Value);
            }
        }
        message.Content = body;
        return message;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsClient) Client.Dispose();
        base.Dispose(disposing);
    }

    private static HttpRequestError ErrorOf(ParleyErrorKind kind) => kind switch
    {
        ParleyErrorKind.NameResolutionFailed => HttpRequestError.NameResolutionError,
        ParleyErrorKind.ConnectFailed => HttpRequestError.ConnectionError,
        ParleyErrorKind.MalformedResponse => HttpRequestError.InvalidResponse,
        ParleyErrorKind.ConnectionClosed => HttpRequestError.ResponseEnded,
        ParleyErrorKind.CertificateNotTimeValid or ParleyErrorKind.CertificateNameMismatch or ParleyErrorKind.CertificateUntrusted
            or ParleyErrorKind.TlsHandshakeFailed or ParleyErrorKind.TlsProtocolVersionMismatch or ParleyErrorKind.PlainHttpFromTlsServer
            or ParleyErrorKind.TlsHandshakeTimeout => HttpRequestError.SecureConnectionError,
        _ => HttpRequestError.Unknown,
    };

    /// <summary>The content of a 101 response: the upgraded connection, handed out as it is (not wrapped read-only).</summary>
    private sealed class UpgradedContent(Stream connection) : HttpContent
    {
        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => connection;

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(connection);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => connection.CopyToAsync(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) connection.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>The response body for HttpClient: Parley's failures become <see cref="HttpIOException"/>s.</summary>
    private sealed class HandlerBodyStream(ParleyResponse response, HttpResponseMessage message) : Stream
    {
        private readonly Stream _inner = response.Body;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0 && !buffer.IsEmpty && response.Trailers is { } trailers && message.TrailingHeaders.NonValidated.Count == 0)
                {
                    foreach (KeyValuePair<string, string> field in trailers) message.TrailingHeaders.TryAddWithoutValidation(field.Key, field.Value);
                }
                return read;
            }
            catch (ParleyHttpException ex)
            {
                throw new HttpIOException(ex.Kind == ParleyErrorKind.MalformedResponse ? HttpRequestError.InvalidResponse : HttpRequestError.Unknown, ex.Message, ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                response.Dispose();
            }
            base.Dispose(disposing);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

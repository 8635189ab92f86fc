using System.IO.Compression;
using System.Text;
using Parley.Http1;

namespace Parley.Client;

/// <summary>
/// A response: status, fields as received, and the body as a stream that reads from the connection as
/// the caller goes (a large download never sits whole in memory). Dispose it when done with the body;
/// a body read to its end has already given its connection back to the pool.
/// </summary>
public sealed class ParleyResponse : IDisposable, IAsyncDisposable
{
    private static readonly HeadLimits Unlimited = new() { MaxHeadBytes = int.MaxValue, MaxFieldCount = int.MaxValue };

    private readonly byte[] _bytes;
    private readonly int _headLength;
    private readonly int _reasonStart;
    private readonly int _reasonLength;
    private ResponseHead? _parsedHead;
    private readonly int _inlineLength;
    private ClientConnection? _connection;
    private ParleyResponseHeaders? _headers;
    private string? _reason;
    private Stream? _rawBody;
    private Stream? _body;
    private Stream? _upgraded;

    /// <summary>A response whose body (possibly empty) is entirely in <paramref name="bytes"/> after the head.</summary>
    internal ParleyResponse(ResponseHead head, byte[] bytes, Uri requestUri, int inlineLength, long contentLength)
        : this(head, bytes, requestUri, contentLength)
    {
        _inlineLength = inlineLength;
        IsBodyComplete = true;
    }

    /// <summary>A response whose body streams from <paramref name="connection"/>.</summary>
    internal ParleyResponse(ResponseHead head, byte[] headBytes, Uri requestUri, ClientConnection connection, long? contentLength)
        : this(head, headBytes, requestUri, contentLength)
    {
        _connection = connection;
    }

    /// <summary>A 101 Switching Protocols: the body is the connection itself, both ways (RFC 9110 §7.8).</summary>
    internal ParleyResponse(ResponseHead head, byte[] headBytes, Uri requestUri, Stream upgraded)
        : this(head, headBytes, requestUri, contentLength: null)
    {
        _body = upgraded;
        _upgraded = upgraded;
        IsBodyComplete = true;
    }

    /// <summary>
    /// Keeps only the scalars of <paramref name="head"/> (the connection reuses it): the fields are parsed
    /// again from <paramref name="bytes"/> if and when somebody asks for them.
    /// </summary>
    private ParleyResponse(ResponseHead head, byte[] bytes, Uri requestUri, long? contentLength)
    {
        _bytes = bytes;
        _headLength = head.HeadLength;
        _reasonStart = head.ReasonStart;
        _reasonLength = head.ReasonLength;
        StatusCode = head.StatusCode;
        Version = head.Version == Http1.HttpVersion.Http10 ? System.Net.HttpVersion.Version10 : System.Net.HttpVersion.Version11;
        RequestUri = requestUri;
        ContentLength = contentLength;
    }

    /// <summary>The three-digit status code.</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase as received (RFC 9112 §4: informational only).</summary>
    public string ReasonPhrase => _reason ??= Encoding.Latin1.GetString(_bytes, _reasonStart, _reasonLength);

    /// <summary>The version of the status line: <see cref="System.Net.HttpVersion.Version10"/> or <see cref="System.Net.HttpVersion.Version11"/>.</summary>
    public Version Version { get; }

    /// <summary>The header fields as received.</summary>
    public ParleyResponseHeaders Headers => _headers ??= new ParleyResponseHeaders(ParseHead().Fields);

    /// <summary>Trailer fields of a chunked body, once the body has been read to its end (null otherwise).</summary>
    public ParleyResponseHeaders? Trailers { get; private set; }

    /// <summary>The status line and fields exactly as received, through the blank line.</summary>
    public ReadOnlyMemory<byte> RawHead => _bytes.AsMemory(0, _headLength);

    /// <summary>The URI this response answers (after redirects, the last one).</summary>
    public Uri RequestUri { get; internal set; }

    /// <summary>The body length on the wire when framed by Content-Length (0 for no body); null for chunked or close-delimited.</summary>
    public long? ContentLength { get; }

    /// <summary>The Content-Encoding (gzip, deflate or br) that <see cref="Body"/> decodes, or null when the body is as sent.</summary>
    public string? DecodedContentEncoding { get; private set; }

    /// <summary>True once the whole body has been received (always true for bodies that came with the head).</summary>
    public bool IsBodyComplete { get; private set; }

    /// <summary>How many redirects were followed to get here.</summary>
    public int RedirectCount { get; internal set; }

    /// <summary>
    /// The body, decoded when <see cref="DecodedContentEncoding"/> is set. Read it once. For a 101 Switching
    /// Protocols (the request sent <c>Connection: upgrade</c> and <c>Upgrade</c>), the connection itself:
    /// readable and writable, bytes that came with the head first, closed when disposed.
    /// </summary>
    public Stream Body => _body ??= CreateBody();

    /// <summary>Reads the whole body.</summary>
    public async ValueTask<byte[]> ReadAsByteArrayAsync(CancellationToken cancellationToken = default)
    {
        if (_connection is null && _body is null && DecodedContentEncoding is null)
        {
            return _bytes.AsSpan(_headLength, _inlineLength).ToArray();
        }
        using var collected = new MemoryStream();
        await Body.CopyToAsync(collected, cancellationToken).ConfigureAwait(false);
        return collected.ToArray();
    }

    /// <summary>Reads the whole body as text, in the charset of Content-Type (UTF-8 when absent or unknown).</summary>
    public async ValueTask<string> ReadAsStringAsync(CancellationToken cancellationToken = default)
    {
        Encoding encoding = CharsetOf(Headers["Content-Type"]);
        if (_connection is null && _body is null && DecodedContentEncoding is null)
        {
            return encoding.GetString(_bytes, _headLength, _inlineLength);
        }
        return encoding.GetString(await ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Releases the connection: back to the pool when the body was fully read, closed otherwise. After a 101
    /// (an upgrade) it closes the connection that <see cref="Body"/> reads and writes.
    /// </summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _upgraded, null)?.Dispose();
        ClientConnection? connection = _connection;
        _connection = null;
        connection?.AbandonBody(this);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Undoes <see cref="EnableDecoding"/> before the body is first read (the caller wants the bytes as sent).</summary>
    internal void KeepContentEncoding() => DecodedContentEncoding = null;

    /// <summary>Decodes the body if it is in one coding the client asked for.</summary>
    internal void EnableDecoding()
    {
        if (StatusCode == 204 || StatusCode == 304) return;
        string? coding = Headers["Content-Encoding"]?.Trim();
        if (coding is null) return;
        if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase)) DecodedContentEncoding = "gzip";
        else if (coding.Equals("deflate", StringComparison.OrdinalIgnoreCase)) DecodedContentEncoding = "deflate";
        else if (coding.Equals("br", StringComparison.OrdinalIgnoreCase)) DecodedContentEncoding = "br";
    }

    private ResponseHead ParseHead()
    {
        if (_parsedHead is null)
        {
            var head = new ResponseHead();
            // Validated once already, as it arrived: this cannot fail.
            ResponseHeadParser.Parse(_bytes.AsMemory(0, _headLength), head, Unlimited, out _);
            _parsedHead = head;
        }
        return _parsedHead;
    }

    internal void OnBodyComplete(FieldTable? trailers)
    {
        IsBodyComplete = true;
        _connection = null;
        if (trailers is not null) Trailers = new ParleyResponseHeaders(trailers);
    }

    internal bool IsStreaming => _connection is not null;

    internal ValueTask<int> ReadRawAsync(Memory<byte> destination, ref int inlinePosition, CancellationToken cancellationToken)
    {
        if (_connection is { } connection) return connection.ReadBodyAsync(destination, cancellationToken);
        if (!IsBodyComplete) throw new ObjectDisposedException(nameof(ParleyResponse), "the response was disposed before its body was read");
        int count = Math.Min(destination.Length, _inlineLength - inlinePosition);
        _bytes.AsSpan(_headLength + inlinePosition, count).CopyTo(destination.Span);
        inlinePosition += count;
        return new ValueTask<int>(count);
    }

    private Stream CreateBody()
    {
        _rawBody = new ResponseBodyStream(this);
        return DecodedContentEncoding switch
        {
            "gzip" => new GZipStream(_rawBody, CompressionMode.Decompress),
            // RFC 9110 §8.4.1.2: "deflate" is the zlib format (RFC 1950), not a raw deflate stream.
            "deflate" => new ZLibStream(_rawBody, CompressionMode.Decompress),
            "br" => new BrotliStream(_rawBody, CompressionMode.Decompress),
            _ => _rawBody,
        };
    }

    private static Encoding CharsetOf(string? contentType)
    {
        if (contentType is null) return Encoding.UTF8;
        int index = contentType.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
        if (index < 0) return Encoding.UTF8;
        string charset = contentType[(index + 8)..].Split(';')[0].Trim().Trim('"');
        try
        {
            return Encoding.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            return Encoding.UTF8;
        }
    }
}

/// <summary>The response body as a read-only stream; framing and pooling are the connection's business.</summary>
internal sealed class ResponseBodyStream(ParleyResponse response) : Stream
{
    private int _inlinePosition;
    private bool _done;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_done || buffer.IsEmpty) return new ValueTask<int>(0);
        ValueTask<int> read = response.ReadRawAsync(buffer, ref _inlinePosition, cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            int count = read.Result;
            if (count == 0) _done = true;
            return new ValueTask<int>(count);
        }
        return Await(read);
    }

    private async ValueTask<int> Await(ValueTask<int> pending)
    {
        int count = await pending.ConfigureAwait(false);
        if (count == 0) _done = true;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            ValueTask<int> read = ReadAsync(scratch.AsMemory(0, buffer.Length));
            int count = read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
            scratch.AsSpan(0, count).CopyTo(buffer);
            return count;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) response.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

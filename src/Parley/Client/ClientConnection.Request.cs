using System.Buffers;
using System.Diagnostics;
using Parley.Http1;

namespace Parley.Client;

/// <summary>The request side: the head (origin-form, Host, framing fields) and the body (bytes, stream, chunked).</summary>
internal sealed partial class ClientConnection
{
    private void WriteHead(ParleyRequest request, ParleyHeaders? headers, bool acceptEncoding, Activity? trace, ParleyContent? content, bool expect)
    {
        ByteBuffer output = _output;
        output.Clear();
        string target = request.Uri.PathAndQuery;
        MessageWriter.WriteRequestLine(output, request.Method, target.Length == 0 ? "/" : target);
        bool hasHost = false, hasUserAgent = false, hasType = false, hasAcceptEncoding = false, hasTraceParent = false;
        foreach (KeyValuePair<string, string> field in headers?.Lines ?? NoFields)
        {
            string name = field.Key;
            // The client owns the framing fields (RFC 9112 §6): a caller's value could contradict the body.
            if (Is(name, "Content-Length") || Is(name, "Transfer-Encoding") || (expect && Is(name, "Expect"))) continue;
            hasHost |= Is(name, "Host");
            hasUserAgent |= Is(name, "User-Agent");
            hasType |= Is(name, "Content-Type");
            hasAcceptEncoding |= Is(name, "Accept-Encoding");
            hasTraceParent |= Is(name, "traceparent");
            MessageWriter.WriteField(output, name, field.Value);
        }
        if (!hasHost) output.Write(Owner.HostFieldLine);
        if (!hasUserAgent && _pool.UserAgentLine is { } userAgent) output.Write(userAgent);
        if (acceptEncoding && !hasAcceptEncoding) output.Write("Accept-Encoding: gzip, deflate, br\r\n"u8);
        if (content is not null)
        {
            if (!hasType && content.ContentType is { } type) MessageWriter.WriteField(output, "Content-Type", type);
            if (content.Length is { } length) MessageWriter.WriteContentLength(output, length);
            else output.Write("Transfer-Encoding: chunked\r\n"u8);
        }
        else if (request.Method is HttpMethods.Post or HttpMethods.Put or HttpMethods.Patch)
        {
            // RFC 9110 §8.6: a user agent SHOULD send Content-Length when the method defines enclosed content.
            output.Write("Content-Length: 0\r\n"u8);
        }
        if (expect) output.Write("Expect: 100-continue\r\n"u8);
        // W3C Trace Context: the request's span is the server's parent, unless the caller set its own.
        if (trace is { IdFormat: ActivityIdFormat.W3C } && !hasTraceParent)
        {
            MessageWriter.WriteField(output, "traceparent", trace.Id!);
            if (trace.TraceStateString is { } traceState) MessageWriter.WriteField(output, "tracestate", traceState);
        }
        output.Write("\r\n"u8);
    }

    /// <summary>Sends all of <see cref="_output"/> (the transport completes when every byte is sent).</summary>
    private ValueTask<int> SendOutputAsync() => _transport.SendAsync(_output.WrittenMemory);

    private async ValueTask SendBodyAsync(ParleyContent content)
    {
        Arm(_options.BodyIdleTimeout, "sending the request body to");
        long total;
        if (content.Stream is null)
        {
            total = content.Bytes.Length;
            await _transport.SendAsync(content.Bytes).ConfigureAwait(false);
        }
        else
        {
            total = await SendStreamBodyAsync(content.Stream, content.Length).ConfigureAwait(false);
        }
        Raise(new SessionEvent { Kind = SessionEventKind.RequestBodySent, Size = total }, _observer);
        Arm(_options.ResponseHeadersTimeout, "waiting for the response head from");
    }

    private async ValueTask<long> SendStreamBodyAsync(Stream stream, long? length)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            while (true)
            {
                int read = await stream.ReadAsync(chunk.AsMemory(0, 16 * 1024 - 16)).ConfigureAwait(false);
                if (read == 0) break;
                total += read;
                if (length is { } declared && total > declared)
                {
                    throw new InvalidOperationException($"the request body stream produced more than its declared length of {declared} bytes");
                }
                _output.Clear();
                if (length is null) MessageWriter.WriteChunkHeader(_output, read);
                _output.Write(chunk.AsSpan(0, read));
                if (length is null) MessageWriter.WriteChunkTrailer(_output);
                await SendOutputAsync().ConfigureAwait(false);
                _waitStarted = Environment.TickCount64;
                Arm(_options.BodyIdleTimeout, "sending the request body to");
            }
            if (length is { } expected && total != expected)
            {
                throw new InvalidOperationException($"the request body stream ended after {total} of its declared {expected} bytes");
            }
            if (length is null)
            {
                _output.Clear();
                MessageWriter.WriteLastChunk(_output);
                await SendOutputAsync().ConfigureAwait(false);
            }
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}

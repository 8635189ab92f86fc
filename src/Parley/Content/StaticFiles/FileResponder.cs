using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Parley.Http1;
using Parley.Server;

namespace Parley.Content.StaticFiles;

/// <summary>
/// Answers a GET or HEAD for one regular file: chooses the representation (identity, a precompressed
/// sibling, or compressed on the fly), evaluates preconditions against it, then sends it whole, as one
/// range, or as multipart/byteranges.
/// </summary>
internal static class FileResponder
{
    private static readonly string[] Codings = ["br", "gzip"];

    public static async ValueTask SendAsync(HttpRequest request, HttpResponse response, string path, StaticFileOptions options)
    {
        SafeFileHandle file;
        try
        {
            // Asynchronous: the engine can then hand the file to sendfile(2).
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (UnauthorizedAccessException)
        {
            await StaticFileHandler.Error(response, 403, "Forbidden", "You are not allowed to read this file.").ConfigureAwait(false);
            return;
        }
        catch (IOException)
        {
            await StaticFileHandler.NotFound(response).ConfigureAwait(false);
            return;
        }

        SafeFileHandle? variant = null;
        try
        {
            long length = RandomAccess.GetLength(file);
            DateTime modified = File.GetLastWriteTimeUtc(file);
            string contentType = MimeTypes.GetContentType(path);
            bool isGet = request.Method == "GET";
            // RFC 9110 §14.2: Range is defined for GET only; other methods ignore it.
            string? range = isGet ? request.Headers["Range"] : null;

            // Which codings could this resource be sent in? If any, the choice depends on Accept-Encoding.
            bool compressible = MimeTypes.IsCompressible(contentType);
            bool onTheFly = compressible && options.EnableCompression && length >= options.CompressionMinSize && length <= options.CompressionMaxSize;
            bool negotiable = compressible && (onTheFly || options.ServePrecompressed);

            string coding = ContentNegotiation.Identity;
            string? acceptEncoding = request.Headers["Accept-Encoding"];
            // Ranges are always cut from the identity representation: never compress a range.
            if (negotiable && range is null && acceptEncoding is not null)
            {
                (coding, variant) = ChooseCoding(acceptEncoding, path, modified, onTheFly, options);
            }

            long sendLength = length;
            DateTime validatorTime = modified;
            EntityTag etag;
            SafeFileHandle source = file;
            if (variant is not null)
            {
                sendLength = RandomAccess.GetLength(variant);
                validatorTime = File.GetLastWriteTimeUtc(variant);
                etag = EntityTag.Create(Tag(sendLength, validatorTime) + "." + coding);
                source = variant;
            }
            else if (coding != ContentNegotiation.Identity)
            {
                // Compressed on the fly: the bytes depend on the compressor's version, so the tag is weak
                // (RFC 9110 §8.8.1) and names the coding so it never matches the identity representation.
                etag = EntityTag.Create(Tag(length, modified) + "." + coding, isWeak: true);
            }
            else
            {
                etag = EntityTag.Create(Tag(length, modified));
            }
            var lastModified = new DateTimeOffset(validatorTime, TimeSpan.Zero);

            ResponseHeaders headers = response.Headers;
            headers.Set("Content-Type", contentType);
            headers.Set("Accept-Ranges", "bytes");
            headers.Set("ETag", etag.ToString());
            headers.Set("Last-Modified", HttpDate.Format(lastModified));
            if (options.CacheControl is { } cacheControl) headers.Set("Cache-Control", cacheControl);
            // RFC 9110 §12.5.5: say that Accept-Encoding chose (or could have chosen) the representation.
            if (negotiable) headers.Set("Vary", "Accept-Encoding");

            // RFC 9110 §13.2.2: preconditions against the selected representation's validators.
            ConditionalResult condition = ConditionalRequest.Evaluate(request.Method, request.Headers["If-Match"], request.Headers["If-None-Match"],
                request.Headers["If-Modified-Since"], request.Headers["If-Unmodified-Since"], etag, lastModified);
            if (condition == ConditionalResult.NotModified)
            {
                // RFC 9110 §15.4.5: 304 carries the fields a 200 would (ETag, Cache-Control, Vary...), no content.
                headers.Remove("Content-Type");
                headers.Remove("Accept-Ranges");
                response.StatusCode = 304;
                return;
            }
            if (condition == ConditionalResult.PreconditionFailed)
            {
                headers.Remove("ETag");
                headers.Remove("Last-Modified");
                headers.Remove("Accept-Ranges");
                await StaticFileHandler.Error(response, 412, "Precondition Failed", "The file does not match the request's preconditions.").ConfigureAwait(false);
                return;
            }

            if (coding != ContentNegotiation.Identity) headers.Set("Content-Encoding", coding);
            if (variant is null && coding != ContentNegotiation.Identity)
            {
                await CompressAsync(response, file, length, coding).ConfigureAwait(false);
                return;
            }

            // RFC 9110 §13.1.5: If-Range false → ignore Range and send everything.
            if (range is not null && ConditionalRequest.EvaluateIfRange(request.Headers["If-Range"], etag, lastModified))
            {
                RangeResult ranges = RangeHeader.Parse(range, length, options.RangeLimits);
                if (ranges.Kind == RangeResultKind.Unsatisfiable)
                {
                    // RFC 9110 §15.5.17: 416 with the current length.
                    headers.Set("Content-Range", ContentRange.FormatUnsatisfied(length));
                    headers.Remove("ETag");
                    headers.Remove("Last-Modified");
                    await StaticFileHandler.Error(response, 416, "Range Not Satisfiable", $"The file is {length} bytes long.").ConfigureAwait(false);
                    return;
                }
                if (ranges.Kind == RangeResultKind.Satisfiable)
                {
                    response.StatusCode = 206;
                    if (ranges.Ranges.Count == 1)
                    {
                        ByteRange only = ranges.Ranges[0];
                        headers.Set("Content-Range", ContentRange.Format(only, length)); // RFC 9110 §14.4
                        response.ContentLength = only.Length;
                        await response.SendFileAsync(file, only.Start, only.Length).ConfigureAwait(false);
                    }
                    else
                    {
                        await SendMultipartAsync(response, file, ranges.Ranges, length, contentType).ConfigureAwait(false);
                    }
                    return;
                }
            }

            response.ContentLength = sendLength;
            await response.SendFileAsync(source, 0, sendLength).ConfigureAwait(false);
        }
        finally
        {
            variant?.Dispose();
            file.Dispose();
        }
    }

    // An opaque tag from the length and modification time: changes whenever either does.
    private static string Tag(long length, DateTime modified) =>
        string.Create(CultureInfo.InvariantCulture, $"{length:x}-{modified.Ticks:x}");

    /// <summary>
    /// Chooses among br and gzip by Accept-Encoding (RFC 9110 §12.5.3, server preference br first). A
    /// precompressed sibling at least as new as the file wins over compressing on the fly; it is
    /// returned open. Identity when nothing else is acceptable, and also when the client refuses identity
    /// too: an unwanted identity response is more useful than a 406.
    /// </summary>
    private static (string Coding, SafeFileHandle? Variant) ChooseCoding(string acceptEncoding, string path, DateTime modified, bool onTheFly, StaticFileOptions options)
    {
        var available = new List<string>(2);
        foreach (string coding in Codings)
        {
            if (onTheFly || (options.ServePrecompressed && FreshSiblingExists(path, coding, modified))) available.Add(coding);
        }
        if (available.Count == 0) return (ContentNegotiation.Identity, null);
        string? chosen = ContentNegotiation.ChooseEncoding(acceptEncoding, available);
        if (chosen is null || chosen == ContentNegotiation.Identity) return (ContentNegotiation.Identity, null);
        if (options.ServePrecompressed && FreshSiblingExists(path, chosen, modified))
        {
            try
            {
                return (chosen, File.OpenHandle(SiblingPath(path, chosen), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone or unreadable since we looked: fall through.
            }
        }
        return onTheFly ? (chosen, null) : (ContentNegotiation.Identity, null);
    }

    private static string SiblingPath(string path, string coding) => path + (coding == "br" ? ".br" : ".gz");

    // The sibling lives in the same directory; a symlinked sibling is not followed (lstat says link).
    private static bool FreshSiblingExists(string path, string coding, DateTime modified)
    {
        var sibling = new FileInfo(SiblingPath(path, coding));
        return sibling.Exists && sibling.LinkTarget is null && sibling.LastWriteTimeUtc >= modified;
    }

    private static async ValueTask CompressAsync(HttpResponse response, SafeFileHandle file, long length, string coding)
    {
        // The compressed length is unknown until the end: a small result is still sent with a
        // Content-Length (the engine buffers it), a larger one goes out chunked. HEAD compresses too,
        // so that it announces the same Content-Length a GET would send (RFC 9110 §9.3.2).
        var sink = new NonFlushingStream(response.Body);
        Stream compressor = coding == "br"
            ? new BrotliStream(sink, new BrotliCompressionOptions { Quality = 4 }, leaveOpen: true)
            : new GZipStream(sink, new ZLibCompressionOptions { CompressionLevel = 6 }, leaveOpen: true);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long offset = 0;
            while (offset < length)
            {
                int read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - offset)), offset).ConfigureAwait(false);
                if (read == 0) break;
                await compressor.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                offset += read;
            }
            await compressor.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>RFC 9110 §14.6: one part per range, each with its Content-Type and Content-Range.</summary>
    private static async ValueTask SendMultipartAsync(HttpResponse response, SafeFileHandle file, IReadOnlyList<ByteRange> ranges, long length, string contentType)
    {
        // A random boundary cannot occur in the file by accident or by an attacker's design.
        string boundary = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var partHeads = new byte[ranges.Count][];
        long total = 0;
        for (int i = 0; i < ranges.Count; i++)
        {
            string head = (i == 0 ? "" : "\r\n") + "--" + boundary + "\r\nContent-Type: " + contentType
                + "\r\nContent-Range: " + ContentRange.Format(ranges[i], length) + "\r\n\r\n";
            partHeads[i] = Encoding.ASCII.GetBytes(head);
            total += partHeads[i].Length + ranges[i].Length;
        }
        byte[] end = Encoding.ASCII.GetBytes("\r\n--" + boundary + "--\r\n");
        total += end.Length;

        response.Headers.Set("Content-Type", "multipart/byteranges; boundary=" + boundary);
        response.ContentLength = total;
        for (int i = 0; i < ranges.Count; i++)
        {
            response.Write(partHeads[i]);
            await response.SendFileAsync(file, ranges[i].Start, ranges[i].Length).ConfigureAwait(false);
        }
        response.Write(end);
    }

    /// <summary>Passes writes through but not flushes, so a compressor's final flush does not force chunked framing.</summary>
    private sealed class NonFlushingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

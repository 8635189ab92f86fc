using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Parley.Content;

/// <summary>A file uploaded in a <c>multipart/form-data</c> body, as handed to a file sink.</summary>
public sealed class FilePart
{
    internal FilePart(string name, string fileName, string? contentType, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        Name = name;
        FileName = fileName;
        ContentType = contentType;
        Headers = headers;
    }

    /// <summary>The form field name.</summary>
    public string Name { get; }

    /// <summary>The file name the client sent. Untrusted: sanitise before using it as a path.</summary>
    public string FileName { get; }

    /// <summary>The part's <c>Content-Type</c>, or <c>null</c>.</summary>
    public string? ContentType { get; }

    /// <summary>All header fields of the part.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The number of bytes written to the sink; set once the part has been read.</summary>
    public long Length { get; internal set; }
}

/// <summary>The text fields and the files of a <c>multipart/form-data</c> body.</summary>
public sealed class MultipartFormData
{
    internal MultipartFormData(FormFields fields, IReadOnlyList<FilePart> files)
    {
        Fields = fields;
        Files = files;
    }

    /// <summary>The non-file fields, decoded as UTF-8, in received order.</summary>
    public FormFields Fields { get; }

    /// <summary>The files, in received order, each already written to its sink.</summary>
    public IReadOnlyList<FilePart> Files { get; }
}

/// <summary>Reads a whole <c>multipart/form-data</c> body (RFC 7578): text fields into memory, files into sinks.</summary>
public static class MultipartForm
{
    private const int CopyBufferSize = 16 * 1024;

    /// <summary>
    /// Reads every part of <paramref name="body"/>. Non-file parts are read as UTF-8 strings (RFC 7578
    /// §5.1.2) of at most <see cref="MultipartLimits.MaxFieldValueBytes"/> bytes. For each file part,
    /// <paramref name="fileSink"/> is called with the part's metadata and returns the stream to write
    /// its content to (return <see cref="Stream.Null"/> to discard it); the stream is disposed once the
    /// file is written, so a file never sits in memory. A file input left empty by the user (empty
    /// <c>filename</c>) is skipped.
    /// </summary>
    /// <exception cref="FormException">
    /// 400 for malformed input, a part without <c>Content-Disposition: form-data; name=...</c>
    /// (RFC 7578 §4.2), invalid UTF-8 in a text field, or a limit other than total size; 413 when the
    /// body exceeds <see cref="MultipartLimits.MaxTotalBytes"/>. Exceptions from the sink and from
    /// <paramref name="body"/> propagate unchanged.
    /// </exception>
    public static async Task<MultipartFormData> ReadAsync(
        Stream body,
        string boundary,
        MultipartLimits? limits,
        Func<FilePart, Stream> fileSink,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fileSink);
        limits ??= MultipartLimits.Default;
        var reader = new MultipartReader(body, boundary, limits);
        var fields = new FormFields();
        var files = new List<FilePart>();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            while (await reader.ReadNextPartAsync(cancellationToken).ConfigureAwait(false) is MultipartPart part)
            {
                // RFC 7578 §4.2: each part MUST have Content-Disposition form-data with a name.
                string name = part.Name ?? throw FormException.BadRequest(
                    "Multipart part has no 'Content-Disposition: form-data; name=...' header (RFC 7578 §4.2).");

                if (part.FileName is null)
                {
                    fields.Add(name, await ReadFieldAsync(part, name, limits, buffer, cancellationToken).ConfigureAwait(false));
                }
                else if (part.FileName.Length > 0)
                {
                    var file = new FilePart(name, part.FileName, part.ContentType, part.Headers);
                    Stream sink = fileSink(file) ?? throw new InvalidOperationException("The file sink returned null; return Stream.Null to discard a file.");
                    await using (sink.ConfigureAwait(false))
                    {
                        file.Length = await CopyAsync(part.Body, sink, buffer, cancellationToken).ConfigureAwait(false);
                    }

                    files.Add(file);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return new MultipartFormData(fields, files);
    }

    private static async Task<string> ReadFieldAsync(MultipartPart part, string name, MultipartLimits limits, byte[] buffer, CancellationToken cancellationToken)
    {
        using var value = new MemoryStream();
        int read;
        while ((read = await part.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (value.Length + read > limits.MaxFieldValueBytes)
            {
                throw FormException.BadRequest($"Multipart field '{name}' exceeds {limits.MaxFieldValueBytes} bytes.");
            }

            value.Write(buffer, 0, read);
        }

        ReadOnlySpan<byte> bytes = value.GetBuffer().AsSpan(0, (int)value.Length);
        if (!Utf8.IsValid(bytes))
        {
            throw FormException.BadRequest($"Multipart field '{name}' is not valid UTF-8.");
        }

        return Encoding.UTF8.GetString(bytes);
    }

    private static async Task<long> CopyAsync(Stream source, Stream destination, byte[] buffer, CancellationToken cancellationToken)
    {
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
        }

        return total;
    }
}

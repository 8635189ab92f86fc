using System.Text;
using Parley.Content;

namespace Parley.Client;

/// <summary>
/// A request body: bytes, text, form fields or a stream. Bytes and forms can be sent again (on a retry
/// or a 307/308 redirect); a stream only once.
/// </summary>
public sealed class ParleyContent
{
    private ParleyContent(ReadOnlyMemory<byte> bytes, Stream? stream, long? length, string? contentType)
    {
        Bytes = bytes;
        Stream = stream;
        Length = length;
        ContentType = contentType;
    }

    /// <summary>The body when it is in memory.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The body when it is a stream.</summary>
    public Stream? Stream { get; }

    /// <summary>The length in bytes when known; an unknown length is sent chunked.</summary>
    public long? Length { get; }

    /// <summary>The Content-Type sent unless the request sets its own (may be null).</summary>
    public string? ContentType { get; }

    /// <summary>True when the body can be sent again (not a stream).</summary>
    public bool IsReplayable => Stream is null;

    /// <summary>A body of bytes.</summary>
    public static ParleyContent FromBytes(ReadOnlyMemory<byte> bytes, string? contentType = "application/octet-stream") =>
        new(bytes, null, bytes.Length, contentType);

    /// <summary>A body of text encoded as UTF-8.</summary>
    public static ParleyContent FromString(string text, string contentType = "text/plain; charset=utf-8") =>
        FromBytes(Encoding.UTF8.GetBytes(text), contentType);

    /// <summary>Form fields as <c>application/x-www-form-urlencoded</c> (WHATWG URL §5.2).</summary>
    public static ParleyContent FromForm(IEnumerable<KeyValuePair<string, string>> fields) =>
        FromBytes(Encoding.ASCII.GetBytes(FormUrlEncoded.Encode(fields)), "application/x-www-form-urlencoded");

    /// <summary>
    /// A body read from <paramref name="stream"/>. With <paramref name="length"/> it is sent with
    /// Content-Length (and must produce exactly that many bytes); without, it is sent chunked.
    /// </summary>
    public static ParleyContent FromStream(Stream stream, long? length = null, string? contentType = "application/octet-stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        return new(default, stream, length, contentType);
    }
}

using System.Text;
using System.Text.Unicode;
using Parley.Http1;

namespace Parley.Content;

/// <summary>
/// Reads a <c>multipart/form-data</c> body (RFC 7578, syntax of RFC 2046 §5.1.1) part by part
/// from a stream, without holding a part's content in memory: each part's <see cref="MultipartPart.Body"/>
/// streams from the reader's buffer up to the next boundary delimiter.
/// </summary>
/// <remarks>
/// The body is <c>preamble CRLF "--" boundary</c>, then for each part <c>padding CRLF headers CRLF
/// content CRLF "--" boundary</c>, and finally <c>"--" padding [CRLF epilogue]</c>. The reader stops
/// at the close delimiter and never reads the epilogue. Malformed input raises <see cref="FormException"/>
/// (400), too much input raises it with 413; I/O errors of the underlying stream propagate unchanged.
/// </remarks>
public sealed class MultipartReader
{
    private const byte CR = (byte)'\r', LF = (byte)'\n', Dash = (byte)'-';
    private const int MinBufferSize = 16 * 1024, MaxBufferSize = 1024 * 1024;

    // Skipped content is copied here and never looked at, so sharing it between readers is harmless.
    private static readonly byte[] DiscardBuffer = new byte[4096];

    private readonly Stream _stream;
    private readonly MultipartLimits _limits;
    private readonly byte[] _delimiter; // CRLF "--" boundary
    private readonly byte[] _buffer;
    private int _start, _end;
    private long _totalRead;
    private bool _streamEnded;
    private bool _inBody = true; // the preamble is read as the body of a part nobody sees
    private bool _done;
    private int _partCount;
    private MultipartBodyStream? _current;

    /// <summary>Creates a reader over <paramref name="stream"/> for parts separated by <paramref name="boundary"/>.</summary>
    /// <exception cref="ArgumentException">The boundary is not valid per RFC 2046 §5.1.1.</exception>
    public MultipartReader(Stream stream, string boundary, MultipartLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(boundary);
        if (!MultipartBoundary.IsValid(boundary))
        {
            throw new ArgumentException($"'{boundary}' is not a valid multipart boundary (RFC 2046 §5.1.1: 1-70 characters).", nameof(boundary));
        }

        _stream = stream;
        _limits = limits ?? MultipartLimits.Default;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        // A header line must fit in the buffer, so it grows with the header limit, within reason.
        _buffer = new byte[(int)Math.Clamp((long)_limits.MaxHeaderBytesPerPart + _delimiter.Length + 4, MinBufferSize, MaxBufferSize)];

        // RFC 2046 §5.1.1: "the CRLF preceding the boundary delimiter line is conceptually attached to
        // the boundary", so a body that starts with "--boundary" has one in front of it.
        _buffer[0] = CR;
        _buffer[1] = LF;
        _end = 2;
    }

    /// <summary>
    /// Finishes the current part (skipping what is unread of its body) and reads the headers of the
    /// next one. Returns <c>null</c> after the last part.
    /// </summary>
    /// <exception cref="FormException">400 for malformed input or too many parts or header bytes; 413 when the body is too large.</exception>
    public async ValueTask<MultipartPart?> ReadNextPartAsync(CancellationToken cancellationToken = default)
    {
        if (_done)
        {
            return null;
        }

        while (_inBody && await ReadBodyAsync(DiscardBuffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }

        if (_current is not null)
        {
            _current.Detach();
            _current = null;
        }

        // After the delimiter: "--" ends the body; otherwise transport-padding CRLF starts a part.
        await EnsureAsync(2, cancellationToken).ConfigureAwait(false);
        if (Available >= 2 && _buffer[_start] == Dash && _buffer[_start + 1] == Dash)
        {
            _done = true;
            return null;
        }

        await SkipBoundaryLineEndAsync(cancellationToken).ConfigureAwait(false);
        if (++_partCount > _limits.MaxPartCount)
        {
            throw FormException.BadRequest($"Multipart body has more than {_limits.MaxPartCount} parts.");
        }

        IReadOnlyList<KeyValuePair<string, string>> headers = await ReadHeadersAsync(cancellationToken).ConfigureAwait(false);
        _inBody = true;
        _current = new MultipartBodyStream(this);
        return new MultipartPart(headers, _current);
    }

    private int Available => _end - _start;

    // transport-padding := *LWSP-char ; then CRLF (RFC 2046 §5.1.1)
    private async ValueTask SkipBoundaryLineEndAsync(CancellationToken cancellationToken)
    {
        int padding = 0;
        while (true)
        {
            await EnsureAsync(1, cancellationToken).ConfigureAwait(false);
            if (Available == 0)
            {
                throw Truncated();
            }

            byte b = _buffer[_start];
            if (b is (byte)' ' or (byte)'\t' && ++padding <= _limits.MaxHeaderBytesPerPart)
            {
                _start++;
                continue;
            }

            await EnsureAsync(2, cancellationToken).ConfigureAwait(false);
            if (Available >= 2 && b == CR && _buffer[_start + 1] == LF)
            {
                _start += 2;
                return;
            }

            throw FormException.BadRequest("Malformed multipart boundary line: the boundary must be followed by CRLF or \"--\" (RFC 2046 §5.1.1).");
        }
    }

    private async ValueTask<IReadOnlyList<KeyValuePair<string, string>>> ReadHeadersAsync(CancellationToken cancellationToken)
    {
        var headers = new List<KeyValuePair<string, string>>();
        int headerBytes = 0;
        while (true)
        {
            int lineLength;
            while ((lineLength = _buffer.AsSpan(_start, Available).IndexOf("\r\n"u8)) < 0)
            {
                if (headerBytes + Available > _limits.MaxHeaderBytesPerPart)
                {
                    throw HeadersTooLarge();
                }

                if (Available == _buffer.Length)
                {
                    throw FormException.BadRequest($"Multipart part headers have a line longer than {_buffer.Length} bytes.");
                }

                if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw Truncated();
                }
            }

            headerBytes += lineLength + 2;
            if (headerBytes > _limits.MaxHeaderBytesPerPart)
            {
                throw HeadersTooLarge();
            }

            ReadOnlySpan<byte> line = _buffer.AsSpan(_start, lineLength);
            _start += lineLength + 2;
            if (line.IsEmpty)
            {
                return headers; // the empty line ends the header section
            }

            headers.Add(ParseHeaderLine(line));
        }
    }

    // RFC 2046 §5.1.1 / RFC 5322 §2.2: field-name ":" field-body; header text is UTF-8 (RFC 7578 §5.1).
    private static KeyValuePair<string, string> ParseHeaderLine(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (line[0] is (byte)' ' or (byte)'\t')
        {
            throw FormException.BadRequest("Multipart part header uses obsolete line folding, which is not accepted.");
        }

        if (colon <= 0 || !Utf8.IsValid(line))
        {
            throw FormException.BadRequest("Malformed multipart part header: expected 'Name: value' in UTF-8.");
        }

        string name = Encoding.ASCII.GetString(line[..colon]);
        if (!HttpSyntax.IsToken(name))
        {
            throw FormException.BadRequest($"Malformed multipart part header name '{name}'.");
        }

        string value = HttpSyntax.TrimOws(Encoding.UTF8.GetString(line[(colon + 1)..])).ToString();
        foreach (char c in value)
        {
            if (HttpSyntax.IsControl(c) && c != '\t')
            {
                throw FormException.BadRequest($"Multipart part header '{name}' contains a control character.");
            }
        }

        return new(name, value);
    }

    /// <summary>Reads body bytes of the current part; 0 at its end. Used by <see cref="MultipartBodyStream"/>.</summary>
    internal async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int read;
        while ((read = TryReadBuffered(destination.Span)) < 0)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                throw Truncated();
            }
        }

        return read;
    }

    internal int ReadBody(Span<byte> destination)
    {
        int read;
        while ((read = TryReadBuffered(destination)) < 0)
        {
            if (!Fill())
            {
                throw Truncated();
            }
        }

        return read;
    }

    // Copies body bytes that cannot belong to the delimiter; -1 when more input is needed.
    private int TryReadBuffered(Span<byte> destination)
    {
        if (!_inBody || destination.IsEmpty)
        {
            return 0;
        }

        ReadOnlySpan<byte> available = _buffer.AsSpan(_start, Available);
        int at = available.IndexOf(_delimiter);
        if (at == 0)
        {
            _start += _delimiter.Length;
            _inBody = false;
            return 0;
        }

        // Without a match, the last (delimiter length - 1) bytes may still start one.
        int safe = at > 0 ? at : Math.Max(0, available.Length - (_delimiter.Length - 1));
        if (safe == 0)
        {
            return -1;
        }

        int count = Math.Min(safe, destination.Length);
        available[..count].CopyTo(destination);
        _start += count;
        return count;
    }

    private async ValueTask EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (Available < count && await FillAsync(cancellationToken).ConfigureAwait(false))
        {
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (!Compact())
        {
            return false;
        }

        int read = await _stream.ReadAsync(_buffer.AsMemory(_end, ReadSize()), cancellationToken).ConfigureAwait(false);
        return Account(read);
    }

    private bool Fill()
    {
        if (!Compact())
        {
            return false;
        }

        return Account(_stream.Read(_buffer.AsSpan(_end, ReadSize())));
    }

    // Reads never go past MaxTotalBytes: the parse sees the same bytes however the input arrives, so a
    // malformed body inside the limit gets its 400 whether it came whole or a byte at a time. Only when the
    // parse needs a byte beyond the limit does one more byte get read, to tell "too large" (413) from
    // "ended early" (400).
    private int ReadSize()
    {
        long allowed = Math.Max(1, _limits.MaxTotalBytes - _totalRead);
        return (int)Math.Min(allowed, _buffer.Length - _end);
    }

    private bool Compact()
    {
        if (_streamEnded)
        {
            return false;
        }

        if (_start > 0)
        {
            _buffer.AsSpan(_start, Available).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        return true;
    }

    private bool Account(int read)
    {
        if (read <= 0)
        {
            _streamEnded = true;
            return false;
        }

        _end += read;
        _totalRead += read;
        if (_totalRead > _limits.MaxTotalBytes)
        {
            throw FormException.TooLarge($"Multipart body exceeds {_limits.MaxTotalBytes} bytes.");
        }

        return true;
    }

    private FormException HeadersTooLarge() =>
        FormException.BadRequest($"Multipart part headers exceed {_limits.MaxHeaderBytesPerPart} bytes.");

    private static FormException Truncated() =>
        FormException.BadRequest("Multipart body ended before its closing boundary delimiter (RFC 2046 §5.1.1).");
}

namespace Parley.Http1;

/// <summary>
/// Decodes the chunked transfer coding (RFC 9112 §7.1) without copying: each call reports framing bytes
/// consumed and where the next run of body data lies inside the caller's input. One instance per body;
/// <see cref="Reset"/> makes it reusable.
/// </summary>
internal sealed class ChunkedDecoder
{
    private enum State : byte { Size, Data, DataEnd, Trailer, Done }

    /// <summary>Longest chunk-size line (size and extensions) accepted; longer lines are rejected with 400.</summary>
    public const int MaxChunkLineLength = 4096;

    private State _state;
    private long _remaining;
    private long _total;
    private FieldTable? _trailers;
    private FieldTable? _scratch;

    /// <summary>Largest decoded body accepted (413 beyond); long.MaxValue for no limit.</summary>
    public long MaxBodySize { get; set; } = long.MaxValue;

    /// <summary>Largest trailer section in bytes (431 beyond).</summary>
    public int MaxTrailerBytes { get; set; } = 32 * 1024;

    /// <summary>Most trailer fields (431 beyond).</summary>
    public int MaxTrailerFields { get; set; } = 100;

    /// <summary>True once the last chunk and the trailer section have been read.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>Body bytes decoded so far.</summary>
    public long TotalDataLength => _total;

    /// <summary>The trailer fields, when the sender sent any (null otherwise).</summary>
    public FieldTable? Trailers => _trailers;

    /// <summary>Starts a new body.</summary>
    public void Reset()
    {
        _state = State.Size;
        _remaining = 0;
        _total = 0;
        _trailers = null;
    }

    /// <summary>
    /// Advances over <paramref name="input"/>. On Complete, <paramref name="consumed"/> bytes may be discarded
    /// and, unless <see cref="IsComplete"/>, body data lies at <c>input[dataStart..(dataStart + dataLength)]</c>
    /// (inside the consumed range). On NeedMoreData, discard <paramref name="consumed"/> bytes and call
    /// again with the rest followed by more input.
    /// </summary>
    public ParseStatus Decode(ReadOnlySpan<byte> input, out int consumed, out int dataStart, out int dataLength, out HttpError error)
    {
        consumed = 0;
        dataStart = 0;
        dataLength = 0;
        error = default;
        while (true)
        {
            switch (_state)
            {
                case State.Size:
                {
                    ParseStatus status = LineReader.TryReadLine(input, consumed, out int lineLength, out error);
                    if (status == ParseStatus.Invalid) return status;
                    if (status == ParseStatus.NeedMoreData)
                    {
                        if (lineLength > MaxChunkLineLength) return Fail(out error, 400, "chunk-size line too long");
                        return ParseStatus.NeedMoreData;
                    }
                    if (lineLength > MaxChunkLineLength) return Fail(out error, 400, "chunk-size line too long");
                    if (!TryParseSizeLine(input.Slice(consumed, lineLength), out long size, out error)) return ParseStatus.Invalid;
                    consumed += lineLength + 2;
                    if (size == 0)
                    {
                        _state = State.Trailer;
                        break;
                    }
                    if (size > MaxBodySize - _total) return Fail(out error, 413, "chunked body too large");
                    _remaining = size;
                    _state = State.Data;
                    break;
                }
                case State.Data:
                {
                    int available = input.Length - consumed;
                    if (available == 0) return ParseStatus.NeedMoreData;
                    int take = (int)Math.Min(_remaining, available);
                    dataStart = consumed;
                    dataLength = take;
                    consumed += take;
                    _remaining -= take;
                    _total += take;
                    if (_remaining == 0) _state = State.DataEnd;
                    return ParseStatus.Complete;
                }
                case State.DataEnd:
                {
                    // RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
                    int available = input.Length - consumed;
                    if (available >= 1 && input[consumed] != (byte)'\r') return Fail(out error, 400, "chunk data not followed by CRLF");
                    if (available < 2) return ParseStatus.NeedMoreData;
                    if (input[consumed + 1] != (byte)'\n') return Fail(out error, 400, "chunk data not followed by CRLF");
                    consumed += 2;
                    _state = State.Size;
                    break;
                }
                case State.Trailer:
                {
                    // The trailer section is parsed into a scratch table first, to validate it and find its end.
                    FieldTable scratch = _scratch ??= new FieldTable();
                    scratch.Reset(default);
                    int offset = consumed;
                    ParseStatus status = FieldLineParser.ParseSection(input, ref offset, scratch,
                        consumed + MaxTrailerBytes, MaxTrailerFields, out error);
                    if (status != ParseStatus.Complete) return status;
                    if (scratch.Count > 0)
                    {
                        // Trailers are rare; own a copy so they outlive the receive buffer.
                        byte[] copy = input[consumed..offset].ToArray();
                        _trailers = new FieldTable();
                        _trailers.Reset(copy);
                        int reparse = 0;
                        FieldLineParser.ParseSection(copy, ref reparse, _trailers, copy.Length, MaxTrailerFields, out _);
                    }
                    consumed = offset;
                    _state = State.Done;
                    return ParseStatus.Complete;
                }
                case State.Done:
                    return ParseStatus.Complete;
            }
        }
    }

    // chunk = chunk-size [ chunk-ext ] CRLF; chunk-size = 1*HEXDIG
    private static bool TryParseSizeLine(ReadOnlySpan<byte> line, out long size, out HttpError error)
    {
        size = 0;
        error = default;
        int digits = line.IndexOfAnyExcept(HttpSyntax.HexDigits);
        if (digits < 0) digits = line.Length;
        if (digits == 0)
        {
            error = HttpError.BadRequest("missing or invalid chunk size");
            return false;
        }
        ReadOnlySpan<byte> hex = line[..digits].TrimStart((byte)'0');
        if (hex.Length > 15)
        {
            error = HttpError.BadRequest("chunk size overflows");
            return false;
        }
        foreach (byte b in hex) size = (size << 4) | (uint)HttpSyntax.HexValue(b);
        return ChunkExtensions.TryValidate(line[digits..], out error);
    }

    private static ParseStatus Fail(out HttpError error, int status, string reason)
    {
        error = new HttpError(status, reason);
        return ParseStatus.Invalid;
    }
}

namespace Parley.Http1;

/// <summary>A parsed response head (RFC 9112 §4): status line, fields and the body framing derived from them.</summary>
internal sealed class ResponseHead
{
    internal int ParseOffset;
    internal bool StatusLineParsed;
    internal int ReasonStart, ReasonLength;

    /// <summary>The header fields, in order received.</summary>
    public FieldTable Fields { get; } = new();

    /// <summary>The version of the status line.</summary>
    public HttpVersion Version { get; internal set; }

    /// <summary>The three-digit status code.</summary>
    public int StatusCode { get; internal set; }

    /// <summary>The reason phrase as received (may be empty; RFC 9112 §4 says to ignore it).</summary>
    public ReadOnlySpan<byte> ReasonPhrase => Fields.Source.Slice(ReasonStart, ReasonLength);

    /// <summary>Bytes of the status line and fields, through the blank line.</summary>
    public int HeadLength { get; internal set; }

    /// <summary>Resets the instance for the next response.</summary>
    public void Reset()
    {
        ParseOffset = 0;
        StatusLineParsed = false;
        ReasonStart = ReasonLength = 0;
        Version = HttpVersion.Unknown;
        StatusCode = 0;
        HeadLength = 0;
        Fields.Reset(default);
    }
}

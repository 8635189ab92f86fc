using System.Text;

namespace Parley.Http1;

/// <summary>
/// A parsed request head: request line, fields and the framing decisions the engine derived from them.
/// One instance per connection, reset between requests; spans point into the connection's receive buffer.
/// </summary>
internal sealed class RequestHead
{
    // What one request's parse records, in one struct so that Reset clears it with a few wide stores
    // (every field's "nothing yet" is 0, but ContentLength's).
    private struct State
    {
        public int ParseOffset;
        public bool RequestLineParsed;
        public byte MethodKind; // HttpMethods.KindOf the method; 0 for an extension method
        public RequestTargetForm TargetForm;
        public HttpVersion Version;
        public BodyFraming Framing;
        public bool KeepAlive, ExpectContinue;
        public int MethodStart, MethodLength, TargetStart, TargetLength, PathStart, PathLength, AuthorityStart, AuthorityLength;
        public int HeadLength;
        public long ContentLength;
    }

    private State _state = new() { ContentLength = -1 };
    private string? _extensionMethod;

    // Parse progress, so that a head arriving in pieces is scanned once.
    internal ref int ParseOffset => ref _state.ParseOffset;
    internal ref bool RequestLineParsed => ref _state.RequestLineParsed;

    internal ref int MethodStart => ref _state.MethodStart;
    internal ref int MethodLength => ref _state.MethodLength;
    internal ref int TargetStart => ref _state.TargetStart;
    internal ref int TargetLength => ref _state.TargetLength;
    internal ref int PathStart => ref _state.PathStart;
    internal ref int PathLength => ref _state.PathLength; // bytes of the target's path part (origin-form), excluding '?query'
    internal ref int AuthorityStart => ref _state.AuthorityStart; // absolute-form and authority-form
    internal ref int AuthorityLength => ref _state.AuthorityLength;

    /// <summary>The header fields, in order received.</summary>
    public FieldTable Fields { get; } = new();

    /// <summary>Request method; a shared instance for standard methods.</summary>
    public string Method => _state.MethodKind != 0
        ? HttpMethods.OfKind(_state.MethodKind)
        : _extensionMethod ??= Encoding.ASCII.GetString(Fields.Source.Slice(MethodStart, MethodLength));

    /// <summary>The request-target bytes exactly as received.</summary>
    public ReadOnlySpan<byte> Target => Fields.Source.Slice(TargetStart, TargetLength);

    /// <summary>The path part of the target (before '?'), still percent-encoded. For absolute-form, the path after the authority.</summary>
    public ReadOnlySpan<byte> RawPath => Fields.Source.Slice(PathStart, PathLength);

    /// <summary>The query part of the target (after '?', without it), or empty.</summary>
    public ReadOnlySpan<byte> RawQuery
    {
        get
        {
            int queryStart = PathStart + PathLength;
            int end = TargetStart + TargetLength;
            // Only a '?' starts a query: an authority-form target has an empty path and no query.
            return queryStart < end && Fields.Source[queryStart] == (byte)'?' ? Fields.Source[(queryStart + 1)..end] : default;
        }
    }

    /// <summary>The authority of an absolute-form or authority-form target, else empty.</summary>
    public ReadOnlySpan<byte> TargetAuthority => Fields.Source.Slice(AuthorityStart, AuthorityLength);

    /// <summary>Which form the request-target takes.</summary>
    public RequestTargetForm TargetForm { get => _state.TargetForm; internal set => _state.TargetForm = value; }

    /// <summary>The protocol version of the request line.</summary>
    public HttpVersion Version { get => _state.Version; internal set => _state.Version = value; }

    /// <summary>Bytes from the start of the request (including any leading empty lines) through the blank line.</summary>
    public int HeadLength { get => _state.HeadLength; internal set => _state.HeadLength = value; }

    /// <summary>How the body is framed.</summary>
    public BodyFraming Framing { get => _state.Framing; internal set => _state.Framing = value; }

    /// <summary>The Content-Length, or -1 when the body is not length-delimited.</summary>
    public long ContentLength { get => _state.ContentLength; internal set => _state.ContentLength = value; }

    /// <summary>Whether the client asked to keep the connection open after this request.</summary>
    public bool KeepAlive { get => _state.KeepAlive; internal set => _state.KeepAlive = value; }

    /// <summary>Whether the client sent <c>Expect: 100-continue</c> (RFC 9110 §10.1.1).</summary>
    public bool ExpectContinue { get => _state.ExpectContinue; internal set => _state.ExpectContinue = value; }

    /// <summary>
    /// Whether a Host field with an empty value is accepted: only when the server has a default host to
    /// use instead (RFC 9112 §3.3). A setting of the connection, kept across <see cref="Reset"/>.
    /// </summary>
    public bool EmptyHostAllowed { get; set; }

    /// <summary>The value of the Host field (empty when absent).</summary>
    public ReadOnlySpan<byte> Host
    {
        get
        {
            int index = Fields.IndexOf(KnownField.Host);
            return index < 0 ? default : Fields.ValueAt(index);
        }
    }

    /// <summary>Forgets the previous request so the instance can parse the next one.</summary>
    public void Reset()
    {
        _state = default;
        _state.ContentLength = -1;
        _extensionMethod = null;
        Fields.Reset(default);
    }

    internal void SetMethod(byte kind) => _state.MethodKind = kind;

    /// <summary>Points the spans at the buffer's new location after the owner moved the bytes.</summary>
    public void Rebind(ReadOnlyMemory<byte> request) => Fields.Rebind(request);
}

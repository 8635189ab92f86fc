using System.Text;

namespace Parley.Http1;

/// <summary>
/// A parsed request head: request line, fields and the framing decisions the engine derived from them.
/// One instance per connection, reset between requests; spans point into the connection's receive buffer.
/// </summary>
public sealed class RequestHead
{
    // Parse progress, so that a head arriving in pieces is scanned once.
    internal int ParseOffset;
    internal bool RequestLineParsed;

    internal int MethodStart, MethodLength;
    internal int TargetStart, TargetLength;
    internal int PathLength; // bytes of the target's path part (origin-form), excluding '?query'
    internal int AuthorityStart, AuthorityLength; // absolute-form and authority-form
    private byte _methodKind; // HttpMethods.KindOf the method; 0 for an extension method
    private string? _extensionMethod;

    /// <summary>The header fields, in order received.</summary>
    public FieldTable Fields { get; } = new();

    /// <summary>Request method; a shared instance for standard methods.</summary>
    public string Method => _methodKind != 0
        ? HttpMethods.OfKind(_methodKind)
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
            return queryStart < end ? Fields.Source[(queryStart + 1)..end] : default;
        }
    }

    /// <summary>The authority of an absolute-form or authority-form target, else empty.</summary>
    public ReadOnlySpan<byte> TargetAuthority => Fields.Source.Slice(AuthorityStart, AuthorityLength);

    internal int PathStart;

    /// <summary>Which form the request-target takes.</summary>
    public RequestTargetForm TargetForm { get; internal set; }

    /// <summary>The protocol version of the request line.</summary>
    public HttpVersion Version { get; internal set; }

    /// <summary>Bytes from the start of the request (including any leading empty lines) through the blank line.</summary>
    public int HeadLength { get; internal set; }

    /// <summary>How the body is framed.</summary>
    public BodyFraming Framing { get; internal set; }

    /// <summary>The Content-Length, or -1 when the body is not length-delimited.</summary>
    public long ContentLength { get; internal set; } = -1;

    /// <summary>Whether the client asked to keep the connection open after this request.</summary>
    public bool KeepAlive { get; internal set; }

    /// <summary>Whether the client sent <c>Expect: 100-continue</c> (RFC 9110 §10.1.1).</summary>
    public bool ExpectContinue { get; internal set; }

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
        ParseOffset = 0;
        RequestLineParsed = false;
        MethodStart = MethodLength = TargetStart = TargetLength = PathStart = PathLength = 0;
        AuthorityStart = AuthorityLength = 0;
        _methodKind = 0;
        _extensionMethod = null;
        TargetForm = RequestTargetForm.Origin;
        Version = HttpVersion.Unknown;
        HeadLength = 0;
        Framing = BodyFraming.None;
        ContentLength = -1;
        KeepAlive = false;
        ExpectContinue = false;
        Fields.Reset(default);
    }

    internal void SetMethod(byte kind) => _methodKind = kind;

    /// <summary>Points the spans at the buffer's new location after the owner moved the bytes.</summary>
    public void Rebind(ReadOnlyMemory<byte> request) => Fields.Rebind(request);
}

using System.Buffers;
using Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http;
using HttpMethod = Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpMethod;
using HttpVersion = Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpVersion;

namespace Parley.Benchmarks;

/// <summary>
/// What a Kestrel parse leaves behind: the same facts Parley's <c>RequestHead</c> records about the
/// request line, plus a header count. A class, because Kestrel passes the handler struct by value.
/// </summary>
public sealed class KestrelParseResult
{
    public HttpMethod Method;
    public HttpVersion Version;
    public int TargetOffset, TargetLength;
    public bool TargetEncoded;
    public int HeaderCount;
    public bool Complete;

    public void Reset()
    {
        Method = default;
        Version = default;
        TargetOffset = TargetLength = HeaderCount = 0;
        TargetEncoded = false;
        Complete = false;
    }
}

/// <summary>
/// The callback struct Kestrel's parser is generic over (as its own <c>Http1ParsingHandler</c> is): it
/// records the request line and counts headers, nothing more.
/// </summary>
public readonly struct KestrelCountingHandler(KestrelParseResult result) : IHttpRequestLineHandler, IHttpHeadersHandler
{
    public void OnStartLine(HttpVersionAndMethod versionAndMethod, TargetOffsetPathLength targetPath, Span<byte> startLine)
    {
        result.Method = versionAndMethod.Method;
        result.Version = versionAndMethod.Version;
        result.TargetOffset = targetPath.Offset;
        result.TargetLength = targetPath.Length;
        result.TargetEncoded = targetPath.IsEncoded;
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => result.HeaderCount++;

    public void OnHeadersComplete(bool endStream) => result.Complete = true;

    public void OnStaticIndexedHeader(int index) => result.HeaderCount++;

    public void OnStaticIndexedHeader(int index, ReadOnlySpan<byte> value) => result.HeaderCount++;
}

/// <summary>Runs Kestrel's HTTP/1.1 parser the way <c>Http1Connection</c> does: request line, then headers.</summary>
public static class KestrelParsing
{
    /// <summary>Parses one request head at the reader's position; false if it is incomplete.</summary>
    public static bool ParseOne(HttpParser<KestrelCountingHandler> parser, KestrelCountingHandler handler, ref SequenceReader<byte> reader) =>
        parser.ParseRequestLine(handler, ref reader) && parser.ParseHeaders(handler, ref reader);
}

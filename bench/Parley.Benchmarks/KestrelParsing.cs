using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
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

/// <summary>What the benchmarks do between two requests with each kind of Kestrel handler.</summary>
public interface IKestrelBenchHandler
{
    /// <summary>Forgets the previous request, as Kestrel's <c>HttpProtocol.Reset</c> does for its part.</summary>
    void Reset();
}

/// <summary>
/// The callback struct Kestrel's parser is generic over (as its own <c>Http1ParsingHandler</c> is): it
/// records the request line and counts headers, nothing more.
/// </summary>
public readonly struct KestrelCountingHandler(KestrelParseResult result) : IHttpRequestLineHandler, IHttpHeadersHandler, IKestrelBenchHandler
{
    public void Reset() => result.Reset();

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

/// <summary>
/// A handler that also does Kestrel's own work on each header after the parser found it: as far as we
/// read Kestrel, <c>Http1Connection.OnHeader</c> hands every header to
/// <c>HttpRequestHeaders.Append(name, value, checkForNewlineChars: false)</c> (known-header lookup, the value
/// decoded into a string, NUL rejected, or a known header's string reused when the bytes repeat), <c>OnHeadersComplete</c> ends the
/// section, and <c>HttpProtocol.Reset</c> resets the collection before each request. Kestrel's request-line
/// checks after the parser, Host checks and body framing are not run: they need a whole connection.
/// </summary>
public readonly struct KestrelCollectingHandler(KestrelParseResult result, object headers) : IHttpRequestLineHandler, IHttpHeadersHandler, IKestrelBenchHandler
{
    private readonly KestrelCountingHandler _counting = new(result);

    /// <summary>The collection, an <c>IHeaderDictionary</c>, for checking what it holds.</summary>
    public object Headers => headers;

    public void Reset()
    {
        result.Reset();
        KestrelRequestHeaders.Reset(headers);
    }

    public void OnStartLine(HttpVersionAndMethod versionAndMethod, TargetOffsetPathLength targetPath, Span<byte> startLine) =>
        _counting.OnStartLine(versionAndMethod, targetPath, startLine);

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        KestrelRequestHeaders.Append(headers, name, value, checkForNewlineChars: false);
        _counting.OnHeader(name, value);
    }

    public void OnHeadersComplete(bool endStream)
    {
        KestrelRequestHeaders.OnHeadersComplete(headers);
        _counting.OnHeadersComplete(endStream);
    }

    public void OnStaticIndexedHeader(int index) => _counting.OnStaticIndexedHeader(index);

    public void OnStaticIndexedHeader(int index, ReadOnlySpan<byte> value) => _counting.OnStaticIndexedHeader(index, value);
}

/// <summary>
/// Kestrel's <c>HttpRequestHeaders</c>, internal to its assembly, reached through <c>UnsafeAccessor</c>
/// (bench only): the calls <c>Http1Connection</c> makes on it for each request.
/// </summary>
public static class KestrelRequestHeaders
{
    private const string RequestHeaders = "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpRequestHeaders, Microsoft.AspNetCore.Server.Kestrel.Core";
    private const string Headers = "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpHeaders, Microsoft.AspNetCore.Server.Kestrel.Core";

    /// <summary>A collection as Kestrel makes one per connection: header value strings reused (its default).</summary>
    public static object Create() => Construct(reuseHeaderValues: true, encodingSelector: null);

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    [return: UnsafeAccessorType(RequestHeaders)]
    private static extern object Construct(bool reuseHeaderValues, Func<string, Encoding?>? encodingSelector);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Append")]
    public static extern void Append([UnsafeAccessorType(RequestHeaders)] object headers, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool checkForNewlineChars);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "OnHeadersComplete")]
    public static extern void OnHeadersComplete([UnsafeAccessorType(RequestHeaders)] object headers);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Reset")]
    public static extern void Reset([UnsafeAccessorType(Headers)] object headers);
}

/// <summary>Runs Kestrel's HTTP/1.1 parser the way <c>Http1Connection</c> does: request line, then headers.</summary>
public static class KestrelParsing
{
    /// <summary>Parses one request head at the reader's position; false if it is incomplete.</summary>
    public static bool ParseOne<THandler>(HttpParser<THandler> parser, THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttpRequestLineHandler, IHttpHeadersHandler =>
        parser.ParseRequestLine(handler, ref reader) && parser.ParseHeaders(handler, ref reader);
}

using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// Runs a parser case three ways, as STYLE.md asks: whole, one byte at a time (growing prefixes fed to the
/// same head, as the server does) and split at every offset into two pieces (the second call sees a fresh
/// copy, as after the server moved its buffer). Every way must give the same status, error code and values.
/// </summary>
internal static class ParseHarness
{
    /// <summary>What one way of parsing produced, in a form that compares by value.</summary>
    public sealed record Outcome(ParseStatus Status, int ErrorCode, string Values)
    {
        public override string ToString() => $"{Status} {ErrorCode} {Values}";
    }

    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    // ---- request heads ----

    /// <summary>Parses a request three ways, asserts one outcome and returns it with the head of the whole parse.</summary>
    public static (Outcome Outcome, RequestHead Head) Request(string request, HeadLimits? limits = null) =>
        Request(Bytes(request), limits);

    public static (Outcome Outcome, RequestHead Head) Request(byte[] input, HeadLimits? limits = null)
    {
        limits ??= HeadLimits.Default;
        var head = new RequestHead();
        Outcome whole = ParseRequestInPieces(input, [input.Length], head, limits);

        Outcome byteByByte = ParseRequestInPieces(input, Enumerable.Range(1, input.Length).ToArray(), new RequestHead(), limits);
        Assert.True(whole == byteByByte, $"whole: {whole}\nbyte by byte: {byteByByte}");

        for (int split = 1; split < input.Length; split++)
        {
            Outcome twoPieces = ParseRequestInPieces(input, [split, input.Length], new RequestHead(), limits);
            Assert.True(whole == twoPieces, $"whole: {whole}\nsplit at {split}: {twoPieces}");
        }
        return (whole, head);
    }

    /// <summary>Parses and asserts the request is complete; returns the head.</summary>
    public static RequestHead Accepts(string request, HeadLimits? limits = null)
    {
        var (outcome, head) = Request(request, limits);
        Assert.True(outcome.Status == ParseStatus.Complete, $"expected Complete, got {outcome}");
        return head;
    }

    /// <summary>Parses and asserts the request is rejected with <paramref name="statusCode"/>.</summary>
    public static void Rejects(string request, int statusCode, HeadLimits? limits = null) =>
        Rejects(Bytes(request), statusCode, limits);

    public static void Rejects(byte[] request, int statusCode, HeadLimits? limits = null)
    {
        var (outcome, _) = Request(request, limits);
        Assert.True(outcome.Status == ParseStatus.Invalid && outcome.ErrorCode == statusCode,
            $"expected Invalid {statusCode}, got {outcome}");
    }

    // Feeds input[..ends[0]], then input[..ends[1]], ... until a call says something other than NeedMoreData.
    // Each call gets a fresh array holding exactly the prefix, so nothing can be read past what has arrived.
    private static Outcome ParseRequestInPieces(byte[] input, int[] ends, RequestHead head, HeadLimits limits)
    {
        head.Reset();
        ParseStatus status = ParseStatus.NeedMoreData;
        HttpError error = default;
        foreach (int end in ends)
        {
            byte[] prefix = input[..end];
            status = RequestHeadParser.Parse(prefix, head, limits, out error);
            if (status != ParseStatus.NeedMoreData) break;
        }
        if (status == ParseStatus.Invalid)
        {
            Assert.True(error.IsError && error.Reason.Length > 0, "Invalid without an error");
            return new Outcome(status, error.StatusCode, "");
        }
        Assert.False(error.IsError, $"{status} with an error {error}");
        return new Outcome(status, 0, status == ParseStatus.Complete ? Describe(head) : "");
    }

    private static string Describe(RequestHead head)
    {
        var s = new StringBuilder();
        s.Append($"method={head.Method} target={Latin1(head.Target)} form={head.TargetForm} path={Latin1(head.RawPath)} ");
        s.Append($"query={Latin1(head.RawQuery)} authority={Latin1(head.TargetAuthority)} version={head.Version} ");
        s.Append($"head={head.HeadLength} framing={head.Framing} cl={head.ContentLength} keepAlive={head.KeepAlive} ");
        s.Append($"continue={head.ExpectContinue} host={Latin1(head.Host)} fields=[");
        DescribeFields(s, head.Fields);
        return s.Append(']').ToString();
    }

    internal static void DescribeFields(StringBuilder s, FieldTable fields)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            s.Append($"{Latin1(fields.NameAt(i))}({fields.KnownAt(i)})=<{Latin1(fields.ValueAt(i))}>;");
        }
    }

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    // ---- response heads ----

    public static (Outcome Outcome, ResponseHead Head) Response(string response, HeadLimits? limits = null)
    {
        limits ??= HeadLimits.Default;
        byte[] input = Bytes(response);
        var head = new ResponseHead();
        Outcome whole = ParseResponseInPieces(input, [input.Length], head, limits);
        Outcome byteByByte = ParseResponseInPieces(input, Enumerable.Range(1, input.Length).ToArray(), new ResponseHead(), limits);
        Assert.True(whole == byteByByte, $"whole: {whole}\nbyte by byte: {byteByByte}");
        for (int split = 1; split < input.Length; split++)
        {
            Outcome twoPieces = ParseResponseInPieces(input, [split, input.Length], new ResponseHead(), limits);
            Assert.True(whole == twoPieces, $"whole: {whole}\nsplit at {split}: {twoPieces}");
        }
        return (whole, head);
    }

    private static Outcome ParseResponseInPieces(byte[] input, int[] ends, ResponseHead head, HeadLimits limits)
    {
        head.Reset();
        ParseStatus status = ParseStatus.NeedMoreData;
        HttpError error = default;
        foreach (int end in ends)
        {
            status = ResponseHeadParser.Parse(input[..end], head, limits, out error);
            if (status != ParseStatus.NeedMoreData) break;
        }
        if (status == ParseStatus.Invalid)
        {
            Assert.False(string.IsNullOrEmpty(error.Reason), "Invalid without a reason");
            return new Outcome(status, error.StatusCode, "");
        }
        if (status == ParseStatus.NeedMoreData) return new Outcome(status, 0, "");
        var s = new StringBuilder($"version={head.Version} status={head.StatusCode} reason=<{Latin1(head.ReasonPhrase)}> head={head.HeadLength} fields=[");
        DescribeFields(s, head.Fields);
        return new Outcome(status, 0, s.Append(']').ToString());
    }

    // ---- chunked bodies ----

    /// <summary>Decodes a chunked body three ways; returns the common outcome and the decoder of the whole run.</summary>
    public static (Outcome Outcome, ChunkedDecoder Decoder) Chunked(string body, Action<ChunkedDecoder>? configure = null) =>
        Chunked(Bytes(body), configure);

    public static (Outcome Outcome, ChunkedDecoder Decoder) Chunked(byte[] input, Action<ChunkedDecoder>? configure = null)
    {
        ChunkedDecoder NewDecoder()
        {
            var decoder = new ChunkedDecoder();
            configure?.Invoke(decoder);
            return decoder;
        }
        ChunkedDecoder first = NewDecoder();
        Outcome whole = DecodeInPieces(input, [input.Length], first);
        Outcome byteByByte = DecodeInPieces(input, Enumerable.Range(1, input.Length).ToArray(), NewDecoder());
        Assert.True(whole == byteByByte, $"whole: {whole}\nbyte by byte: {byteByByte}");
        for (int split = 1; split < input.Length; split++)
        {
            Outcome twoPieces = DecodeInPieces(input, [split, input.Length], NewDecoder());
            Assert.True(whole == twoPieces, $"whole: {whole}\nsplit at {split}: {twoPieces}");
        }
        return (whole, first);
    }

    // Plays the server's part: keep the undecoded bytes, append each new piece, discard what the decoder consumed.
    private static Outcome DecodeInPieces(byte[] input, int[] ends, ChunkedDecoder decoder)
    {
        decoder.Reset();
        var pending = new List<byte>();
        var body = new List<byte>();
        int fed = 0;
        foreach (int end in ends)
        {
            pending.AddRange(input[fed..end]);
            fed = end;
            while (true)
            {
                byte[] buffer = pending.ToArray();
                ParseStatus status = decoder.Decode(buffer, out int consumed, out int dataStart, out int dataLength, out HttpError error);
                if (status == ParseStatus.Invalid)
                {
                    Assert.True(error.IsError);
                    return new Outcome(status, error.StatusCode, "");
                }
                Assert.InRange(consumed, 0, buffer.Length);
                if (dataLength > 0)
                {
                    Assert.True(dataStart >= 0 && dataStart + dataLength <= consumed, "data outside the consumed range");
                    body.AddRange(buffer[dataStart..(dataStart + dataLength)]);
                }
                pending.RemoveRange(0, consumed);
                if (decoder.IsComplete)
                {
                    pending.AddRange(input[fed..]); // what follows the body is the next message's
                    var s = new StringBuilder($"body=<{Latin1(body.ToArray())}> total={decoder.TotalDataLength} rest=<{Latin1(pending.ToArray())}> trailers=[");
                    if (decoder.Trailers is { } trailers) DescribeFields(s, trailers);
                    return new Outcome(ParseStatus.Complete, 0, s.Append(']').ToString());
                }
                if (status == ParseStatus.NeedMoreData) break;
            }
        }
        return new Outcome(ParseStatus.NeedMoreData, 0, $"body=<{Latin1(body.ToArray())}>");
    }
}

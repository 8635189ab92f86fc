using System.Text;
using Parley.Content;
using Parley.Http1;

namespace Parley.Fuzz;

/// <summary>Thrown when a target's property (beyond "no crash") does not hold.</summary>
public sealed class PropertyViolation(string message) : Exception(message);

/// <summary>
/// The fuzz targets, shared by the AFL++ driver (Program.cs) and the bounded in-process test. Each takes
/// arbitrary bytes, must not throw anything but <see cref="PropertyViolation"/> on a broken property, and
/// checks: the same bytes split at any offset give the same result as one read; parse limits hold.
/// </summary>
public static partial class FuzzTargets
{
    public static readonly string[] Names = ["request", "chunked", "response", "form", "multipart", "range", "route", "query", "proxy", "forwarded"];

    public static void Run(string target, ReadOnlySpan<byte> data)
    {
        switch (target)
        {
            case "request": Request(data); break;
            case "chunked": Chunked(data); break;
            case "response": Response(data); break;
            case "form": Form(data); break;
            case "multipart": Multipart(data); break;
            case "range": Range(data); break;
            case "route": Route(data); break;
            case "query": Query(data); break;
            case "proxy": ProxyProtocol(data); break;
            case "forwarded": Forwarded(data); break;
            default: throw new ArgumentException($"unknown target '{target}'", nameof(target));
        }
    }

    private static readonly HeadLimits Limits = new() { MaxHeadBytes = 2048, MaxTargetLength = 512, MaxFieldCount = 16 };

    // Split offsets to try: all of them for short inputs, a spread otherwise.
    private static IEnumerable<int> Splits(int length)
    {
        int step = length <= 256 ? 1 : length / 64;
        for (int i = 0; i < length; i += step) yield return i;
    }

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new PropertyViolation(message);
    }

    // ---------------------------------------------------------------- request head + framing
    private static string ParseRequest(ReadOnlyMemory<byte> data, int split)
    {
        var head = new RequestHead();
        head.Reset();
        ParseStatus status;
        HttpError error;
        if (split > 0)
        {
            status = RequestHeadParser.Parse(data[..split], head, Limits, out error);
            if (status != ParseStatus.NeedMoreData) return Describe(status, error, head, data);
        }
        status = RequestHeadParser.Parse(data, head, Limits, out error);
        return Describe(status, error, head, data);
    }

    private static string Describe(ParseStatus status, HttpError error, RequestHead head, ReadOnlyMemory<byte> data)
    {
        if (status == ParseStatus.Invalid) return $"invalid {error.StatusCode}";
        if (status == ParseStatus.NeedMoreData) return "more";
        Check(head.HeadLength <= Limits.MaxHeadBytes + 8, $"head of {head.HeadLength} bytes passed a {Limits.MaxHeadBytes}-byte limit");
        Check(head.Fields.Count <= Limits.MaxFieldCount, $"{head.Fields.Count} fields passed a limit of {Limits.MaxFieldCount}");
        Check(head.Target.Length <= Limits.MaxTargetLength, "target longer than its limit");
        Check(head.Framing != BodyFraming.ContentLength || head.ContentLength > 0, "Content-Length framing without a positive length");
        string body = head.Framing == BodyFraming.Chunked ? DecodeChunked(data.Span[head.HeadLength..], 0) : "";
        return $"complete {head.HeadLength} {head.Method} {head.Framing} {head.ContentLength} {head.KeepAlive} {body}";
    }

    private static void Request(ReadOnlySpan<byte> input)
    {
        ReadOnlyMemory<byte> data = input.ToArray();
        string whole = ParseRequest(data, 0);
        foreach (int split in Splits(data.Length))
        {
            string parts = ParseRequest(data, split);
            Check(parts == whole, $"split at {split}: '{parts}' but whole: '{whole}'");
        }
    }

    // ---------------------------------------------------------------- chunked decoder
    private const long MaxChunkedBody = 4096;

    // Feeds the input in steps of `step` bytes (0: all at once), keeping unconsumed bytes as a caller must.
    private static string DecodeChunked(ReadOnlySpan<byte> input, int step)
    {
        var decoder = new ChunkedDecoder { MaxBodySize = MaxChunkedBody, MaxTrailerBytes = 1024, MaxTrailerFields = 8 };
        var body = new List<byte>();
        int start = 0, available = step == 0 ? input.Length : Math.Min(step, input.Length);
        while (true)
        {
            ParseStatus status = decoder.Decode(input[start..available], out int consumed, out int dataStart, out int dataLength, out HttpError error);
            Check(consumed >= 0 && consumed <= available - start, "consumed outside the input");
            if (status == ParseStatus.Invalid) return $"invalid {error.StatusCode} after {body.Count}";
            if (status == ParseStatus.Complete)
            {
                Check(dataStart >= 0 && dataStart + dataLength <= consumed, "data outside the consumed range");
                body.AddRange(input.Slice(start + dataStart, dataLength).ToArray());
                start += consumed;
                Check(decoder.TotalDataLength <= MaxChunkedBody, "decoded past MaxBodySize");
                if (decoder.IsComplete) return $"done {body.Count} {Convert.ToHexString(body.ToArray())} rest {input.Length - start}";
                if (dataLength == 0 && consumed == 0) return "stuck";
                continue;
            }
            start += consumed;
            if (available == input.Length) return $"more {body.Count} {Convert.ToHexString(body.ToArray())}";
            available = step == 0 ? input.Length : Math.Min(available + step, input.Length);
        }
    }

    private static void Chunked(ReadOnlySpan<byte> data)
    {
        string whole = DecodeChunked(data, 0);
        foreach (int step in new[] { 1, 2, 3, 7, 64 })
        {
            string stepped = DecodeChunked(data, step);
            Check(stepped == whole, $"fed {step} bytes at a time: '{stepped}' but whole: '{whole}'");
        }
    }

    // ---------------------------------------------------------------- response head
    private static string ParseResponse(ReadOnlyMemory<byte> data, int split)
    {
        var head = new ResponseHead();
        head.Reset();
        ParseStatus status;
        HttpError error;
        if (split > 0)
        {
            status = ResponseHeadParser.Parse(data[..split], head, Limits, out error);
            if (status != ParseStatus.NeedMoreData) return DescribeResponse(status, error, head);
        }
        status = ResponseHeadParser.Parse(data, head, Limits, out error);
        return DescribeResponse(status, error, head);
    }

    private static string DescribeResponse(ParseStatus status, HttpError error, ResponseHead head)
    {
        if (status != ParseStatus.Complete) return $"{status} {error.StatusCode}";
        Check(head.Fields.Count <= Limits.MaxFieldCount, "too many response fields accepted");
        bool framed = ResponseHeadParser.TryGetFraming(head, requestWasHead: false, out BodyFraming framing, out long length, out HttpError framingError);
        return $"complete {head.StatusCode} {framed} {framing} {length} {framingError.StatusCode}";
    }

    private static void Response(ReadOnlySpan<byte> input)
    {
        ReadOnlyMemory<byte> data = input.ToArray();
        string whole = ParseResponse(data, 0);
        foreach (int split in Splits(data.Length))
        {
            string parts = ParseResponse(data, split);
            Check(parts == whole, $"split at {split}: '{parts}' but whole: '{whole}'");
        }
    }

    // ---------------------------------------------------------------- forms, multipart, ranges
    private static void Form(ReadOnlySpan<byte> data)
    {
        var limits = new FormLimits { MaxFieldCount = 20, MaxValueLength = 256, MaxBodyBytes = 4096 };
        try
        {
            FormFields fields = FormUrlEncoded.Parse(data, limits);
            Check(fields.Count <= limits.MaxFieldCount, "form field limit passed");
            foreach (FormField field in fields) Check(field.Value.Length <= limits.MaxValueLength, "form value limit passed");
        }
        catch (FormException)
        {
        }
    }

    private static string ReadMultipart(byte[] data, int readSize)
    {
        var limits = new MultipartLimits { MaxPartCount = 8, MaxHeaderBytesPerPart = 512, MaxFieldValueBytes = 1024, MaxTotalBytes = 8192 };
        var result = new StringBuilder();
        try
        {
            var reader = new MultipartReader(new TrickleStream(data, readSize), "b", limits);
            int parts = 0;
            while (reader.ReadNextPartAsync().AsTask().GetAwaiter().GetResult() is { } part)
            {
                Check(++parts <= limits.MaxPartCount, "part count limit passed");
                var body = new MemoryStream();
                part.Body.CopyTo(body);
                result.Append($"[{part.Name}|{part.FileName}|{Convert.ToHexString(body.ToArray())}]");
            }
            return result.ToString();
        }
        catch (FormException ex)
        {
            return result + $" error {ex.StatusCode}";
        }
    }

    private static void Multipart(ReadOnlySpan<byte> input)
    {
        byte[] data = input.ToArray();
        string whole = ReadMultipart(data, int.MaxValue);
        foreach (int size in new[] { 1, 3, 17 })
        {
            string trickled = ReadMultipart(data, size);
            Check(trickled == whole, $"read {size} bytes at a time: '{trickled}' but whole: '{whole}'");
        }
    }

    private static void Range(ReadOnlySpan<byte> data)
    {
        const long Length = 1000;
        var limits = new RangeLimits { MaxRanges = 8 };
        RangeResult result = RangeHeader.Parse(Encoding.Latin1.GetString(data), Length, limits);
        Check(result.Ranges.Count <= limits.MaxRanges, "more ranges than the limit");
        foreach (ByteRange range in result.Ranges)
        {
            Check(range.Start >= 0 && range.Length > 0 && range.Start + range.Length <= Length, $"range {range} outside the representation");
        }
    }

    /// <summary>A stream that returns at most a few bytes per read, to exercise every buffer boundary.</summary>
    private sealed class TrickleStream(byte[] data, int readSize) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, readSize), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

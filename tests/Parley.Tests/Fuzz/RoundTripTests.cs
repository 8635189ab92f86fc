using System.Text;
using Parley.Http1;

namespace Parley.Tests.Fuzz;

/// <summary>
/// parse(serialize(m)) == m: generated requests and responses are written with <see cref="MessageWriter"/>
/// and read back with the parsers; every field, the target and the body must come back as they went in.
/// Deterministic seeds, so a failure names the message that broke.
/// </summary>
public class RoundTripTests
{
    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string PathChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@";
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "PROPFIND", "X-CUSTOM"];
    private static readonly string[] Reserved = ["host", "content-length", "transfer-encoding", "connection", "expect", "keep-alive", "te", "trailer", "upgrade"];

    private sealed record Message(string Method, string Target, List<KeyValuePair<string, string>> Fields, byte[] Body, bool Chunked,
        List<KeyValuePair<string, string>> Trailers);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Generated_requests_parse_back_to_what_was_serialized(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 250; i++)
        {
            Message message = GenerateRequest(random);
            byte[] wire = Serialize(message);
            string context = $"seed {seed}, message {i}:\n{Encoding.Latin1.GetString(wire)}";

            var head = new RequestHead();
            ParseStatus status = RequestHeadParser.Parse(wire, head, HeadLimits.Default, out HttpError error);
            Assert.True(status == ParseStatus.Complete, $"{status} {error} for {context}");
            Assert.Equal(message.Method, head.Method);
            Assert.Equal(message.Target, Encoding.ASCII.GetString(head.Target));
            Assert.Equal(HttpVersion.Http11, head.Version);
            var parsed = new List<KeyValuePair<string, string>>();
            for (int f = 0; f < head.Fields.Count; f++)
            {
                string name = head.Fields.NameStringAt(f);
                if (name is "Host" or "Content-Length" or "Transfer-Encoding") continue;
                parsed.Add(new(name, head.Fields.ValueStringAt(f)));
            }
            Assert.Equal(message.Fields, parsed);
            Assert.Equal(message.Body, ReadBody(wire.AsSpan(head.HeadLength), head, message, context));
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Generated_responses_parse_back_to_what_was_serialized(int seed)
    {
        var random = new Random(seed);
        int[] statuses = [200, 201, 204, 206, 301, 304, 404, 418, 500, 503];
        for (int i = 0; i < 250; i++)
        {
            int statusCode = statuses[random.Next(statuses.Length)];
            var fields = GenerateFields(random);
            byte[] body = StatusCodes.ForbidsBody(statusCode) ? [] : RandomBytes(random, random.Next(0, 300));
            var output = new ByteBuffer(256);
            MessageWriter.WriteStatusLine(output, statusCode);
            foreach (var field in fields) MessageWriter.WriteField(output, field.Key, field.Value);
            if (!StatusCodes.ForbidsBody(statusCode)) MessageWriter.WriteContentLength(output, body.Length);
            output.Write("\r\n"u8);
            output.Write(body);
            byte[] wire = output.WrittenSpan.ToArray();

            var head = new ResponseHead();
            Assert.Equal(ParseStatus.Complete, ResponseHeadParser.Parse(wire, head, HeadLimits.Default, out _));
            Assert.Equal(statusCode, head.StatusCode);
            Assert.Equal(StatusCodes.ReasonPhrase(statusCode), Encoding.ASCII.GetString(head.ReasonPhrase));
            var parsed = new List<KeyValuePair<string, string>>();
            for (int f = 0; f < head.Fields.Count; f++)
            {
                if (head.Fields.KnownAt(f) == KnownField.ContentLength) continue;
                parsed.Add(new(head.Fields.NameStringAt(f), head.Fields.ValueStringAt(f)));
            }
            Assert.Equal(fields, parsed);
            Assert.True(ResponseHeadParser.TryGetFraming(head, requestWasHead: false, out BodyFraming framing, out long length, out _));
            byte[] parsedBody = framing == BodyFraming.ContentLength ? wire.AsSpan(head.HeadLength, (int)length).ToArray() : [];
            Assert.Equal(body, parsedBody);
        }
    }

    private static byte[] ReadBody(ReadOnlySpan<byte> rest, RequestHead head, Message message, string context)
    {
        if (!message.Chunked)
        {
            Assert.Equal(message.Body.Length == 0 ? BodyFraming.None : BodyFraming.ContentLength, head.Framing);
            return rest[..message.Body.Length].ToArray();
        }
        Assert.Equal(BodyFraming.Chunked, head.Framing);
        var decoder = new ChunkedDecoder();
        var body = new List<byte>();
        while (!decoder.IsComplete)
        {
            ParseStatus status = decoder.Decode(rest, out int consumed, out int dataStart, out int dataLength, out HttpError error);
            Assert.True(status == ParseStatus.Complete, $"{status} {error} for {context}");
            body.AddRange(rest.Slice(dataStart, dataLength).ToArray());
            rest = rest[consumed..];
        }
        Assert.True(rest.IsEmpty, context);
        var trailers = new List<KeyValuePair<string, string>>();
        for (int f = 0; decoder.Trailers is { } table && f < table.Count; f++) trailers.Add(new(table.NameStringAt(f), table.ValueStringAt(f)));
        Assert.Equal(message.Trailers, trailers);
        return body.ToArray();
    }

    private static Message GenerateRequest(Random random)
    {
        string method = Methods[random.Next(Methods.Length)];
        var target = new StringBuilder();
        for (int s = random.Next(0, 4); s >= 0; s--) target.Append('/').Append(RandomString(random, PathChars, random.Next(0, 12)));
        if (random.Next(3) == 0) target.Append('?').Append(RandomString(random, PathChars + "/?", random.Next(0, 20)));
        bool hasBody = random.Next(2) == 0;
        bool chunked = hasBody && random.Next(2) == 0;
        byte[] body = hasBody ? RandomBytes(random, random.Next(chunked ? 0 : 1, 2000)) : [];
        var trailers = chunked && random.Next(3) == 0 ? GenerateFields(random, max: 3) : [];
        return new Message(method, target.ToString(), GenerateFields(random), body, chunked, trailers);
    }

    private static List<KeyValuePair<string, string>> GenerateFields(Random random, int max = 12)
    {
        var fields = new List<KeyValuePair<string, string>>();
        for (int f = random.Next(0, max); f > 0; f--)
        {
            string name = RandomString(random, TokenChars, random.Next(1, 20));
            if (Array.IndexOf(Reserved, name.ToLowerInvariant()) >= 0) continue;
            // Field content without leading or trailing whitespace (RFC 9110 §5.5 strips it).
            string value = random.Next(5) == 0 ? "" : RandomString(random, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", 1)
                + RandomString(random, " \t!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", random.Next(0, 40)).TrimEnd(' ', '\t');
            fields.Add(new(name, value));
        }
        return fields;
    }

    private static byte[] Serialize(Message message)
    {
        var output = new ByteBuffer(512);
        MessageWriter.WriteRequestLine(output, message.Method, message.Target);
        MessageWriter.WriteField(output, "Host", "example.com");
        foreach (var field in message.Fields) MessageWriter.WriteField(output, field.Key, field.Value);
        if (message.Chunked)
        {
            MessageWriter.WriteField(output, "Transfer-Encoding", "chunked");
            output.Write("\r\n"u8);
            var random = new Random(message.Body.Length);
            for (int offset = 0; offset < message.Body.Length;)
            {
                int size = Math.Min(message.Body.Length - offset, random.Next(1, 600));
                MessageWriter.WriteChunkHeader(output, size);
                output.Write(message.Body.AsSpan(offset, size));
                MessageWriter.WriteChunkTrailer(output);
                offset += size;
            }
            output.Write("0\r\n"u8);
            foreach (var trailer in message.Trailers) MessageWriter.WriteField(output, trailer.Key, trailer.Value);
            output.Write("\r\n"u8);
        }
        else
        {
            if (message.Body.Length > 0) MessageWriter.WriteContentLength(output, message.Body.Length);
            output.Write("\r\n"u8);
            output.Write(message.Body);
        }
        return output.WrittenSpan.ToArray();
    }

    private static string RandomString(Random random, string alphabet, int length)
    {
        var chars = new char[length];
        for (int i = 0; i < length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
        return new string(chars);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}

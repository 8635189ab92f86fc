using System.Net.Sockets;
using System.Text;

namespace Parley.AspNetCore.Tests;

/// <summary>A response as it came off the wire: status line, field lines in order, and the body with its framing removed.</summary>
public sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Fields, byte[] Body, string Framing)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Field(string name) => Fields.FirstOrDefault(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The trailer section of a chunked body as received: its field lines, each with its CRLF ("" when empty).</summary>
    public string TrailerSection { get; init; } = "";

    /// <summary>The trailer fields of a chunked body, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers => TrailerSection.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
        .Select(line => new KeyValuePair<string, string>(line[..line.IndexOf(':')], line[(line.IndexOf(':') + 1)..].Trim()))
        .ToList();

    /// <summary>
    /// The fields to compare between servers: names lower-cased and sorted, without Date and Server (they
    /// differ by design), the framing fields (compared through <see cref="Framing"/>) and Keep-Alive
    /// (Parley announces its idle timeout; docs/aspnetcore.md).
    /// </summary>
    public string ComparableFields => string.Join("\n", Fields
        .Where(f => f.Key.ToLowerInvariant() is not ("date" or "server" or "content-length" or "transfer-encoding" or "keep-alive"))
        .Select(f => $"{f.Key.ToLowerInvariant()}: {f.Value}")
        .Order(StringComparer.Ordinal));
}

/// <summary>A minimal HTTP/1.1 client over a raw socket, so the tests see exactly what each server sent.</summary>
public static class RawHttp
{
    public static async Task<RawResponse> SendAsync(int port, string method, string target, string? fields = null, byte[]? body = null)
    {
        var head = new StringBuilder();
        head.Append($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        if (fields is not null) head.Append(fields);
        if (body is not null && !(fields ?? "").Contains("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) head.Append($"Content-Length: {body.Length}\r\n");
        head.Append("\r\n");
        byte[] request = [.. Encoding.ASCII.GetBytes(head.ToString()), .. body ?? []];
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        await socket.SendAsync(request);
        byte[] all = await ReadToEndAsync(socket);
        return Parse(all, method == "HEAD");
    }

    public static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var received = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                break; // reset by the peer: what arrived before is the answer
            }
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        return received.ToArray();
    }

    public static RawResponse Parse(byte[] all, bool headRequest = false)
    {
        int headEnd = IndexOf(all, "\r\n\r\n"u8, 0);
        if (headEnd < 0) throw new InvalidDataException($"no complete head in {all.Length} bytes: {Encoding.ASCII.GetString(all)}");
        string[] lines = Encoding.ASCII.GetString(all, 0, headEnd).Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1]);
        var fields = new List<KeyValuePair<string, string>>();
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            fields.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }
        byte[] rest = all[(headEnd + 4)..];
        string? te = fields.FirstOrDefault(f => f.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Value;
        string? cl = fields.FirstOrDefault(f => f.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        if (headRequest || status is 204 or 304) return new RawResponse(status, fields, [], cl is null ? "none" : "length");
        if (te is not null) return new RawResponse(status, fields, Dechunk(rest, out string trailers), "chunked") { TrailerSection = trailers };
        if (cl is not null)
        {
            int length = int.Parse(cl);
            if (rest.Length < length) throw new InvalidDataException($"body ended after {rest.Length} of {length} bytes");
            return new RawResponse(status, fields, rest[..length], "length");
        }
        return new RawResponse(status, fields, rest, "close");
    }

    /// <summary>Decodes a chunked body; throws when it does not end with the last chunk (an aborted response).</summary>
    public static byte[] Dechunk(byte[] data) => Dechunk(data, out _);

    /// <summary>Decodes a chunked body and returns its trailer section's field lines in <paramref name="trailerSection"/>.</summary>
    public static byte[] Dechunk(byte[] data, out string trailerSection)
    {
        using var body = new MemoryStream();
        int at = 0;
        while (true)
        {
            int lineEnd = IndexOf(data, "\r\n"u8, at);
            if (lineEnd < 0) throw new InvalidDataException("chunked body ended without its last chunk");
            string sizeText = Encoding.ASCII.GetString(data, at, lineEnd - at).Split(';')[0];
            int size = Convert.ToInt32(sizeText, 16);
            at = lineEnd + 2;
            if (size == 0)
            {
                // The trailer section ends at the first empty line (RFC 9112 §7.1.2).
                int end = at;
                while (true)
                {
                    int next = IndexOf(data, "\r\n"u8, end);
                    if (next < 0) throw new InvalidDataException("chunked body ended inside its trailer section");
                    if (next == end) break;
                    end = next + 2;
                }
                trailerSection = Encoding.ASCII.GetString(data, at, end - at);
                return body.ToArray();
            }
            if (at + size + 2 > data.Length) throw new InvalidDataException("chunked body ended inside a chunk");
            body.Write(data, at, size);
            at += size + 2;
        }
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> value, int start)
    {
        int i = data.AsSpan(start).IndexOf(value);
        return i < 0 ? -1 : start + i;
    }
}

using System.Text;

namespace Parley.Tests.Conformance;

/// <summary>What the connection must be after the case's response.</summary>
public enum After
{
    /// <summary>The server answered and closed: the probe request sent behind the case got no answer.</summary>
    Closed,
    /// <summary>The server answered and then also answered the probe request sent behind the case.</summary>
    Open,
}

/// <summary>
/// One row of the conformance table: the raw request bytes (Latin-1 string, so any byte can be written),
/// the status and connection state the server must end with, and the sentence of the RFC it enforces.
/// </summary>
/// <param name="Id">Unique, stable name: section plus a short description.</param>
/// <param name="Request">The bytes sent, in one write, followed by the probe request.</param>
/// <param name="Status">The status of the one response to <paramref name="Request"/>.</param>
/// <param name="Connection">Closed: exactly one response, then EOF. Open: the probe is answered too.</param>
/// <param name="Citation">The RFC sentence (or our documented choice where the RFC allows several).</param>
/// <param name="BodyLength">When set, the request body length the handler must have read.</param>
/// <param name="BodyContains">When set, text the echoed response body must contain.</param>
/// <param name="Head">True for a HEAD request: its response has no body.</param>
/// <param name="Responses">How many responses the request bytes carry (more than one for pipelined requests).</param>
public sealed record ConformanceCase(string Id, string Request, int Status, After Connection, string Citation,
    long? BodyLength = null, string? BodyContains = null, bool Head = false, int Responses = 1)
{
    public override string ToString() => Id;
}

/// <summary>A final response read back from the raw stream.</summary>
public sealed record ParsedResponse(int Status, string Head, string Body);

/// <summary>Splits the bytes a server sent into its final responses (1xx interim responses are dropped).</summary>
public static class ResponseStream
{
    public static List<ParsedResponse> Parse(string all, bool firstIsHead)
    {
        var responses = new List<ParsedResponse>();
        int pos = 0;
        while (pos < all.Length)
        {
            int headEnd = all.IndexOf("\r\n\r\n", pos, StringComparison.Ordinal);
            if (headEnd < 0) throw new FormatException($"truncated or garbage response data at {pos}: {Escape(all[pos..])}");
            string head = all[pos..headEnd];
            pos = headEnd + 4;
            if (!head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || head.Length < 12 || !int.TryParse(head.AsSpan(9, 3), out int status))
            {
                throw new FormatException($"not a response head: {Escape(head)}");
            }
            if (status < 200) continue;
            string body;
            string? length = Field(head, "Content-Length");
            bool noBody = (firstIsHead && responses.Count == 0) || status is 204 or 304;
            if (noBody) body = "";
            else if (length is not null)
            {
                int n = int.Parse(length);
                if (pos + n > all.Length) throw new FormatException($"truncated body: {Escape(all[pos..])}");
                body = all.Substring(pos, n);
                pos += n;
            }
            else if (Field(head, "Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
            {
                var sb = new StringBuilder();
                while (true)
                {
                    int lineEnd = all.IndexOf("\r\n", pos, StringComparison.Ordinal);
                    int size = Convert.ToInt32(all[pos..lineEnd].Split(';')[0], 16);
                    pos = lineEnd + 2;
                    if (size == 0)
                    {
                        pos = all.IndexOf("\r\n\r\n", pos - 2, StringComparison.Ordinal) + 4;
                        break;
                    }
                    sb.Append(all, pos, size);
                    pos += size + 2;
                }
                body = sb.ToString();
            }
            else
            {
                body = all[pos..];
                pos = all.Length;
            }
            responses.Add(new ParsedResponse(status, head, body));
        }
        return responses;
    }

    public static string? Field(string head, string name)
    {
        foreach (string line in head.Split("\r\n"))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase)) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    public static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Length > 400 ? s[..400] + "..." : s)
        {
            if (c == '\r') sb.Append("\\r");
            else if (c == '\n') sb.Append("\\n");
            else if (c < 0x20 || c >= 0x7F) sb.Append($"\\x{(int)c:X2}");
            else sb.Append(c);
        }
        return sb.ToString();
    }
}

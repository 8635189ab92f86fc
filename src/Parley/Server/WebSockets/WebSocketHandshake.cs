using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Server;

/// <summary>
/// The server's side of the WebSocket opening handshake (RFC 6455 §4.2): checks the client's request, computes
/// <c>Sec-WebSocket-Accept</c>, chooses the subprotocol and answers a permessage-deflate offer (RFC 7692 §7).
/// </summary>
internal static class WebSocketHandshake
{
    // RFC 6455 §1.3: the GUID appended to the client's key.
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Why the request is not a valid opening handshake (with the status to answer), or null when it is.</summary>
    public static (int Status, string Reason)? Check(HttpRequest request)
    {
        // RFC 6455 §4.2.1 (1): "An HTTP/1.1 or higher GET request".
        if (request.Method != "GET") return (400, "a WebSocket opening handshake is a GET request");
        // RFC 6455 §4.2.1 (3)-(4) and RFC 9110 §15.5.22: 426 tells the client which protocol to upgrade to.
        if (!request.IsUpgradeRequest || !request.OffersUpgrade("websocket")) return (426, "this resource speaks WebSocket only: send Connection: Upgrade and Upgrade: websocket");
        // RFC 6455 §4.2.1 (5): one Sec-WebSocket-Key, 16 bytes in base64.
        IReadOnlyList<string> keys = request.Headers.GetValues("Sec-WebSocket-Key");
        if (keys.Count != 1 || !IsValidKey(keys[0])) return (400, "Sec-WebSocket-Key must be one base64-encoded 16-byte value");
        // RFC 6455 §4.2.2 and §4.4: another version gets 426 with the versions we speak.
        IReadOnlyList<string> versions = request.Headers.GetValues("Sec-WebSocket-Version");
        if (versions.Count != 1 || versions[0].Trim() != "13") return (426, "Sec-WebSocket-Version must be 13");
        return null;
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key.Trim(), decoded, out int written) && written == 16;
    }

    /// <summary>RFC 6455 §4.2.2 (5.4): base64(SHA-1(key + GUID)).</summary>
    public static string AcceptValue(string key)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + KeyGuid), hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>RFC 6455 §4.2.2 (5.5): the first subprotocol the client offers that the server speaks, or null.</summary>
    public static string? ChooseSubProtocol(HttpRequest request, IList<string> supported)
    {
        if (supported.Count == 0) return null;
        foreach (string line in request.Headers.GetValues("Sec-WebSocket-Protocol"))
        {
            foreach (string offered in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                foreach (string ours in supported)
                {
                    // Subprotocol names are compared exactly (RFC 6455 §11.3.4: case-sensitive registry names).
                    if (string.Equals(offered, ours, StringComparison.Ordinal)) return ours;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Answers the first permessage-deflate offer the base library can honour (RFC 7692 §5.1): the options to
    /// run it with and the response's extension value; false when there is no such offer.
    /// </summary>
    public static bool TryNegotiateDeflate(HttpRequest request, out WebSocketDeflateOptions? options, out string? response)
    {
        options = null;
        response = null;
        foreach (string line in request.Headers.GetValues("Sec-WebSocket-Extensions"))
        {
            foreach (string offer in line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (TryAnswerDeflateOffer(offer, out options, out response)) return true;
            }
        }
        return false;
    }

    // RFC 7692 §7.1: each parameter at most once, known names only; window bits 8-15, of which the base
    // library's zlib takes 9-15 (an offer that needs 8 is declined, §5.1 lets a server decline any offer).
    private static bool TryAnswerDeflateOffer(string offer, out WebSocketDeflateOptions? options, out string? response)
    {
        options = null;
        response = null;
        string[] parts = offer.Split(';', StringSplitOptions.TrimEntries);
        if (!parts[0].Equals("permessage-deflate", StringComparison.OrdinalIgnoreCase)) return false;
        var result = new WebSocketDeflateOptions();
        var answer = new StringBuilder("permessage-deflate");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 1; i < parts.Length; i++)
        {
            if (parts[i].Length == 0) return false;
            int equals = parts[i].IndexOf('=');
            string name = (equals < 0 ? parts[i] : parts[i][..equals]).Trim();
            string? value = equals < 0 ? null : parts[i][(equals + 1)..].Trim().Trim('"');
            if (!seen.Add(name)) return false;
            switch (name.ToLowerInvariant())
            {
                case "server_no_context_takeover":
                    // §7.1.1.1: the server must then not keep its context between messages, and says so.
                    if (value is not null) return false;
                    result.ServerContextTakeover = false;
                    answer.Append("; server_no_context_takeover");
                    break;
                case "client_no_context_takeover":
                    // §7.1.1.2: a hint; echoing it holds the client to it.
                    if (value is not null) return false;
                    result.ClientContextTakeover = false;
                    answer.Append("; client_no_context_takeover");
                    break;
                case "server_max_window_bits":
                    // §7.1.2.1: a value is required; the server's window must not exceed it.
                    if (!TryWindowBits(value, out int serverBits)) return false;
                    result.ServerMaxWindowBits = serverBits;
                    answer.Append("; server_max_window_bits=").Append(serverBits);
                    break;
                case "client_max_window_bits":
                    // §7.1.2.2: without a value the client merely allows the server to name one; we leave it at 15.
                    if (value is null) break;
                    if (!TryWindowBits(value, out int clientBits)) return false;
                    result.ClientMaxWindowBits = clientBits;
                    answer.Append("; client_max_window_bits=").Append(clientBits);
                    break;
                default:
                    return false;
            }
        }
        options = result;
        response = answer.ToString();
        return true;
    }

    private static bool TryWindowBits(string? value, out int bits)
    {
        bits = 0;
        // §7.1.2: 1*DIGIT from 8 to 15, no leading zero; the base library's zlib supports 9 and above.
        return value is { Length: > 0 and <= 2 } && value[0] != '0' && int.TryParse(value, out bits) && bits is >= 9 and <= 15;
    }
}

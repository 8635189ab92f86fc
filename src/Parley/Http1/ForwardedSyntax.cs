using System.Net;
using System.Text;

namespace Parley.Http1;

/// <summary>
/// One proxy hop as a forwarding field describes it: the address the proxy received the request from (when
/// it named one), and the scheme and host the request was made with. <see cref="IsValid"/> is false when
/// the hop's part of the field breaks its grammar: such a hop, and every one to its left, is not used.
/// </summary>
internal readonly record struct ForwardedHop(IPEndPoint? For, string? Proto, string? Host, bool IsValid)
{
    public static readonly ForwardedHop Invalid = new(null, null, null, false);
}

/// <summary>
/// The grammar of <c>Forwarded</c> (RFC 7239) and of the de-facto <c>X-Forwarded-For/-Proto/-Host</c>
/// fields. Pure: strings in, hops out (rightmost, the nearest proxy's, first). Field lines are split
/// separately, so a client's unterminated quoted string cannot swallow what a proxy appended on its own line.
/// </summary>
internal static class ForwardedSyntax
{
    /// <summary>The hops of <c>Forwarded</c> field lines, nearest first (RFC 7239 §4: one element per proxy, appended on the right).</summary>
    public static List<ForwardedHop> ParseForwarded(IReadOnlyList<string> lines)
    {
        var hops = new List<ForwardedHop>();
        for (int line = lines.Count - 1; line >= 0; line--)
        {
            List<string> elements = SplitList(lines[line]);
            for (int i = elements.Count - 1; i >= 0; i--) hops.Add(ParseForwardedElement(elements[i]));
        }
        return hops;
    }

    /// <summary>
    /// The hops of the <c>X-Forwarded-*</c> fields, nearest first: the n-th entry from the right of each
    /// field belongs to the n-th hop (a field with fewer entries, such as a single X-Forwarded-Proto a proxy
    /// set rather than appended, describes only the nearest hops).
    /// </summary>
    public static List<ForwardedHop> ParseXForwarded(IReadOnlyList<string> forLines, IReadOnlyList<string> protoLines, IReadOnlyList<string> hostLines)
    {
        List<string> fors = SplitLines(forLines), protos = SplitLines(protoLines), hosts = SplitLines(hostLines);
        int count = Math.Max(fors.Count, Math.Max(protos.Count, hosts.Count));
        var hops = new List<ForwardedHop>(count);
        for (int k = 0; k < count; k++)
        {
            IPEndPoint? address = null;
            string? proto = null, host = null;
            bool valid = (k >= fors.Count || TryParseXForwardedFor(fors[^(k + 1)], out address))
                && (k >= protos.Count || TryParseScheme(protos[^(k + 1)], out proto))
                && (k >= hosts.Count || TryParseHost(hosts[^(k + 1)], out host));
            hops.Add(valid ? new ForwardedHop(address, proto, host, true) : ForwardedHop.Invalid);
        }
        return hops;
    }

    // Every line's comma-separated entries, in order, without empty ones (RFC 9110 §5.6.1).
    private static List<string> SplitLines(IReadOnlyList<string> lines)
    {
        var entries = new List<string>();
        foreach (string line in lines) entries.AddRange(SplitList(line));
        return entries;
    }

    /// <summary>
    /// Splits a list field value at commas outside quoted strings (RFC 9110 §5.6.1, §5.6.4), trimming OWS
    /// and dropping empty elements. An unterminated quoted string runs to the end of the line and makes its
    /// element invalid where it is parsed.
    /// </summary>
    public static List<string> SplitList(string value)
    {
        var elements = new List<string>();
        int start = 0;
        bool quoted = false;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (quoted)
            {
                if (c == '\\') i++;
                else if (c == '"') quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',')
            {
                AddTrimmed(elements, value, start, i);
                start = i + 1;
            }
        }
        AddTrimmed(elements, value, start, value.Length);
        return elements;
    }

    private static void AddTrimmed(List<string> elements, string value, int start, int end)
    {
        string element = value[start..end].Trim(' ', '\t');
        if (element.Length > 0) elements.Add(element);
    }

    /// <summary>
    /// RFC 7239 §4: <c>forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )</c>, <c>forwarded-pair
    /// = token "=" value</c>, <c>value = token / quoted-string</c>; parameter names case-insensitive, each at
    /// most once. The parameters used: <c>for</c> (§5.2), <c>proto</c> (§5.4) and <c>host</c> (§5.3);
    /// <c>by</c> (§5.1) and extensions (§5.5) are checked for syntax only.
    /// </summary>
    public static ForwardedHop ParseForwardedElement(string element)
    {
        IPEndPoint? address = null;
        string? proto = null, host = null;
        bool seenFor = false, seenBy = false, seenProto = false, seenHost = false;
        var others = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (true)
        {
            SkipWhitespace(element, ref i);
            if (i < element.Length && element[i] != ';')
            {
                int nameStart = i;
                while (i < element.Length && HttpSyntax.IsTokenChar(element[i])) i++;
                if (i == nameStart || i == element.Length || element[i] != '=') return ForwardedHop.Invalid;
                string name = element[nameStart..i];
                i++;
                if (!TryReadValue(element, ref i, out string value)) return ForwardedHop.Invalid;
                bool fresh;
                if (name.Equals("for", StringComparison.OrdinalIgnoreCase))
                {
                    fresh = !seenFor;
                    seenFor = true;
                    if (!TryParseNode(value, out address)) return ForwardedHop.Invalid;
                }
                else if (name.Equals("proto", StringComparison.OrdinalIgnoreCase))
                {
                    fresh = !seenProto;
                    seenProto = true;
                    if (!TryParseScheme(value, out proto)) return ForwardedHop.Invalid;
                }
                else if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
                {
                    fresh = !seenHost;
                    seenHost = true;
                    if (!TryParseHost(value, out host)) return ForwardedHop.Invalid;
                }
                else if (name.Equals("by", StringComparison.OrdinalIgnoreCase))
                {
                    fresh = !seenBy;
                    seenBy = true;
                    if (!TryParseNode(value, out _)) return ForwardedHop.Invalid;
                }
                else fresh = others.Add(name);
                // RFC 7239 §4: each parameter MUST NOT occur more than once per forwarded-element.
                if (!fresh) return ForwardedHop.Invalid;
                SkipWhitespace(element, ref i);
            }
            if (i == element.Length) return new ForwardedHop(address, proto, host, true);
            if (element[i] != ';') return ForwardedHop.Invalid;
            i++;
        }
    }

    private static void SkipWhitespace(string text, ref int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t') i++;
    }

    // value = token / quoted-string (RFC 9110 §5.6.2, §5.6.4); a quoted-pair stands for its second character.
    private static bool TryReadValue(string text, ref int i, out string value)
    {
        value = "";
        if (i < text.Length && text[i] == '"')
        {
            var builder = new StringBuilder();
            for (i++; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '"')
                {
                    i++;
                    value = builder.ToString();
                    return true;
                }
                if (c == '\\')
                {
                    if (++i == text.Length || !IsQuotedPairChar(text[i])) return false;
                    builder.Append(text[i]);
                }
                else if (IsQdTextChar(c)) builder.Append(c);
                else return false;
            }
            return false;
        }
        int start = i;
        while (i < text.Length && HttpSyntax.IsTokenChar(text[i])) i++;
        value = text[start..i];
        return i > start;
    }

    // RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text; quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
    private static bool IsQdTextChar(char c) => c is '\t' or ' ' or '\x21' or (>= '\x23' and <= '\x5B') or (>= '\x5D' and <= '\x7E') or (>= '\x80' and <= '\xFF');

    private static bool IsQuotedPairChar(char c) => c is '\t' or (>= ' ' and <= '\x7E') or (>= '\x80' and <= '\xFF');

    /// <summary>
    /// RFC 7239 §6: <c>node = nodename [ ":" node-port ]</c>, <c>nodename = IPv4address / "[" IPv6address "]" /
    /// "unknown" / obfnode</c>. An IP address gives an end point (port 0 when none or obfuscated, §6.3);
    /// <c>unknown</c> (§6.2) and obfuscated names (§6.3) are valid but name no address.
    /// </summary>
    public static bool TryParseNode(string node, out IPEndPoint? address)
    {
        address = null;
        string name, port = "";
        if (node.StartsWith('['))
        {
            int close = node.IndexOf(']');
            if (close < 0) return false;
            name = node[1..close];
            if (close + 1 < node.Length)
            {
                if (node[close + 1] != ':') return false;
                port = node[(close + 2)..];
                if (port.Length == 0) return false;
            }
            if (!TryParseIPv6(name, out IPAddress? v6)) return false;
            if (!TryParseNodePort(port, out int v6Port)) return false;
            address = new IPEndPoint(v6, v6Port);
            return true;
        }
        int colon = node.IndexOf(':');
        name = colon < 0 ? node : node[..colon];
        if (colon >= 0)
        {
            port = node[(colon + 1)..];
            if (port.Length == 0) return false;
        }
        if (!TryParseNodePort(port, out int number)) return false;
        if (TryParseIPv4(name, out IPAddress? v4))
        {
            address = new IPEndPoint(v4, number);
            return true;
        }
        return name.Equals("unknown", StringComparison.OrdinalIgnoreCase) || IsObfuscated(name);
    }

    // node-port = port / obfport; port = 1*5DIGIT (at most 65535); obfport = "_" 1*(ALPHA / DIGIT / "." / "_" / "-").
    private static bool TryParseNodePort(string port, out int number)
    {
        number = 0;
        if (port.Length == 0 || IsObfuscated(port)) return true;
        if (port.Length > 5) return false;
        foreach (char c in port)
        {
            if (!char.IsAsciiDigit(c)) return false;
            number = number * 10 + (c - '0');
        }
        return number <= 65535;
    }

    private static bool IsObfuscated(string text)
    {
        if (text.Length < 2 || text[0] != '_') return false;
        foreach (char c in text.AsSpan(1))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>
    /// One X-Forwarded-For entry: an IPv4 or IPv6 address, optionally with a port (<c>192.0.2.1:4711</c>,
    /// <c>[2001:db8::1]:4711</c>), as nginx, HAProxy and cloud balancers write them.
    /// </summary>
    public static bool TryParseXForwardedFor(string entry, out IPEndPoint? address)
    {
        address = null;
        if (entry.StartsWith('[')) return TryParseNode(entry, out address) && address is not null;
        if (TryParseIPv6(entry, out IPAddress? v6))
        {
            address = new IPEndPoint(v6, 0);
            return true;
        }
        int colon = entry.IndexOf(':');
        string name = colon < 0 ? entry : entry[..colon];
        int port = 0;
        if (colon >= 0 && (colon + 1 == entry.Length || IsObfuscated(entry[(colon + 1)..]) || !TryParseNodePort(entry[(colon + 1)..], out port))) return false;
        if (!TryParseIPv4(name, out IPAddress? v4)) return false;
        address = new IPEndPoint(v4, port);
        return true;
    }

    // RFC 3986 §3.2.2: IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet; no leading zeros,
    // no shorter forms (IPAddress.TryParse alone takes "1" for 0.0.0.1 and "0x7f.1" for 127.0.0.1).
    private static bool TryParseIPv4(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        Span<byte> octets = stackalloc byte[4];
        int part = 0, value = 0, digits = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == '.')
            {
                if (digits == 0 || part == 4) return false;
                octets[part++] = (byte)value;
                value = digits = 0;
                continue;
            }
            char c = text[i];
            if (!char.IsAsciiDigit(c) || (digits == 1 && value == 0)) return false;
            value = value * 10 + (c - '0');
            if (++digits > 3 || value > 255) return false;
        }
        if (part != 4) return false;
        address = new IPAddress(octets);
        return true;
    }

    // RFC 3986 §3.2.2 IPv6address: hex digits, colons and an embedded IPv4 tail; no zone, no brackets.
    private static bool TryParseIPv6(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Length < 2 || text.Length > 45 || !text.Contains(':')) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c is not (':' or '.')) return false;
        }
        if (!IPAddress.TryParse(text, out IPAddress? parsed) || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
        address = parsed;
        return true;
    }

    /// <summary>RFC 3986 §3.1: <c>scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )</c>, compared and kept in lowercase.</summary>
    public static bool TryParseScheme(string text, out string? scheme)
    {
        scheme = null;
        if (text.Length == 0 || text.Length > 32 || !char.IsAsciiLetter(text[0])) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.')) return false;
        }
        scheme = text.ToLowerInvariant();
        return true;
    }

    /// <summary>RFC 7239 §5.3: the Host syntax of RFC 9110 §7.2, <c>uri-host [ ":" port ]</c>, not empty.</summary>
    public static bool TryParseHost(string text, out string? host)
    {
        host = null;
        if (text.Length == 0 || !Ascii.IsValid(text) || !HostSyntax.IsValidAuthority(Encoding.ASCII.GetBytes(text), requirePort: false)) return false;
        host = text;
        return true;
    }
}

using System.Text;
using Parley.Content;
using Parley.Http1;
using Parley.Server;

namespace Parley.Fuzz;

/// <summary>The router's parsers: route templates with their matcher, and the query string.</summary>
public static partial class FuzzTargets
{
    // ---------------------------------------------------------------- route templates
    // Input: a template, '\n', a raw path, and optionally '\n' and a second template.
    private static void Route(ReadOnlySpan<byte> data)
    {
        int newline = data.IndexOf((byte)'\n');
        string templateText = Encoding.UTF8.GetString(newline < 0 ? data : data[..newline]);
        ReadOnlySpan<byte> rest = newline < 0 ? default : data[(newline + 1)..];
        int second = rest.IndexOf((byte)'\n');
        byte[] path = (second < 0 ? rest : rest[..second]).ToArray();
        // The router only sees paths that start with '/' (or are empty, matched as "/").
        if (path.Length > 0 && path[0] != (byte)'/') path = [(byte)'/', .. path];
        RouteTemplate? template = TryParseTemplate(templateText);
        if (template is null) return;
        Check(template.ParameterNames.Length <= RouteTemplate.MaxParameters, "more parameters than the limit");
        Check(template.ParameterNames.Distinct().Count() == template.ParameterNames.Length, "a parameter name twice");

        var ranges = new Range[RouteTemplate.MaxParameters];
        bool matched = template.TryMatch(path, ranges);
        string[]? reference = ReferenceMatch(template, path);
        Check(matched == (reference is not null), $"matcher says {matched}, the split-based reference {reference is not null}");
        if (matched)
        {
            string[] values = RawValues(template, path, ranges);
            Check(values.SequenceEqual(reference!), $"values [{string.Join('|', values)}] but the reference found [{string.Join('|', reference!)}]");
            // The values put back into the template (literals percent-encoded) make a path it matches with the same values.
            byte[] rebuilt = Reassemble(template, values);
            Check(template.TryMatch(rebuilt, ranges), $"the reassembled path '{Encoding.Latin1.GetString(rebuilt)}' does not match");
            Check(RawValues(template, rebuilt, ranges).SequenceEqual(values), "the reassembled path gives other values");
        }

        if (second >= 0 && TryParseTemplate(Encoding.UTF8.GetString(rest[(second + 1)..])) is { } other)
        {
            int forward = Math.Sign(RouteTemplate.ComparePrecedence(template, other));
            int backward = Math.Sign(RouteTemplate.ComparePrecedence(other, template));
            Check(forward == -backward, "precedence is not antisymmetric");
            Check(template.Shape != other.Shape || forward == 0, "templates of one shape ordered apart");
        }
    }

    private static RouteTemplate? TryParseTemplate(string text)
    {
        try
        {
            return RouteTemplate.Parse(text);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string[] RawValues(RouteTemplate template, byte[] path, Range[] ranges)
    {
        var values = new string[template.ParameterNames.Length];
        for (int i = 0; i < values.Length; i++)
        {
            (int offset, int length) = ranges[i].GetOffsetAndLength(int.MaxValue);
            Check(length == 0 || offset >= 0 && offset + length <= path.Length, "a value outside the path");
            Check(i == 0 || length == 0 || offset >= ranges[i - 1].End.Value, "values out of order");
            values[i] = length == 0 ? "" : Encoding.Latin1.GetString(path, offset, length);
        }
        return values;
    }

    // An independent matcher: split the path on '/' and compare segment by segment; the raw value of each parameter.
    private static string[]? ReferenceMatch(RouteTemplate template, byte[] pathBytes)
    {
        string path = pathBytes.Length == 0 ? "/" : Encoding.Latin1.GetString(pathBytes);
        string[] segments = path[1..].Split('/');
        var values = new List<string>();
        for (int i = 0; i < template.Segments.Length; i++)
        {
            RouteTemplate.Segment segment = template.Segments[i];
            switch (segment.Kind)
            {
                case RouteTemplate.SegmentKind.CatchAll:
                    values.Add(i < segments.Length ? string.Join('/', segments[i..]) : "");
                    return [.. values];
                case RouteTemplate.SegmentKind.Prefix:
                    return i < segments.Length ? [.. values] : null;
                case RouteTemplate.SegmentKind.Literal:
                    if (i >= segments.Length || !ReferenceDecode(segments[i]).SequenceEqual(segment.Literal)) return null;
                    break;
                default:
                    if (i >= segments.Length || segments[i].Length == 0) return null;
                    if (!RouteConstraints.Accepts(segment.Constraint, Encoding.Latin1.GetBytes(segments[i]))) return null;
                    values.Add(segments[i]);
                    break;
            }
        }
        return segments.Length == template.Segments.Length ? [.. values] : null;
    }

    // Percent-decoding written out again: %XX with two hex digits is the byte, anything else stays.
    private static byte[] ReferenceDecode(string raw)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '%' && i + 2 < raw.Length && Uri.IsHexDigit(raw[i + 1]) && Uri.IsHexDigit(raw[i + 2]))
            {
                bytes.Add(Convert.ToByte(raw.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)raw[i]);
            }
        }
        return [.. bytes];
    }

    private static byte[] Reassemble(RouteTemplate template, string[] values)
    {
        var path = new StringBuilder();
        int value = 0;
        foreach (RouteTemplate.Segment segment in template.Segments)
        {
            path.Append('/');
            if (segment.Kind == RouteTemplate.SegmentKind.Literal)
            {
                foreach (byte b in segment.Literal)
                {
                    if (char.IsAsciiLetterOrDigit((char)b)) path.Append((char)b);
                    else path.Append('%').Append(b.ToString("X2"));
                }
            }
            else if (segment.Kind != RouteTemplate.SegmentKind.Prefix)
            {
                path.Append(values[value++]);
            }
        }
        return Encoding.Latin1.GetBytes(path.ToString());
    }

    // ---------------------------------------------------------------- query string
    private static List<KeyValuePair<string, string>> ParseQuery(ReadOnlySpan<byte> raw)
    {
        var query = new QueryParameters();
        query.Parse(raw);
        var pairs = new List<KeyValuePair<string, string>>(query.Count);
        foreach (KeyValuePair<string, string> pair in query) pairs.Add(pair);
        return pairs;
    }

    private static void Query(ReadOnlySpan<byte> data)
    {
        List<KeyValuePair<string, string>> pairs = ParseQuery(data);
        // An independent reading: split with string.Split, decode with the reference decoder after '+' -> ' '.
        string[] pieces = Encoding.Latin1.GetString(data).Split('&', StringSplitOptions.RemoveEmptyEntries);
        Check(pairs.Count == pieces.Length, $"{pairs.Count} pairs from {pieces.Length} non-empty pieces");
        for (int i = 0; i < pieces.Length; i++)
        {
            int eq = pieces[i].IndexOf('=');
            string name = Encoding.UTF8.GetString(ReferenceDecode((eq < 0 ? pieces[i] : pieces[i][..eq]).Replace('+', ' ')));
            string value = Encoding.UTF8.GetString(ReferenceDecode((eq < 0 ? "" : pieces[i][(eq + 1)..]).Replace('+', ' ')));
            Check(pairs[i].Key == name && pairs[i].Value == value, $"pair {i} is [{pairs[i].Key}]=[{pairs[i].Value}], the reference [{name}]=[{value}]");
            // Decoding never lengthens: each output char comes from at least one input byte.
            Check(name.Length + value.Length <= pieces[i].Length, "a decoded pair longer than its raw bytes");
        }

        // Independent of splitting: the pairs of the text on either side of any '&' are the pairs of the whole.
        int amp = data.IndexOf((byte)'&');
        for (int at = amp, seen = 0; at >= 0 && seen < 64; seen++)
        {
            List<KeyValuePair<string, string>> joined = [.. ParseQuery(data[..at]), .. ParseQuery(data[(at + 1)..])];
            Check(joined.SequenceEqual(pairs), $"split at the '&' at {at} gives other pairs");
            int next = data[(at + 1)..].IndexOf((byte)'&');
            at = next < 0 ? -1 : at + 1 + next;
        }

        // Written back as a browser writes a form and read again, the pairs come back unchanged.
        List<KeyValuePair<string, string>> again = ParseQuery(Encoding.ASCII.GetBytes(FormUrlEncoded.Encode(pairs)));
        Check(again.SequenceEqual(pairs), "encode then parse changed the pairs");
    }
}

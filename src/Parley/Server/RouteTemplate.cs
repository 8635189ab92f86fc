using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// A parsed route template such as <c>/users/{id:int}</c> or <c>/files/{*rest}</c>, matched against the
/// raw (still percent-encoded) path one segment at a time, so an encoded slash (<c>%2F</c>) stays inside its
/// segment. Literal segments compare with the decoded segment, case-sensitively (RFC 3986 §6.2.2.1).
/// Matching allocates nothing: it records where each value lies in the path.
/// </summary>
internal sealed class RouteTemplate
{
    /// <summary>Most parameters one template may have.</summary>
    public const int MaxParameters = 16;

    internal enum SegmentKind : byte
    {
        Literal,
        Parameter,
        // {*name}: the rest of the path, '/' included, possibly empty; also matches the path without it.
        CatchAll,
        // A final "*" (the older "/static/*" form): everything below the preceding segments.
        Prefix,
    }

    internal readonly record struct Segment(SegmentKind Kind, byte[] Literal, string? Name, RouteConstraint Constraint)
    {
        // Precedence (lower first): literal, constrained parameter, parameter, catch-all.
        public int Rank => Kind switch
        {
            SegmentKind.Literal => 0,
            SegmentKind.Parameter => Constraint == RouteConstraint.None ? 2 : 1,
            _ => 3,
        };
    }

    private RouteTemplate(string text, Segment[] segments, string[] names, string shape)
    {
        Text = text;
        Segments = segments;
        ParameterNames = names;
        Shape = shape;
        IsLiteral = Array.TrueForAll(segments, s => s.Kind == SegmentKind.Literal);
        LiteralPath = IsLiteral ? Encoding.UTF8.GetBytes(text) : [];
    }

    /// <summary>The template as mapped.</summary>
    public string Text { get; }

    /// <summary>The segments after the leading '/'.</summary>
    public Segment[] Segments { get; }

    /// <summary>The names of the parameters, in order (a catch-all last).</summary>
    public string[] ParameterNames { get; }

    /// <summary>True when every segment is literal: the template matches one path.</summary>
    public bool IsLiteral { get; }

    /// <summary>The UTF-8 path a literal template matches.</summary>
    public byte[] LiteralPath { get; }

    /// <summary>The template with its parameter names removed: two templates of one shape match the same paths.</summary>
    public string Shape { get; }

    /// <summary>Parses a template, throwing <see cref="ArgumentException"/> that names the mistake.</summary>
    public static RouteTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (!template.StartsWith('/')) throw Bad(template, "paths start with '/' (or are '*' for OPTIONS * and CONNECT)");
        // RFC 3986 §3.3-§3.5: the path ends at '?' or '#'; a route never sees the query or a fragment.
        if (template.AsSpan().IndexOfAny('?', '#') >= 0)
        {
            throw Bad(template, template.Contains("?}", StringComparison.Ordinal)
                ? "optional parameters ({name?}) are not supported; map the path with and without the segment"
                : "a path template has no '?' or '#' (read the query from request.Query)");
        }
        string[] parts = template[1..].Split('/');
        var segments = new Segment[parts.Length];
        var names = new List<string>();
        var shape = new StringBuilder();
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            bool last = i == parts.Length - 1;
            shape.Append('/');
            if (part == "*" && last)
            {
                segments[i] = new Segment(SegmentKind.Prefix, [], null, RouteConstraint.None);
                shape.Append('*');
                continue;
            }
            int open = part.IndexOf('{'), close = part.IndexOf('}');
            if (open < 0 && close < 0)
            {
                segments[i] = new Segment(SegmentKind.Literal, Encoding.UTF8.GetBytes(part), null, RouteConstraint.None);
                shape.Append(part);
                continue;
            }
            if (open != 0 || close != part.Length - 1 || part.IndexOf('{', 1) >= 0 || part.IndexOf('}') != close)
            {
                throw Bad(template, $"a parameter takes a whole segment, written {{name}}, {{name:constraint}} or {{*name}}; '{part}' is not one");
            }
            string inner = part[1..^1];
            bool catchAll = inner.StartsWith('*');
            if (catchAll) inner = inner[1..];
            int colon = inner.IndexOf(':');
            string name = colon < 0 ? inner : inner[..colon];
            if (name.Length == 0 || !IsName(name)) throw Bad(template, $"parameter name '{name}' must be letters, digits and '_'");
            if (names.Contains(name)) throw Bad(template, $"parameter '{name}' appears twice");
            RouteConstraint constraint = RouteConstraint.None;
            if (colon >= 0)
            {
                string constraintName = inner[(colon + 1)..];
                if (catchAll) throw Bad(template, $"a catch-all parameter takes no constraint ('{part}')");
                if (!RouteConstraints.TryParse(constraintName, out constraint))
                {
                    throw Bad(template, $"unknown constraint '{constraintName}'; the constraints are {RouteConstraints.Names}");
                }
            }
            if (catchAll && !last) throw Bad(template, $"a catch-all parameter ('{part}') must be the last segment");
            names.Add(name);
            if (names.Count > MaxParameters) throw Bad(template, $"more than {MaxParameters} parameters");
            segments[i] = new Segment(catchAll ? SegmentKind.CatchAll : SegmentKind.Parameter, [], name, constraint);
            shape.Append(catchAll ? "{*}" : constraint == RouteConstraint.None ? "{}" : $"{{:{RouteConstraints.NameOf(constraint)}}}");
        }
        return new RouteTemplate(template, segments, [.. names], shape.ToString());
    }

    private static bool IsName(string name)
    {
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        }
        return true;
    }

    private static ArgumentException Bad(string template, string why) => new($"route template '{template}': {why}", "path");

    /// <summary>
    /// Matches the raw path (an empty path counts as "/", RFC 9110 §4.2.3). On success,
    /// <paramref name="values"/> (at least <see cref="ParameterNames"/> long) holds where each value lies in
    /// <paramref name="rawPath"/>; a value past the end of an empty path is the empty range.
    /// </summary>
    public bool TryMatch(ReadOnlySpan<byte> rawPath, Span<Range> values)
    {
        if (rawPath.IsEmpty) rawPath = "/"u8;
        if (IsLiteral && rawPath.IndexOf((byte)'%') < 0) return rawPath.SequenceEqual(LiteralPath);
        int position = 0, value = 0;
        Segment[] segments = Segments;
        for (int i = 0; i < segments.Length; i++)
        {
            Segment segment = segments[i];
            if (position >= rawPath.Length || rawPath[position] != (byte)'/')
            {
                // The path ended: only a catch-all, which may be empty, still matches ("/files" for "/files/{*rest}").
                if (segment.Kind != SegmentKind.CatchAll) return false;
                values[value] = new Range(position, position);
                return true;
            }
            position++;
            if (segment.Kind is SegmentKind.CatchAll or SegmentKind.Prefix)
            {
                if (segment.Kind == SegmentKind.CatchAll) values[value] = new Range(position, rawPath.Length);
                return true;
            }
            int slash = rawPath[position..].IndexOf((byte)'/');
            int end = slash < 0 ? rawPath.Length : position + slash;
            ReadOnlySpan<byte> text = rawPath[position..end];
            if (segment.Kind == SegmentKind.Literal)
            {
                if (!PercentEncoding.DecodesTo(text, segment.Literal)) return false;
            }
            else
            {
                if (text.IsEmpty || !RouteConstraints.Accepts(segment.Constraint, text)) return false;
                values[value++] = new Range(position, end);
            }
            position = end;
        }
        return position == rawPath.Length;
    }

    /// <summary>Orders templates so that, of two that match one path, the more specific comes first.</summary>
    public static int ComparePrecedence(RouteTemplate a, RouteTemplate b)
    {
        for (int i = 0; ; i++)
        {
            // A template that ends here comes before one that goes on: only a catch-all could match the same path.
            if (i == a.Segments.Length || i == b.Segments.Length) return a.Segments.Length.CompareTo(b.Segments.Length);
            int rank = a.Segments[i].Rank.CompareTo(b.Segments[i].Rank);
            if (rank != 0) return rank;
        }
    }
}

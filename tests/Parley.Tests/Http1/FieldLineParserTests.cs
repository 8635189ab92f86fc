using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>
/// The field-line parser (RFC 9112 §5, RFC 9110 §5.1 and §5.5) held against a plain model of the
/// grammar, on lines short and long (its fast path loads 32 bytes at a time, its scalar loop takes the
/// last bytes of a buffer), on every prefix of the input, and at section-size and field-count limits
/// around each line end (431, RFC 6585 §5).
/// </summary>
public class FieldLineParserTests
{
    private const string Tchar = "!#$%&'*+-.^_`|~";

    private static bool IsTchar(char c) => char.IsAsciiLetterOrDigit(c) || Tchar.Contains(c);

    private static bool IsOws(char c) => c is ' ' or '\t';

    private sealed record Result(ParseStatus Status, int Code, string Message, int Offset, string Fields);

    // The careful path in words: line size first, then the empty line, the field count, then the line's own errors.
    private static Result Model(string section, int offset, int maxSectionEnd, int maxFieldCount)
    {
        var fields = new StringBuilder();
        int count = 0;
        int at = offset;
        while (true)
        {
            int cr = section.IndexOf('\r', at);
            if (cr < 0 || cr + 1 == section.Length)
            {
                int partial = (cr < 0 ? section.Length : cr) - at;
                return at + partial > maxSectionEnd
                    ? new(ParseStatus.Invalid, 431, "header section too large", 0, "")
                    : new(ParseStatus.NeedMoreData, 0, "", at, fields.ToString());
            }
            string line = section[at..cr];
            if (at + line.Length + 2 > maxSectionEnd) return new(ParseStatus.Invalid, 431, "header section too large", 0, "");
            if (line.Length == 0) return new(ParseStatus.Complete, 0, "", at + 2, fields.ToString());
            if (count >= maxFieldCount) return new(ParseStatus.Invalid, 431, "too many header fields", 0, "");
            string? error = null;
            int colon = 0;
            while (colon < line.Length && IsTchar(line[colon])) colon++;
            if (IsOws(line[0])) error = "obsolete line folding (obs-fold) in a field";
            else if (colon == line.Length) error = "field line without a colon";
            else if (line[colon] != ':') error = IsOws(line[colon]) ? "whitespace between field name and colon" : "invalid character in field name";
            else if (colon == 0) error = "empty field name";
            else if (line.AsSpan(colon + 1).ToArray().Any(c => (c < 0x20 && c != '\t') || c == 0x7F)) error = "control character in field value";
            if (error is not null) return new(ParseStatus.Invalid, 400, error, 0, "");
            fields.Append(line[..colon]).Append('=').Append(line.AsSpan(colon + 1).Trim(" \t")).Append('\n');
            count++;
            at = cr + 2;
        }
    }

    private static Result Parse(byte[] source, int offset, int maxSectionEnd, int maxFieldCount, bool lineByLine)
    {
        var fields = new FieldTable();
        fields.Reset(source);
        int at = offset;
        ParseStatus status = lineByLine
            ? FieldLineParser.ParseLineByLine(source, ref at, fields, maxSectionEnd, maxFieldCount, out HttpError error)
            : FieldLineParser.ParseSection(source, ref at, fields, maxSectionEnd, maxFieldCount, out error);
        if (status == ParseStatus.Invalid) return new(status, error.StatusCode, error.Reason, 0, "");
        var text = new StringBuilder();
        for (int i = 0; i < fields.Count; i++) text.Append(fields.NameStringAt(i)).Append('=').Append(fields.ValueStringAt(i)).Append('\n');
        return new(status, 0, "", at, text.ToString());
    }

    private static void Check(string prefix, IReadOnlyList<string> lines, string after = "")
    {
        string section = prefix + string.Concat(lines.Select(l => l + "\r\n")) + "\r\n" + after;
        int offset = prefix.Length;
        int end = section.Length - after.Length;
        var limits = new SortedSet<int> { int.MaxValue / 2, section.Length, end, end - 1, end + 1 };
        for (int i = offset, n = 0; n < lines.Count; i += lines[n].Length + 2, n++)
        {
            limits.Add(i + lines[n].Length + 2);
            limits.Add(i + lines[n].Length + 1);
            limits.Add(i + lines[n].Length + 3);
        }
        for (int length = offset; length <= section.Length; length++)
        {
            string input = section[..length];
            byte[] bytes = Encoding.Latin1.GetBytes(input);
            foreach (int maxSectionEnd in limits)
            {
                foreach (int maxFieldCount in new[] { 100, lines.Count, lines.Count - 1 })
                {
                    Result expected = Model(input, offset, maxSectionEnd, Math.Max(maxFieldCount, 0));
                    foreach (bool lineByLine in new[] { true, false })
                    {
                        Result actual = Parse(bytes, offset, maxSectionEnd, Math.Max(maxFieldCount, 0), lineByLine);
                        Assert.True(expected == actual,
                            $"{(lineByLine ? "line by line" : "section")} of {Escape(input)} from {offset}, limit {maxSectionEnd}, {maxFieldCount} fields:\n"
                            + $"expected {expected}\nactual   {actual}");
                    }
                }
            }
        }
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c is >= ' ' and < (char)0x7F ? c.ToString() : $"\\x{(int)c:X2}"));

    public static TheoryData<string> Lines => new()
    {
        "Host: a",
        "a:",
        "a: ",
        "X_y: ",
        "X_y:  \t ",
        "X-Name: value",
        "Content-Length:\t42\t",
        "X-Long-Field-Name-Past-One-Vector-Load: v",
        "N: " + new string('v', 26),
        "N: " + new string('v', 27),
        "N: " + new string('v', 28),
        "N: " + new string('v', 29),
        "N: " + new string('v', 60),
        "N: " + new string('v', 61),
        "N: " + new string('v', 93),
        "N: " + new string('v', 94),
        "N: x\u00e9\u00ff y",
        "N: a\tb",
        ":value",
        ": value",
        " folded",
        "\tfolded",
        "Bad Name: v",
        "Bad\u00a5Name: v",
        "a\u00d0: v",
        "a\u00a5: v",
        "X_Under: v",
        "NoColon",
        "No-Colon-In-A-Line-Longer-Than-One-Vector-Load",
        "N: a\u0001b",
        "N: a\u007fb",
        "N: a\u0000b",
        "N: " + new string('v', 40) + "\u0001" + new string('v', 20),
        "N: " + new string('v', 40) + "\u007f" + new string('v', 20),
        "N: " + new string('v', 37) + "\u0001" + new string('v', 50),
        "N: " + new string('v', 37) + "\u007f" + new string('v', 50),
        "N: " + new string('v', 70) + "\u0001" + new string('v', 5),
        // A control in the second 32 bytes and a clean third ending right before the CR.
        "N: " + new string('v', 37) + "\u0001" + new string('v', 55),
        "X_y: " + new string('v', 40) + "\u0001",
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void Parses_a_line_alone_RFC9112_5(string line)
    {
        Check("", [line]);
        Check("GET / HTTP/1.1\r\n", [line], "GET / HTTP/1.1\r\n\r\n");
    }

    [Theory]
    [MemberData(nameof(Lines))]
    public void Parses_a_line_among_others_RFC9112_5(string line)
    {
        Check("", ["Host: example.com", line, "Accept: */*"]);
        Check("x", [line, "X_Other: " + new string('w', 33)], new string('z', 40));
    }

    [Theory]
    [InlineData("a\nB: y\r\n\r\n")]
    [InlineData("N: x\u0001\nB: y\r\n\r\n")]
    [InlineData("N: x\u0001\nB: y\r\n" + "Padding-To-Fill-A-Vector: 0123456789\r\n\r\n")]
    [InlineData("N: x\rB: y\r\n\r\n")]
    [InlineData("N: x\rB: y\r\nPadding-To-Fill-A-Vector: 0123456789\r\n\r\n")]
    // After the bare CR and one more byte, a line that would parse on its own.
    [InlineData("N: x\rxB: y\r\n\r\n")]
    [InlineData("N: x\rxB: y\r\nPadding-To-Fill-A-Vector: 0123456789\r\n\r\n")]
    [InlineData("N: x\nB: y\r\nPadding-To-Fill-A-Vector: 0123456789\r\n\r\n")]
    public void Rejects_a_bare_CR_or_LF_or_a_control_before_one_RFC9112_2_2(string section)
    {
        foreach (bool lineByLine in new[] { true, false })
        {
            Result actual = Parse(Encoding.Latin1.GetBytes(section), 0, 1000, 100, lineByLine);
            Assert.True(actual.Status == ParseStatus.Invalid && actual.Code == 400, $"{Escape(section)}: {actual}");
        }
    }
}

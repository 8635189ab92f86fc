using System.Runtime.CompilerServices;
using System.Text;
using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>
/// The whole-section path (<see cref="WellFormedHead"/>: 64-byte blocks checked by bitmasks) held against
/// the line-by-line path on the same bytes: every outcome, error code, end offset and field must agree.
/// The sections put line ends, colons, name runs and the empty line at every position relative to a block
/// (the carries between blocks), end at every offset of the buffer's last block (the shifted tail load),
/// and are mutated at every position with the bytes the rules are about.
/// </summary>
public class WellFormedHeadTests
{
    private static readonly HeadLimits Limits = HeadLimits.Default;

    private sealed record SectionOutcome(ParseStatus Status, int ErrorCode, int Offset, string Fields);

    private static SectionOutcome Parse(byte[] source, int start, bool lineByLine, int maxSectionEnd, int maxFieldCount)
    {
        var fields = new FieldTable();
        fields.Reset(source);
        int offset = start;
        ParseStatus status = lineByLine
            ? FieldLineParser.ParseLineByLine(source, ref offset, fields, maxSectionEnd, maxFieldCount, out HttpError error)
            : FieldLineParser.ParseSection(source, ref offset, fields, maxSectionEnd, maxFieldCount, out error);
        if (status != ParseStatus.Complete) return new SectionOutcome(status, error.StatusCode, 0, "");
        var s = new StringBuilder();
        DescribeFields(s, fields);
        foreach (KnownField known in Enum.GetValues<KnownField>())
        {
            if (known != KnownField.Other) s.Append($" {known}:{fields.IndexOf(known)}/{fields.IsRepeated(known)}");
        }
        return new SectionOutcome(status, 0, offset, s.ToString());
    }

    private static void AssertSameAsLineByLine(byte[] source, int start = 0, int maxSectionEnd = int.MaxValue, int maxFieldCount = 100)
    {
        SectionOutcome lineByLine = Parse(source, start, lineByLine: true, maxSectionEnd, maxFieldCount);
        SectionOutcome whole = Parse(source, start, lineByLine: false, maxSectionEnd, maxFieldCount);
        Assert.True(lineByLine == whole, $"line by line: {lineByLine}\nwhole section: {whole}\nsource: {Latin1(source).ReplaceLineEndings("|")}");
    }

    private static void AssertTakenWhole(byte[] source, int start, int sectionLength)
    {
        // Scan needs 64 bytes (shorter sections never reach it). Without vector hardware the parser never
        // calls it, but its vectors still compute (in software), so it is checked on every run.
        if (source.Length < 64) return;
        Unsafe.SkipInit(out LineMarks marks);
        int lines = WellFormedHead.Scan(source, start, ref marks, out int end);
        Assert.True(lines >= 0, $"not taken whole: {Latin1(source).ReplaceLineEndings("|")}");
        Assert.Equal(start + sectionLength, end);
        var fields = new FieldTable();
        fields.Reset(source);
        Assert.True(WellFormedHead.AddFieldLines(source, start, lines, ref marks, fields));
        Assert.Equal(lines, fields.Count);
    }

    // Sections with names and values of many lengths, so that boundaries fall everywhere.
    private static IEnumerable<string> Sections()
    {
        yield return "Host: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
        yield return "Host: localhost\r\nAccept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\nConnection: keep-alive\r\n\r\n";
        yield return "Content-Length: 5\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nHost: a\r\nhost: b\r\nX: \t y \t\r\nEmpty:\r\nKeep-Alive: timeout=5\r\n\r\n";
        var random = new Random(6400);
        for (int i = 0; i < 12; i++)
        {
            var s = new StringBuilder();
            int lines = random.Next(1, 12);
            for (int line = 0; line < lines; line++)
            {
                s.Append(new string('n', random.Next(1, 90))).Append(':').Append(new string(' ', random.Next(0, 3)))
                    .Append(new string('v', random.Next(0, 140))).Append("\r\n");
            }
            yield return s.Append("\r\n").ToString();
        }
    }

    [Fact]
    public void Agrees_with_the_line_by_line_path_wherever_the_section_starts_and_ends() // RFC 9112 §5
    {
        foreach (string section in Sections())
        {
            for (int shift = 0; shift < 64; shift++)
            {
                // Blocks start where the section does: a first line longer by one byte each time moves
                // every later byte one position on within its block. The section follows a few bytes of
                // start line and is followed by nothing, or by a pipelined next request.
                byte[] lead = Bytes(new string('x', shift % 7));
                byte[] body = Bytes($"Shift: {new string('s', shift)}\r\n{section}");
                AssertSameAsLineByLine([.. lead, .. body], lead.Length);
                AssertSameAsLineByLine([.. lead, .. body, .. Bytes("GET / HTTP/1.1\r\n")], lead.Length);
                // And a well-formed section is taken whole, not left to the other path.
                AssertTakenWhole([.. lead, .. body], lead.Length, body.Length);
                AssertTakenWhole([.. lead, .. body, .. Bytes("GET / HTTP/1.1\r\n")], lead.Length, body.Length);
                // Every shorter buffer holds an incomplete section.
                if (shift % 16 == 0)
                {
                    for (int cut = 0; cut < body.Length; cut++) AssertSameAsLineByLine([.. lead, .. body[..cut]], lead.Length);
                }
            }
        }
    }

    [Fact]
    public void Agrees_with_the_line_by_line_path_on_a_stray_byte_anywhere() // RFC 9112 §2.2, §5.1, §5.2; RFC 9110 §5.5
    {
        // The bytes above 0x7F are those whose low 7 bits are CR, '-', a letter and DEL: the classes of
        // the table lookup must not carry over to them.
        byte[] strays = Bytes("\r\n\0\u0001\u001f\u007f\t :;_\"@é\u008d\u00ad\u00c1\u00ff");
        foreach (string section in Sections().Take(8))
        {
            byte[] bytes = Bytes(section);
            for (int at = 0; at < bytes.Length; at++)
            {
                foreach (byte stray in strays)
                {
                    byte[] changed = (byte[])bytes.Clone();
                    changed[at] = stray;
                    AssertSameAsLineByLine(changed);
                }
            }
        }
    }

    [Fact]
    public void Agrees_with_the_line_by_line_path_at_the_limits() // RFC 9110 §15.5.20 (431)
    {
        foreach (string section in Sections().Take(6))
        {
            byte[] bytes = Bytes(section);
            int lines = section.Split("\r\n").Length - 2;
            foreach (int maxEnd in new[] { bytes.Length - 1, bytes.Length, bytes.Length + 1, bytes.Length / 2 })
            {
                AssertSameAsLineByLine(bytes, maxSectionEnd: maxEnd);
            }
            foreach (int maxCount in new[] { lines - 1, lines, lines + 1 })
            {
                AssertSameAsLineByLine(bytes, maxFieldCount: Math.Max(maxCount, 0));
            }
        }
    }

    [Fact]
    public void Takes_sections_up_to_its_block_count_and_leaves_longer_ones_to_the_line_by_line_path()
    {
        // 32 blocks of 64 bytes: sections ending just inside and just past them agree all the same.
        foreach (int total in new[] { 64 * WellFormedHead.MaxBlocks - 1, 64 * WellFormedHead.MaxBlocks, 64 * WellFormedHead.MaxBlocks + 3 })
        {
            string value = new('v', total - "Big: ".Length - 4);
            byte[] bytes = Bytes($"Big: {value}\r\n\r\n");
            Assert.Equal(total, bytes.Length);
            AssertSameAsLineByLine(bytes);
            Unsafe.SkipInit(out LineMarks marks);
            int lines = WellFormedHead.Scan(bytes, 0, ref marks, out int end);
            Assert.Equal(total <= 64 * WellFormedHead.MaxBlocks ? (1, total) : (-1, 0), (lines, end));
        }
    }

    [Fact]
    public void Appends_to_a_table_that_already_holds_lines() // chunked trailers and resumed heads
    {
        byte[] first = Bytes("Host: a\r\nConnection: close\r\n");
        byte[] rest = Bytes("Host: b\r\nX-Padding: " + new string('p', 70) + "\r\nconnection: keep-alive\r\n\r\n");
        byte[] all = [.. first, .. rest];
        var fields = new FieldTable();
        fields.Reset(all);
        int offset = 0;
        Assert.Equal(ParseStatus.NeedMoreData, FieldLineParser.ParseSection(first, ref offset, fields, int.MaxValue, 100, out _));
        Assert.Equal(first.Length, offset);
        Assert.Equal(ParseStatus.Complete, FieldLineParser.ParseSection(all, ref offset, fields, int.MaxValue, 100, out _));
        Assert.Equal(all.Length, offset);
        Assert.Equal(5, fields.Count);
        Assert.Equal(0, fields.IndexOf(KnownField.Host));
        Assert.Equal(2, fields.IndexOf(KnownField.Host, 1));
        Assert.True(fields.IsRepeated(KnownField.Host));
        Assert.Equal(1, fields.IndexOf(KnownField.Connection));
        Assert.Equal(4, fields.IndexOf(KnownField.Connection, 2));
        Assert.Equal("keep-alive", Latin1(fields.ValueAt(4)));
    }
}

/// <summary>
/// Every version of the 64-byte block classification (AVX-512 table lookup, two 256-bit halves, four 128-bit
/// quarters) against the byte rules, each octet at each position: a run exercises all the versions its
/// machine can execute, not only the one it picks. The 256- and 128-bit versions compute in software
/// where the hardware lacks them; the AVX-512 one needs AVX-512 VBMI.
/// </summary>
public class BlockClassifyTests
{
    public static TheoryData<int> Widths()
    {
        var widths = new TheoryData<int> { 128, 256 };
        if (System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported) widths.Add(512);
        return widths;
    }

    private static void Classify(int width, byte[] block, out ulong cr, out ulong name, out ulong control)
    {
        ref byte at = ref block[0];
        switch (width)
        {
            case 512: WellFormedHead.Classify512(ref at, out cr, out name, out control); break;
            case 256: WellFormedHead.Classify256(ref at, out cr, out name, out control); break;
            default: WellFormedHead.Classify128(ref at, out cr, out name, out control); break;
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Classifies_every_octet_at_every_position(int width)
    {
        var block = new byte[64];
        foreach (int stride in new[] { 1, 37 })
        {
            for (int first = 0; first < 256; first++)
            {
                ulong cr = 0, name = 0, control = 0;
                for (int i = 0; i < 64; i++)
                {
                    byte b = (byte)(first + i * stride);
                    block[i] = b;
                    // RFC 9112 §2.2 CR; name bytes: letters, digits, '-'; RFC 9110 §5.5: CTL but HTAB, and DEL.
                    if (b == (byte)'\r') cr |= 1UL << i;
                    if (char.IsAsciiLetterOrDigit((char)b) || b == (byte)'-') name |= 1UL << i;
                    if ((b < 0x20 && b != (byte)'\t') || b == 0x7F) control |= 1UL << i;
                }
                Classify(width, block, out ulong gotCr, out ulong gotName, out ulong gotControl);
                Assert.True((cr, name, control) == (gotCr, gotName, gotControl), $"width {width}, first 0x{first:X2}, stride {stride}");
            }
        }
    }

    [Fact]
    public void The_version_in_use_is_the_active_width()
    {
        byte[] block = System.Text.Encoding.ASCII.GetBytes("Host: a\r\nX-\u007F\t\u0001:\r\n\r\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
        Assert.Equal(64, block.Length);
        WellFormedHead.Classify(ref block[0], out ulong cr, out ulong name, out ulong control);
        Classify(WellFormedHead.ActiveVectorWidth == 0 ? 128 : WellFormedHead.ActiveVectorWidth, block, out ulong activeCr, out ulong activeName, out ulong activeControl);
        Assert.Equal((activeCr, activeName, activeControl), (cr, name, control));
        Assert.Equal((1UL << 7) | (1UL << 15) | (1UL << 17), cr);
    }
}

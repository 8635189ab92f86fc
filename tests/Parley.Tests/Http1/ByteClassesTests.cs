using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>The byte-class table of the hot loops says exactly what the grammar's search sets say.</summary>
public class ByteClassesTests
{
    [Fact]
    public void Agrees_with_the_search_sets_for_every_octet()
    {
        for (int b = 0; b < 256; b++)
        {
            byte octet = (byte)b;
            Assert.True(HttpSyntax.TokenBytes.Contains(octet) == ByteClasses.Is(octet, ByteClasses.Token), $"token 0x{b:X2}");
            Assert.True(!HttpSyntax.InvalidTargetBytes.Contains(octet) == ByteClasses.Is(octet, ByteClasses.Target), $"target 0x{b:X2}");
            Assert.True(HostSyntax.RegNameBytes.Contains(octet) == ByteClasses.Is(octet, ByteClasses.RegName), $"reg-name 0x{b:X2}");
            Assert.True((b == '%' || b == '?') == ByteClasses.Is(octet, ByteClasses.TargetMark), $"target mark 0x{b:X2}");
        }
    }
}

/// <summary>Known field names are recognised in any ASCII case, and nothing else is.</summary>
public class KnownFieldsTests
{
    [Theory]
    [InlineData("TE", KnownField.TE)]
    [InlineData("Host", KnownField.Host)]
    [InlineData("Expect", KnownField.Expect)]
    [InlineData("Upgrade", KnownField.Upgrade)]
    [InlineData("Trailer", KnownField.Trailer)]
    [InlineData("Location", KnownField.Location)]
    [InlineData("Connection", KnownField.Connection)]
    [InlineData("Keep-Alive", KnownField.KeepAlive)]
    [InlineData("Content-Type", KnownField.ContentType)]
    [InlineData("Content-Length", KnownField.ContentLength)]
    [InlineData("Content-Encoding", KnownField.ContentEncoding)]
    [InlineData("Transfer-Encoding", KnownField.TransferEncoding)]
    public void Identifies_a_known_name_in_any_case_and_nothing_one_byte_off(string name, object fieldValue) // object: KnownField is internal
    {
        var field = (KnownField)fieldValue;
        Assert.Equal(field, KnownFields.Identify(System.Text.Encoding.ASCII.GetBytes(name)));
        Assert.Equal(field, KnownFields.Identify(System.Text.Encoding.ASCII.GetBytes(name.ToUpperInvariant())));
        Assert.Equal(field, KnownFields.Identify(System.Text.Encoding.ASCII.GetBytes(name.ToLowerInvariant())));
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(name);
        // Any other byte at any position makes it another name, except the other case of a letter.
        for (int i = 0; i < bytes.Length; i++)
        {
            for (int other = 0; other < 256; other++)
            {
                byte[] changed = (byte[])bytes.Clone();
                changed[i] = (byte)other;
                bool sameName = other == bytes[i]
                    || (char.IsAsciiLetter((char)bytes[i]) && char.IsAsciiLetter((char)other) && (other | 0x20) == (bytes[i] | 0x20));
                Assert.Equal(sameName ? field : KnownField.Other, KnownFields.Identify(changed));
            }
        }
        // One byte more or less is another name too.
        Assert.Equal(KnownField.Other, KnownFields.Identify(bytes[..^1]));
        Assert.Equal(KnownField.Other, KnownFields.Identify([.. bytes, (byte)'s']));
    }
}

/// <summary>
/// The run scanners of the request-line fast path, held against a byte-by-byte model of the same classes:
/// every octet in the 32-byte vector blocks and in the scalar tail, '%' and '?' before and after the end of
/// the run, and spans cut out of longer arrays whose following bytes must never be looked at.
/// </summary>
public class ByteClassRunTests
{
    // RFC 9112 §3.2: a target byte is visible ASCII (0x21-0x7E); '#' starts a fragment, never sent.
    private static bool IsTargetByte(byte b) => b is >= 0x21 and <= 0x7E && b != (byte)'#';

    private static (int Length, bool Percent, int Query) TargetModel(ReadOnlySpan<byte> span)
    {
        int i = 0;
        bool percent = false;
        int query = -1;
        for (; i < span.Length && IsTargetByte(span[i]); i++)
        {
            if (span[i] == (byte)'%') percent = true;
            if (span[i] == (byte)'?' && query < 0) query = i;
        }
        return (i, percent, query);
    }

    private static (int Length, bool Percent, int Query) TargetRun(ReadOnlySpan<byte> span)
    {
        int length = ByteClasses.TargetRun(span, out bool percent, out int query);
        return (length, percent, query);
    }

    /// <summary>The bytes of <paramref name="content"/> as the start of a longer array whose tail holds target bytes, '%' and '?'.</summary>
    private static ReadOnlySpan<byte> InsideLongerArray(byte[] content)
    {
        byte[] array = new byte[content.Length + 80];
        content.CopyTo(array, 0);
        for (int i = content.Length; i < array.Length; i++) array[i] = (i % 3) switch { 0 => (byte)'%', 1 => (byte)'?', _ => (byte)'a' };
        return array.AsSpan(0, content.Length);
    }

    [Theory]
    [InlineData(5)]   // in the first 32-byte block
    [InlineData(31)]  // the last byte of that block
    [InlineData(32)]  // the first byte of the second block
    [InlineData(70)]  // in the scalar tail after two blocks
    public void Every_octet_at_a_position_ends_the_run_there_unless_it_is_a_target_byte(int position)
    {
        for (int b = 0; b < 256; b++)
        {
            byte[] bytes = new byte[75];
            bytes.AsSpan().Fill((byte)'a');
            bytes[position] = (byte)b;
            int expected = IsTargetByte((byte)b) ? bytes.Length : position;
            Assert.True(expected == ByteClasses.TargetRun(InsideLongerArray(bytes), out _, out _), $"octet 0x{b:X2} at {position}");
        }
    }

    [Theory]
    [InlineData("", 0, false, -1)]
    [InlineData("/", 1, false, -1)]
    [InlineData("/a?b", 4, false, 2)]
    [InlineData("?a?b", 4, false, 0)]
    [InlineData("/a b?c%20", 2, false, -1)]
    [InlineData("/a%20 ", 5, true, -1)]
    [InlineData("/a#%?", 2, false, -1)]
    [InlineData("?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?", 43, false, 0)]
    [InlineData("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?x", 43, false, 41)]
    [InlineData("?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 72, false, 0)]
    [InlineData("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 31, false, -1)]
    [InlineData("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32, false, -1)]
    [InlineData("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%", 33, true, -1)]
    [InlineData("/aaaaaaaaaaaa %?aaaaaaaaaaaaaaaaaaaaaa", 13, false, -1)]
    [InlineData("/aaaaaaaaaaaa%?aaaaaaaaaaaaaaaaa aaaaaaaaa", 32, true, 14)]
    public void Reports_the_run_its_percent_and_its_first_question_mark(string text, int length, bool percent, int query)
    {
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(text);
        Assert.Equal((length, percent, query), TargetRun(InsideLongerArray(bytes)));
        Assert.Equal((length, percent, query), TargetModel(bytes));
    }

    [Fact]
    public void Random_targets_agree_with_the_model()
    {
        var random = new Random(22);
        byte[] invalid = [0x00, 0x09, 0x1F, 0x20, (byte)'#', 0x7F, 0x80, 0xC0, 0xFF];
        byte[] valid = [(byte)'a', (byte)'/', (byte)'%', (byte)'?', 0x21, 0x7E, (byte)'=', (byte)'Z'];
        for (int round = 0; round < 3000; round++)
        {
            int length = random.Next(0, 100);
            var bytes = new byte[length];
            int stop = random.Next(0, length + 1);
            for (int i = 0; i < length; i++)
            {
                bytes[i] = i == stop ? invalid[random.Next(invalid.Length)]
                    : random.Next(8) == 0 ? valid[random.Next(valid.Length)] : (byte)'a';
                if (i > stop && random.Next(4) == 0) bytes[i] = invalid[random.Next(invalid.Length)];
            }
            Assert.True(TargetModel(bytes) == TargetRun(InsideLongerArray(bytes)), Convert.ToHexString(bytes));
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1", ByteClasses.Token, 3)]
    [InlineData("M-SEARCH * HTTP/1.1", ByteClasses.Token, 8)]
    [InlineData(" GET", ByteClasses.Token, 0)]
    [InlineData("", ByteClasses.Token, 0)]
    [InlineData("!#$%&'*+-.^_`|~09AZaz", ByteClasses.Token, 21)]
    [InlineData("Host: x", ByteClasses.Token, 4)]
    [InlineData("a\u007Fb", ByteClasses.Token, 1)]
    [InlineData("example.com:80", ByteClasses.RegName, 11)]
    [InlineData("ex%41mple.com/", ByteClasses.RegName, 13)]
    [InlineData("[::1]", ByteClasses.RegName, 0)]
    public void Run_counts_the_leading_bytes_of_the_class(string text, byte classes, int expected)
    {
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(text);
        // What follows the span is of the class: the run must stop at the span's end.
        byte[] longer = [.. bytes, .. "abc"u8];
        Assert.Equal(expected, ByteClasses.Run(longer.AsSpan(0, bytes.Length), classes));
    }
}

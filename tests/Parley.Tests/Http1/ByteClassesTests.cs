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

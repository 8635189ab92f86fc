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

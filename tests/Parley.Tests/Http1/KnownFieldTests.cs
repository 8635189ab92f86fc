using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Recognising the fields the engine interprets, by name, case-insensitively (RFC 9110 §5.1).</summary>
public class KnownFieldTests
{
    [Theory]
    [InlineData("")]
    [InlineData("transfer-encodingX")]  // one past the longest known name
    [InlineData("Transfer-Encoding-Extra-Long-Name-Of-Many-Bytes")]
    [InlineData("H")]
    [InlineData("Hos")]
    public void Names_of_no_known_length_are_Other(string name) => Assert.Equal(KnownField.Other, KnownFields.Identify(Bytes(name)));

    [Theory]
    [InlineData("host", (byte)KnownField.Host)]
    [InlineData("CONTENT-LENGTH", (byte)KnownField.ContentLength)]
    [InlineData("transfer-Encoding", (byte)KnownField.TransferEncoding)]
    [InlineData("te", (byte)KnownField.TE)]
    [InlineData("Upgrade", (byte)KnownField.Upgrade)]   // 7 bytes, shared with Trailer
    [InlineData("trailer", (byte)KnownField.Trailer)]
    [InlineData("Connection", (byte)KnownField.Connection)] // 10 bytes, shared with Keep-Alive
    [InlineData("keep-alive", (byte)KnownField.KeepAlive)]
    public void Known_names_are_found_in_any_case(string name, byte field) => Assert.Equal((KnownField)field, KnownFields.Identify(Bytes(name)));
}

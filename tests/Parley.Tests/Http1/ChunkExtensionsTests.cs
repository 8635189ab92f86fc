using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Chunk extensions (RFC 9112 §7.1.1), checked on their own: what is valid and the reason a bad one names.</summary>
public class ChunkExtensionsTests
{
    [Theory]
    [InlineData("")]
    [InlineData(";a")]
    [InlineData(" ; a = b ;c")]
    [InlineData(";a=\"\"")]
    [InlineData(";a=\"#[]~!\t \"")]          // qdtext at the edges of its ranges (RFC 9110 §5.6.4)
    [InlineData(";a=\"\u0080\u00ff\"")]      // obs-text
    [InlineData(";a=\"\\\t\\ \\~\\\"\\\\\"")]  // quoted-pair of HTAB, SP, '~', DQUOTE, backslash
    [InlineData(";a=\"\\\u0080\"")]
    public void Accepts_valid_extensions(string ext) // RFC 9112 §7.1.1
    {
        Assert.True(ChunkExtensions.TryValidate(Bytes(ext), out HttpError error), error.Reason);
        Assert.False(error.IsError);
    }

    [Theory]
    [InlineData(";a ", "whitespace at the end of a chunk-size line")]
    [InlineData("x", "invalid chunk extension")]
    [InlineData(";a=b c", "invalid chunk extension")]
    [InlineData(";", "invalid chunk extension name")]
    [InlineData(";=b", "invalid chunk extension name")]
    [InlineData(";a=", "missing chunk extension value")]
    [InlineData(";a=@", "invalid chunk extension value")]
    [InlineData(";a=\"abc", "invalid quoted chunk extension value")]     // not closed
    [InlineData(";a=\"\\", "invalid quoted chunk extension value")]      // backslash at the end
    [InlineData(";a=\"\\\u0001\"", "invalid quoted chunk extension value")] // quoted-pair of a control
    [InlineData(";a=\"\\\u007f\"", "invalid quoted chunk extension value")] // quoted-pair of DEL
    [InlineData(";a=\"x\u0001y\"", "invalid quoted chunk extension value")] // a control in the string
    [InlineData(";a=\"\u007f\"", "invalid quoted chunk extension value")]
    [InlineData(";a=\"\\\"", "invalid quoted chunk extension value")]     // the quote is escaped: never closed
    public void Rejects_invalid_extensions_naming_why(string ext, string reason) // RFC 9112 §7.1.1
    {
        Assert.False(ChunkExtensions.TryValidate(Bytes(ext), out HttpError error));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(reason, error.Reason);
    }
}

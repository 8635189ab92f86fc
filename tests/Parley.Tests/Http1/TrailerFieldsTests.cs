using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>Fields that may not be sent in a trailer section (RFC 9110 §6.5.1).</summary>
public class TrailerFieldsTests
{
    [Theory]
    [InlineData("Content-Length")] [InlineData("Transfer-Encoding")] [InlineData("Trailer")] [InlineData("TE")]
    [InlineData("Connection")] [InlineData("Keep-Alive")] [InlineData("Proxy-Connection")] [InlineData("Upgrade")]
    [InlineData("Host")] [InlineData("Max-Forwards")]
    [InlineData("Authorization")] [InlineData("Proxy-Authorization")] [InlineData("WWW-Authenticate")] [InlineData("Proxy-Authenticate")]
    [InlineData("Expect")] [InlineData("Range")] [InlineData("If-Match")] [InlineData("If-None-Match")]
    [InlineData("If-Modified-Since")] [InlineData("If-Unmodified-Since")] [InlineData("If-Range")]
    [InlineData("Date")] [InlineData("Location")] [InlineData("Retry-After")] [InlineData("Vary")] [InlineData("Age")]
    [InlineData("Cache-Control")] [InlineData("Expires")] [InlineData("Pragma")]
    [InlineData("Content-Type")] [InlineData("Content-Encoding")] [InlineData("Content-Range")]
    [InlineData("content-type")] [InlineData("HOST")]
    public void Framing_routing_and_control_fields_are_prohibited(string name) => Assert.True(TrailerFields.IsProhibited(name));

    [Theory]
    [InlineData("Server-Timing")]
    [InlineData("Authentication-Info")] // RFC 9110 §11.6.3 allows it in trailers
    [InlineData("ETag")]
    [InlineData("X-Checksum")]
    [InlineData("")]
    public void Other_fields_are_allowed(string name) => Assert.False(TrailerFields.IsProhibited(name));
}

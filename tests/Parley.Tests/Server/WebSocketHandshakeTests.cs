using System.Net.WebSockets;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The server's opening-handshake checks and its permessage-deflate answer (RFC 6455 §4.2, RFC 7692 §7),
/// in process on parsed requests; the defaults of <see cref="WebSocketAcceptOptions"/>.
/// </summary>
public class WebSocketHandshakeTests
{
    private const string Valid = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    private static HttpRequest Parse(string fields) => ParsedRequest.From($"GET /ws HTTP/1.1\r\nHost: x\r\n{fields}\r\n");

    private static (WebSocketDeflateOptions? Options, string? Answer) Negotiate(string offer)
    {
        bool accepted = WebSocketHandshake.TryNegotiateDeflate(Parse($"Sec-WebSocket-Extensions: {offer}\r\n"), out WebSocketDeflateOptions? options, out string? answer);
        Assert.Equal(accepted, answer is not null);
        Assert.Equal(accepted, options is not null);
        return (options, answer);
    }

    [Fact]
    public void A_valid_handshake_passes_and_an_upgrade_to_another_protocol_gets_426()
    {
        Assert.Null(WebSocketHandshake.Check(Parse("Connection: Upgrade\r\nUpgrade: websocket\r\n" + Valid)));
        // An upgrade request, but not to websocket: RFC 6455 §4.2.1 (3).
        Assert.Equal(426, WebSocketHandshake.Check(Parse("Connection: Upgrade\r\nUpgrade: h2c\r\n" + Valid))?.Status);
        // Upgrade: websocket without Connection: upgrade is no upgrade request.
        Assert.Equal(426, WebSocketHandshake.Check(Parse("Upgrade: websocket\r\n" + Valid))?.Status);
    }

    [Theory]
    // Accepted offers and the answer that holds both sides to them.
    [InlineData("permessage-deflate", "permessage-deflate")]
    [InlineData("x-webkit-deflate-frame, permessage-deflate", "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate")]
    [InlineData("permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=\"9\"", "permessage-deflate; server_max_window_bits=9")]
    [InlineData("permessage-deflate; client_max_window_bits=15", "permessage-deflate; client_max_window_bits=15")]
    [InlineData("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=12")]
    // Declined offers (RFC 7692 §7.1: known parameters, each once, with valid values; zlib takes 9 to 15 bits).
    [InlineData("x-webkit-deflate-frame", null)]
    [InlineData("permessage-deflate;", null)]
    [InlineData("permessage-deflate; unknown", null)]
    [InlineData("permessage-deflate; client_no_context_takeover; client_no_context_takeover", null)]
    [InlineData("permessage-deflate; server_no_context_takeover=1", null)]
    [InlineData("permessage-deflate; client_no_context_takeover=1", null)]
    [InlineData("permessage-deflate; server_max_window_bits", null)]
    [InlineData("permessage-deflate; server_max_window_bits=", null)]
    [InlineData("permessage-deflate; server_max_window_bits=8", null)]
    [InlineData("permessage-deflate; server_max_window_bits=16", null)]
    [InlineData("permessage-deflate; server_max_window_bits=09", null)]
    [InlineData("permessage-deflate; server_max_window_bits=+09", null)]
    [InlineData("permessage-deflate; server_max_window_bits=x", null)]
    [InlineData("permessage-deflate; client_max_window_bits=8", null)]
    public void A_deflate_offer_is_answered_or_declined(string offer, string? answer)
    {
        Assert.Equal(answer, Negotiate(offer).Answer);
    }

    [Fact]
    public void The_negotiated_deflate_options_follow_the_offer()
    {
        WebSocketDeflateOptions? options = Negotiate("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=15").Options;
        Assert.NotNull(options);
        Assert.False(options.ServerContextTakeover);
        Assert.False(options.ClientContextTakeover);
        Assert.Equal(9, options.ServerMaxWindowBits);
        Assert.Equal(15, options.ClientMaxWindowBits);

        options = Negotiate("permessage-deflate; server_max_window_bits=15; client_max_window_bits=11").Options;
        Assert.NotNull(options);
        Assert.True(options.ServerContextTakeover);
        Assert.True(options.ClientContextTakeover);
        Assert.Equal(15, options.ServerMaxWindowBits);
        Assert.Equal(11, options.ClientMaxWindowBits);
    }

    [Fact]
    public void Accept_options_have_documented_defaults()
    {
        var options = new WebSocketAcceptOptions();
        Assert.True(options.EnableCompression);
        Assert.Equal(1024 * 1024, options.MaxMessageSize);
        Assert.Equal(TimeSpan.FromSeconds(30), options.KeepAliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), options.KeepAliveTimeout);
        Assert.Empty(options.SubProtocols);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_message_limit_below_one_byte_is_refused(long limit)
    {
        var options = new WebSocketAcceptOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxMessageSize = limit);
        Assert.Equal(1024 * 1024, options.MaxMessageSize);
        options.MaxMessageSize = 1;
        Assert.Equal(1, options.MaxMessageSize);
    }
}

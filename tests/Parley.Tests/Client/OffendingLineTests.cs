using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>The quoted line in a malformed-response error: printable, escaped, and cut at 120 characters.</summary>
public class OffendingLineTests
{
    private static async Task<ParleyHttpException> FailAsync(string response)
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync(response);
            await exchange.HangAsync();
        });
        using var client = new ParleyClient();
        return await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url));
    }

    [Fact]
    public async Task Control_bytes_in_the_quoted_line_are_escaped_as_hex()
    {
        var error = await FailAsync("HTTP/1.1 200 OK\r\nX: a\u0001b\u007Fc\r\n\r\n");
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        Assert.EndsWith(@": 'X: a\x01b\x7Fc'", error.Message);
    }

    [Fact]
    public async Task A_long_quoted_line_is_cut_at_120_characters()
    {
        string line = "X: " + new string('a', 130) + "\u0001";
        var error = await FailAsync($"HTTP/1.1 200 OK\r\n{line}\r\n\r\n");
        Assert.EndsWith($": '{line[..120]}...'", error.Message);
    }
}

using System.Text;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>How a small response body (held with its head) reads: in the charset its Content-Type names, and in pieces.</summary>
public class ResponseBodyTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static async Task<ParleyResponse> ResponseAsync(string contentType, byte[] body)
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync([.. Encoding.Latin1.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n\r\n"), .. body]);
            exchange.CloseAfter = true;
        });
        using var client = new ParleyClient();
        return await client.GetAsync(server.Url, Test);
    }

    [Theory]
    [InlineData("text/plain; charset=iso-8859-1", "caf\u00e9")]
    [InlineData("text/plain; CHARSET=\"ISO-8859-1\"; format=flowed", "caf\u00e9")]
    [InlineData("text/plain", "caf\ufffd")]
    [InlineData("text/plain; charset=no-such-charset", "caf\ufffd")]
    public async Task Text_is_read_in_the_charset_of_Content_Type_and_UTF8_otherwise(string contentType, string expected)
    {
        using ParleyResponse response = await ResponseAsync(contentType, [(byte)'c', (byte)'a', (byte)'f', 0xE9]);
        Assert.Equal(expected, await response.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task The_body_stream_reads_a_held_body_in_pieces_in_order()
    {
        using ParleyResponse response = await ResponseAsync("text/plain", "abcdefghij"u8.ToArray());
        var pieces = new List<string>();
        byte[] buffer = new byte[3];
        int read;
        while ((read = await response.Body.ReadAsync(buffer, Test)) > 0) pieces.Add(Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal(["abc", "def", "ghi", "j"], pieces);
    }
}

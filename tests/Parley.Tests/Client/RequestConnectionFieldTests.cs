using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>RFC 9112 §9.6: a request that says "Connection: close" is the last on its connection; other options keep it.</summary>
public class RequestConnectionFieldTests
{
    [Theory]
    [InlineData("close", 0)]
    [InlineData("Keep-Alive", 1)]
    public async Task The_callers_Connection_field_decides_whether_the_connection_is_kept(string value, int kept)
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var client = new ParleyClient();
        var request = ParleyRequest.Get(server.Url);
        request.Headers.Add("Connection", value);
        using (ParleyResponse response = await client.SendAsync(request))
        {
            Assert.Equal("ok", await response.ReadAsStringAsync());
        }
        Assert.Equal(kept, client.ConnectionCount);
        Assert.Contains($"\r\nConnection: {value}\r\n", server.Requests[0]);
    }
}

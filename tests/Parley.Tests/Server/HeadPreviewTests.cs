using System.Text;
using Parley.Http1;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="HttpResponse.PreviewHead"/> shows the head the engine then sends, byte for byte: each case
/// previews inside the handler and compares with the head read off the socket.
/// </summary>
public class HeadPreviewTests : TransportTests
{
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("previewed body\n");

    // Previews, keeps the text for the test, then sends the body with the previewed length.
    private static RequestHandler Previewing(List<string> previews, Action<HttpResponse>? before = null) => (request, response) =>
    {
        response.Headers.Set("Content-Type", "text/plain");
        before?.Invoke(response);
        string head = response.PreviewHead(Body.Length);
        lock (previews) previews.Add(head);
        response.ContentLength = Body.Length;
        response.Write(Body);
        return ValueTask.CompletedTask;
    };

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "Keep-Alive: timeout=")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "Connection: close\r\n")]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "Connection: keep-alive\r\n")]
    [InlineData("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", "Content-Length: 15\r\n")]
    public async Task The_head_sent_is_the_head_previewed(string request, string expectedLine)
    {
        var previews = new List<string>();
        await using var server = await StartAsync(Previewing(previews));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync(request);
        RawResponse response = await connection.ReadResponseAsync(headRequest: request.StartsWith("HEAD", StringComparison.Ordinal));
        Assert.Equal(previews.Single(), response.RawHead);
        Assert.Contains(expectedLine, response.RawHead);
        Assert.Contains("Content-Length: 15\r\n", response.RawHead);
    }

    [Fact]
    public async Task The_last_request_allowed_on_a_connection_is_previewed_with_its_close()
    {
        var previews = new List<string>();
        await using var server = await StartAsync(Previewing(previews), options => options.MaxRequestsPerConnection = 2);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        await connection.SendAsync("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(previews[0], first.RawHead);
        Assert.Contains(", max=1\r\n", first.RawHead);
        Assert.Equal(previews[1], second.RawHead);
        Assert.Contains("Connection: close\r\n", second.RawHead);
    }

    [Fact]
    public async Task The_previewed_Date_is_sent_even_when_the_clock_passes_into_the_next_second()
    {
        var previews = new List<string>();
        await using var server = await StartAsync(Previewing(previews, response =>
        {
            // Preview, then hold the response until the engine's Date line has moved on (at most a second).
            string shown = response.PreviewHead(Body.Length);
            string dateShown = shown.Split("\r\n")[1] + "\r\n";
            var deadline = DateTime.UtcNow.AddSeconds(3);
            while (Encoding.ASCII.GetString(DateField.CurrentLine) == dateShown && DateTime.UtcNow < deadline) Thread.Sleep(5);
            Assert.NotEqual(dateShown, Encoding.ASCII.GetString(DateField.CurrentLine));
        }));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(previews.Single(), response.RawHead);
    }

    [Fact]
    public async Task An_unread_request_body_is_previewed_as_a_close_and_the_connection_closes()
    {
        var previews = new List<string>();
        await using var server = await StartAsync(Previewing(previews));
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(previews.Single(), response.RawHead);
        Assert.Contains("Connection: close\r\n", response.RawHead);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_preview_after_the_head_was_written_is_refused()
    {
        Exception? refused = null;
        await using var server = await StartAsync(async (request, response) =>
        {
            await response.FlushAsync();
            refused = Record.Exception(() => response.PreviewHead(0));
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await connection.ReadResponseAsync();
        Assert.IsType<InvalidOperationException>(refused);
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollHeadPreviewTests : HeadPreviewTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

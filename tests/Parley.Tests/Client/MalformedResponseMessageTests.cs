using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// The exact text of malformed-response errors at their edges: a framing error quotes no line, a quoted
/// line of exactly 120 characters is not cut, an unfinished empty line quotes nothing, and the status
/// line limit allows exactly its length.
/// </summary>
public class MalformedResponseMessageTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static async Task<ParleyHttpException> FailAsync(string response, bool close = false)
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync(response);
            if (close) exchange.CloseAfter = true;
            else await exchange.HangAsync();
        });
        using var client = new ParleyClient();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url, Test));
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        return error;
    }

    [Fact]
    public async Task Ambiguous_framing_is_named_without_a_quoted_line()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello");
            await exchange.HangAsync();
        });
        using var client = new ParleyClient();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url, Test));
        Assert.Equal($"response has both Transfer-Encoding and Content-Length from 127.0.0.1:{server.Port}", error.Message);
    }

    [Fact]
    public async Task A_quoted_line_of_exactly_120_characters_is_quoted_whole()
    {
        string line = "X: " + new string('a', 116) + "\u0001";
        Assert.Equal(120, line.Length);
        var error = await FailAsync($"HTTP/1.1 200 OK\r\n{line}\r\n\r\n");
        Assert.EndsWith($": '{line[..119]}\\x01'", error.Message);
    }

    [Fact]
    public async Task A_close_inside_the_empty_line_that_ends_the_head_quotes_nothing()
    {
        var error = await FailAsync("HTTP/1.1 200 OK\r\nA: b\r\n\r", close: true);
        Assert.StartsWith("connection closed in the middle of the response head from 127.0.0.1:", error.Message);
        Assert.DoesNotContain("'", error.Message);
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public async Task A_status_line_may_be_as_long_as_MaxStatusLineLength_and_no_longer(int length, bool accepted)
    {
        var firstByte = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string statusLine = "HTTP/1.1 200 " + new string('r', length - 13);
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync(statusLine);
            // The rest only once the client holds the unfinished line, so that it judges exactly that.
            await firstByte.Task.WaitAsync(exchange.Stopping);
            await exchange.SendAsync("\r\nContent-Length: 2\r\n\r\nok");
            await exchange.HangAsync();
        });
        using var client = new ParleyClient(new ParleyClientOptions
        {
            MaxStatusLineLength = 64,
            Observer = new FirstByte(firstByte),
        });
        if (accepted)
        {
            using ParleyResponse response = await client.GetAsync(server.Url, Test);
            Assert.Equal(statusLine[13..], response.ReasonPhrase);
            Assert.Equal("ok", await response.ReadAsStringAsync(Test));
        }
        else
        {
            var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url, Test));
            Assert.Equal($"status line longer than 64 bytes from 127.0.0.1:{server.Port}: '{statusLine}'", error.Message);
        }
    }

    private sealed class FirstByte(TaskCompletionSource seen) : ISessionObserver
    {
        public void OnEvent(in SessionEvent e)
        {
            if (e.Kind == SessionEventKind.FirstResponseByte) seen.TrySetResult();
        }
    }
}

using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// A flush inside the handler's synchronous call is sent when the call returns (with the rest of the
/// response when the handler has finished); the bytes still reach the client before anything the handler
/// then waits for, and a failure after the flush still leaves them on the wire.
/// </summary>
public class DeferredFlushTests : TransportTests
{
    [Fact]
    public async Task Flushed_bytes_reach_the_client_while_the_handler_waits_for_it()
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            await response.WriteAsync("first"u8.ToArray());
            await response.FlushAsync();
            // Only the client can end this wait, and only once it has read what was flushed.
            await seen.Task;
            await response.WriteAsync("second"u8.ToArray());
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var received = new StringBuilder();
        while (!received.ToString().Contains("5\r\nfirst\r\n", StringComparison.Ordinal))
        {
            received.Append(Encoding.Latin1.GetString(await connection.ReadExactlyAsync(1)));
        }
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", received.ToString());
        seen.SetResult();
        Assert.Equal("6\r\nsecond\r\n0\r\n\r\n", Encoding.Latin1.GetString(await connection.ReadExactlyAsync(16)));
    }

    [Fact]
    public async Task A_response_flushed_and_finished_in_one_call_keeps_its_chunked_framing()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.Write("{\"message\":\"Hello\"}"u8);
            return response.FlushAsync();
        });
        await using var connection = await server.ConnectAsync();
        for (int i = 0; i < 2; i++)
        {
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal("chunked", response.Header("Transfer-Encoding"));
            Assert.Equal("{\"message\":\"Hello\"}", response.BodyText);
        }
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollDeferredFlushTests : DeferredFlushTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

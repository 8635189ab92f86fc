using System.Net.Sockets;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The request's connection identity and its aborted signal: <see cref="HttpRequest.Aborted"/> fires when
/// the client goes away during a handler, and <see cref="HttpResponse.Abort"/> ends the connection at once.
/// </summary>
public class RequestAbortedTests : TransportTests
{
    [Fact]
    public async Task Aborted_fires_when_the_client_closes_while_the_handler_waits()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            CancellationToken token = request.Aborted;
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, token);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        });
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            connection.Socket.Shutdown(SocketShutdown.Both);
        }
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Aborted_does_not_fire_for_a_request_answered_normally_and_is_reused_on_the_connection()
    {
        var tokens = new List<bool>();
        await using var server = await StartAsync((request, response) =>
        {
            CancellationToken token = request.Aborted;
            lock (tokens) tokens.Add(token.IsCancellationRequested);
            response.WriteText($"connection {request.ConnectionId}");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        await connection.SendAsync("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(first.BodyText, second.BodyText);
        Assert.StartsWith("connection ", first.BodyText);
        Assert.Equal([false, false], tokens);

        await using RawConnection other = await server.ConnectAsync();
        await other.SendAsync("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse third = await other.ReadResponseAsync();
        Assert.NotEqual(first.BodyText, third.BodyText);
    }

    // Asking for the token makes the transport watch for the client's close; on the Socket transport that
    // watch's receive outlives the handler, and the wait for the next request joins it.
    [Fact]
    public async Task A_connection_whose_handlers_asked_for_the_token_serves_its_next_requests_and_ends_when_the_client_closes()
    {
        int answered = 0;
        await using var server = await StartAsync((request, response) =>
        {
            Assert.False(request.Aborted.IsCancellationRequested);
            response.WriteText($"answer {Interlocked.Increment(ref answered)}");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        for (int i = 1; i <= 20; i++)
        {
            await connection.SendAsync($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal($"answer {i}", response.BodyText);
        }
        connection.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await connection.ReadUntilCloseAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task Abort_closes_the_connection_without_the_buffered_response_and_fires_Aborted()
    {
        // Set by the handler after its Abort: the client can see the close before the handler gets there.
        var firedInHandler = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync((request, response) =>
        {
            CancellationToken token = request.Aborted;
            response.Write("never sent"u8);
            response.Abort();
            firedInHandler.SetResult(token.IsCancellationRequested);
            return ValueTask.CompletedTask;
        });
        string all = await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("", all);
        Assert.True(await firedInHandler.Task.WaitAsync(ServerTiming.LoadAllowance));
        Assert.Empty(server.Errors);
    }
}

public class EpollRequestAbortedTests : RequestAbortedTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

using System.Net.Sockets;
using System.Text;
using Parley.Server;
using Parley.Tests.Hardening;

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

    [Fact]
    public async Task Aborted_asked_for_after_the_handler_aborted_has_already_fired()
    {
        var fired = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync((request, response) =>
        {
            response.Abort();
            fired.SetResult(request.Aborted.IsCancellationRequested);
            return ValueTask.CompletedTask;
        });
        Assert.Equal("", await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.True(await fired.Task.WaitAsync(ServerTiming.LoadAllowance));
    }

    [Fact]
    public async Task A_callback_a_finished_request_left_on_the_token_is_not_run_when_a_later_request_aborts()
    {
        int firstCallbackRan = 0;
        var atTheAbort = new TaskCompletionSource<(bool Fired, bool FirstCallbackRan)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/first")
            {
                request.Aborted.Register(() => Volatile.Write(ref firstCallbackRan, 1));
                response.WriteText("first");
                return ValueTask.CompletedTask;
            }
            // The token is the connection's, reset between requests: the first request's callback went with it.
            CancellationToken aborted = request.Aborted;
            response.Abort(); // fires the token, running its callbacks, before it returns
            atTheAbort.SetResult((aborted.IsCancellationRequested, Volatile.Read(ref firstCallbackRan) == 1));
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("first", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("", await connection.ReadUntilCloseAsync());
        Assert.Equal((true, false), await atTheAbort.Task.WaitAsync(ServerTiming.HangBound));
        Assert.Equal(0, Volatile.Read(ref firstCallbackRan));
    }

    [Fact]
    public async Task Aborted_asked_for_twice_is_one_token_and_fires_when_the_client_closes()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            CancellationToken first = request.Aborted;
            CancellationToken second = request.Aborted;
            Assert.Equal(first, second);
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, first);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        });
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
            await entered.Task.WaitAsync(ServerTiming.HangBound);
            connection.Socket.Shutdown(SocketShutdown.Both);
        }
        await aborted.Task.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task Aborted_fires_for_a_later_request_on_the_connection_when_the_client_closes()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            CancellationToken token = request.Aborted;
            if (request.Path != "/wait")
            {
                response.WriteText("answered");
                return;
            }
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
            await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal("answered", (await connection.ReadResponseAsync()).BodyText);
            await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
            await entered.Task.WaitAsync(ServerTiming.HangBound);
            connection.Socket.Shutdown(SocketShutdown.Both);
        }
        await aborted.Task.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task A_failing_callback_on_the_token_is_reported_to_the_error_log()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            CancellationToken token = request.Aborted;
            token.Register(() => throw new InvalidOperationException("callback failed"));
            token.Register(() => aborted.TrySetResult());
            entered.TrySetResult();
            await aborted.Task;
        });
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
            await entered.Task.WaitAsync(ServerTiming.HangBound);
            connection.Socket.Shutdown(SocketShutdown.Both);
        }
        await aborted.Task.WaitAsync(ServerTiming.HangBound);
        // The report follows the callbacks; bounded wait for it (a loaded machine may run it late).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < ServerTiming.HangBound)
        {
            lock (server.Errors)
            {
                if (server.Errors.Count != 0) break;
            }
            await Task.Delay(10);
        }
        lock (server.Errors)
        {
            string error = Assert.Single(server.Errors);
            Assert.StartsWith("a callback on the request's aborted token failed: AggregateException: ", error);
            Assert.Contains("callback failed", error);
        }
    }

    // A handler that waits until its token fires, reporting that it did; bounded by the test's own waits.
    private static RequestHandler WaitForAborted(TaskCompletionSource entered, TaskCompletionSource aborted, Task? askAfter = null) =>
        async (request, response) =>
        {
            if (askAfter is not null) await askAfter;
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
        };

    [Fact]
    public async Task Aborted_fires_when_the_client_resets_while_the_handler_waits()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(WaitForAborted(entered, aborted));
        RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
        await entered.Task.WaitAsync(ServerTiming.HangBound);
        Hostile.Reset(connection.Socket);
        await aborted.Task.WaitAsync(ServerTiming.HangBound);
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"the server still counts {server.Server.ConnectionCount} connection(s)");
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Aborted_fires_when_the_client_had_closed_before_the_handler_asked()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            handlerStarted.TrySetResult();
            await WaitForAborted(entered, aborted, clientClosed.Task)(request, response);
        });
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
            await handlerStarted.Task.WaitAsync(ServerTiming.HangBound);
            // The client's FIN is in the server's socket (loopback) before the handler asks for its token.
            connection.Socket.Shutdown(SocketShutdown.Both);
        }
        clientClosed.SetResult();
        await aborted.Task.WaitAsync(ServerTiming.HangBound);
    }

    [Fact]
    public async Task An_idle_connection_whose_last_handler_asked_for_the_token_ends_when_the_client_resets()
    {
        await using var server = await StartAsync((request, response) =>
        {
            Assert.False(request.Aborted.IsCancellationRequested);
            response.WriteText("answered");
            return ValueTask.CompletedTask;
        });
        RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("answered", (await connection.ReadResponseAsync()).BodyText);
        // The connection now waits for its next request, on the Socket transport by joining the watch's receive.
        Hostile.Reset(connection.Socket);
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"the server still counts {server.Server.ConnectionCount} connection(s)");
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Pipelined_requests_that_all_ask_for_the_token_are_all_answered_and_so_is_the_next()
    {
        int answered = 0;
        await using var server = await StartAsync((request, response) =>
        {
            Assert.False(request.Aborted.IsCancellationRequested);
            response.WriteText($"answer {Interlocked.Increment(ref answered)}");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(string.Concat(Enumerable.Range(1, 3).Select(i => $"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n")));
        for (int i = 1; i <= 3; i++) Assert.Equal($"answer {i}", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("GET /4 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("answer 4", (await connection.ReadResponseAsync()).BodyText);
        connection.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await connection.ReadUntilCloseAsync(ServerTiming.HangBound));
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"the server still counts {server.Server.ConnectionCount} connection(s)");
        Assert.Empty(server.Errors);
    }

    // The watch's receive is still pending when the connection closes: the close must still be an orderly
    // one (FIN), after which the client reads the end of the stream, not a reset.
    [Fact]
    public async Task A_connection_that_closes_after_a_handler_asked_for_the_token_ends_with_a_FIN_not_a_reset()
    {
        await using var server = await StartAsync((request, response) =>
        {
            Assert.False(request.Aborted.IsCancellationRequested);
            response.WriteText("last");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("last", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
        using var timeout = new CancellationTokenSource(ServerTiming.HangBound);
        byte[] buffer = new byte[64];
        int n = await connection.ReceiveAsync(buffer, timeout.Token); // a reset throws here
        Assert.True(n == 0, $"after the response: {Encoding.Latin1.GetString(buffer, 0, n)}");
    }
}

public class EpollRequestAbortedTests : RequestAbortedTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

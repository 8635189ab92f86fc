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

    [Fact]
    public async Task An_output_operation_from_another_thread_during_the_call_sends_the_deferred_flush_first()
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawInCall = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync((request, response) =>
        {
            response.Write("first"u8);
            response.FlushAsync().GetAwaiter().GetResult(); // deferred: the synchronous call goes on
            // Outside the call's thread, a write first settles the deferred flush: it is sent now.
            Task.Run(async () => await response.WriteAsync("second"u8.ToArray())).GetAwaiter().GetResult();
            // Still inside the call: only the client can end this wait, once it has read what was flushed.
            sawInCall.SetResult(seen.Task.Wait(ServerTiming.HangBound));
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var received = new StringBuilder();
        for (int i = 0; i < 4096 && !received.ToString().EndsWith("5\r\nfirst\r\n", StringComparison.Ordinal); i++)
        {
            received.Append(Encoding.Latin1.GetString(await connection.ReadExactlyAsync(1, ServerTiming.LoadAllowance)));
        }
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", received.ToString());
        Assert.EndsWith("\r\n\r\n5\r\nfirst\r\n", received.ToString());
        seen.SetResult();
        Assert.True(await sawInCall.Task.WaitAsync(ServerTiming.LoadAllowance));
        Assert.Equal("6\r\nsecond\r\n0\r\n\r\n", Encoding.Latin1.GetString(await connection.ReadExactlyAsync(16, ServerTiming.LoadAllowance)));
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_write_after_a_flush_inside_the_call_leaves_the_flush_deferred_until_the_call_returns()
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        await using var server = await StartAsync((request, response) =>
        {
            response.Write("first"u8);
            response.FlushAsync().GetAwaiter().GetResult(); // deferred: the synchronous call goes on
            response.Write("second"u8); // still inside the call: no send of its own
            written.SetResult();
            release.Wait(ServerTiming.HangBound);
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        long sentDuringTheCall;
        try
        {
            await written.Task.WaitAsync(ServerTiming.HangBound);
            HttpConnection serving = Assert.Single(server.Server.OpenConnections.ToArray().OfType<HttpConnection>());
            var json = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new System.Text.Json.Utf8JsonWriter(json)) serving.WriteStatus(writer, Environment.TickCount64, "test");
            sentDuringTheCall = System.Text.Json.JsonDocument.Parse(json.WrittenMemory).RootElement.GetProperty("bytesSent").GetInt64();
        }
        finally
        {
            release.Set();
        }
        Assert.Equal(0, sentDuringTheCall);
        RawResponse answered = await connection.ReadResponseAsync();
        Assert.Equal("firstsecond", answered.BodyText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_write_after_the_call_waits_for_a_deferred_flush_the_client_is_slow_to_take(bool synchronousWrite)
    {
        // Far more than the socket buffers of both sides hold on loopback: the send of the flush waits for the client.
        byte[] big = Enumerable.Repeat((byte)'b', 32 * 1024 * 1024).ToArray();
        var tailComing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            response.Write(big);
            await response.FlushAsync(); // deferred: sent when the call returns
            await Task.Yield(); // the call returns; the connection's send of the flush waits for the client
            tailComing.TrySetResult();
            // This output operation must wait for that send, not write under it.
            if (synchronousWrite) response.Write("tail"u8);
            else await response.WriteAsync("tail"u8.ToArray());
        }, o => o.ResponseBufferSize = 2 * big.Length);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        // The client reads nothing until the handler has its tail to write.
        await tailComing.Task.WaitAsync(ServerTiming.HangBound);
        RawResponse response = await connection.ReadResponseAsync(timeout: ServerTiming.HangBound);
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Equal(big.Length + 4, response.Body.Length);
        Assert.True(response.Body.AsSpan(0, big.Length).IndexOfAnyExcept((byte)'b') < 0, "the flushed bytes are not intact");
        Assert.Equal("tail", Encoding.Latin1.GetString(response.Body, big.Length, 4));
        // And the connection is fit for the next request.
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(big.Length + 4, (await connection.ReadResponseAsync(timeout: ServerTiming.HangBound)).Body.Length);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task Bytes_flushed_in_the_call_reach_the_client_when_the_handler_then_aborts()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.Write("first"u8);
            response.FlushAsync().GetAwaiter().GetResult(); // deferred: owed to the client even though the rest never comes
            response.Abort();
            return ValueTask.CompletedTask;
        });
        string all = await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", all);
        Assert.EndsWith("\r\n\r\n5\r\nfirst\r\n", all);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task Bytes_flushed_in_the_call_and_sent_at_the_abort_are_counted_as_sent()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        await using var server = await StartAsync((request, response) =>
        {
            response.Write("first"u8);
            response.FlushAsync().GetAwaiter().GetResult(); // deferred, then sent by the abort
            response.Abort();
            aborted.SetResult();
            // The connection is listed until the handler returns: its count is read meanwhile.
            release.Wait(ServerTiming.HangBound);
            return ValueTask.CompletedTask;
        });
        Task<string> received = server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        long bytesSent;
        try
        {
            await aborted.Task.WaitAsync(ServerTiming.HangBound);
            HttpConnection serving = Assert.Single(server.Server.OpenConnections.ToArray().OfType<HttpConnection>());
            var json = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new System.Text.Json.Utf8JsonWriter(json)) serving.WriteStatus(writer, Environment.TickCount64, "test");
            bytesSent = System.Text.Json.JsonDocument.Parse(json.WrittenMemory).RootElement.GetProperty("bytesSent").GetInt64();
        }
        finally
        {
            release.Set();
        }
        string all = await received.WaitAsync(ServerTiming.HangBound);
        Assert.EndsWith("\r\n\r\n5\r\nfirst\r\n", all);
        Assert.Equal(Encoding.Latin1.GetByteCount(all), bytesSent);
    }

    [Fact]
    public async Task Bytes_written_after_a_sent_flush_are_not_sent_when_the_handler_aborts()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            response.Write("first"u8);
            await response.FlushAsync();
            await Task.Yield(); // out of the synchronous call: the next flush is sent at once
            await response.WriteAsync("second"u8.ToArray());
            await response.FlushAsync();
            response.Write("never sent"u8);
            response.Abort();
        });
        string all = await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", all);
        Assert.EndsWith("\r\n\r\n5\r\nfirst\r\n6\r\nsecond\r\n", all);
        Assert.Empty(server.Errors);
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollDeferredFlushTests : DeferredFlushTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

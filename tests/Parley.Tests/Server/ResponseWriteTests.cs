using System.Text;
using Parley.Server;
using static Parley.Tests.Server.ServerTiming;

namespace Parley.Tests.Server;

/// <summary>
/// How the response's writers frame and send what the handler gives them: a small body is held back and
/// gets a Content-Length, a full buffer is sent (so a later failure can no longer become a 500), HEAD and
/// bodiless statuses get their head alone, and the head's fields follow the options and the handler's asks.
/// </summary>
public class ResponseWriteTests : TransportTests
{
    private static string Get(string path = "/", string method = "GET", string extra = "") =>
        $"{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n";

    [Fact]
    public async Task A_handler_that_fails_after_buffering_part_of_a_body_gets_a_clean_500_and_the_connection_goes_on()
    {
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/fail")
            {
                response.Write("partial"u8); // no Content-Length: held back, not sent
                throw new InvalidOperationException("the handler failed");
            }
            response.Write("ok"u8); // held back as well, behind nothing of the failed response
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get("/fail") + Get("/after"));
        RawResponse failed = await connection.ReadResponseAsync();
        Assert.Equal(500, failed.StatusCode);
        Assert.Equal("500 Internal Server Error\n", failed.BodyText);
        RawResponse after = await connection.ReadResponseAsync();
        Assert.Equal(200, after.StatusCode);
        Assert.Equal("ok", after.BodyText);
    }

    [Fact]
    public async Task A_handler_that_declares_a_length_and_writes_nothing_gets_a_500_instead()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.ContentLength = 10;
            return ValueTask.CompletedTask;
        });
        RawResponse response = await ExchangeAsync(server, Get());
        Assert.Equal(500, response.StatusCode);
        Assert.Equal("500 Internal Server Error\n", response.BodyText);
        Assert.Contains(server.Errors, error => error.Contains("response body shorter than its Content-Length", StringComparison.Ordinal));
    }

    public enum Writer { Synchronous, Asynchronous, File }

    // The buffer is sent once it holds its size (4 sizes for a synchronous writer, which then blocks): a
    // response exactly that long has left when the handler fails after it, so the client sees it and the close.
    [Theory]
    [InlineData(Writer.Synchronous)]
    [InlineData(Writer.Asynchronous)]
    [InlineData(Writer.File)]
    public async Task A_response_that_exactly_fills_the_buffer_is_sent_before_the_handler_goes_on(Writer writer)
    {
        const int bufferSize = 2048;
        int target = writer == Writer.Synchronous ? 4 * bufferSize : bufferSize;
        string path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, Enumerable.Repeat((byte)'f', target).ToArray());
            await using var server = await StartAsync(async (request, response) =>
            {
                // The body that makes head and body exactly the target (the length's digits are in the head).
                int bodyLength = target - response.PreviewHead(target).Length;
                bodyLength = target - response.PreviewHead(bodyLength).Length;
                Assert.Equal(target, response.PreviewHead(bodyLength).Length + bodyLength);
                response.ContentLength = bodyLength;
                byte[] body = Enumerable.Repeat((byte)'f', bodyLength).ToArray();
                switch (writer)
                {
                    case Writer.Synchronous:
                        response.Write(body);
                        break;
                    case Writer.Asynchronous:
                        await response.WriteAsync(body);
                        break;
                    default:
                        using (var file = File.OpenHandle(path, options: FileOptions.Asynchronous)) await response.SendFileAsync(file, 0, bodyLength);
                        break;
                }
                throw new InvalidOperationException("the handler failed after its body");
            }, options => options.ResponseBufferSize = bufferSize);
            string all = await server.ExchangeUntilCloseAsync(Get());
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", all);
            Assert.Equal(target, Encoding.Latin1.GetByteCount(all));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_body_exactly_the_buffer_size_is_held_back_and_gets_a_content_length()
    {
        const int bufferSize = 4096;
        await using var server = await StartAsync((request, response) =>
        {
            response.Write(new byte[bufferSize]);
            return ValueTask.CompletedTask;
        }, options => options.ResponseBufferSize = bufferSize);
        RawResponse response = await ExchangeAsync(server, Get());
        Assert.Equal(bufferSize.ToString(), response.Header("Content-Length"));
        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.Equal(bufferSize, response.Body.Length);
    }

    [Theory]
    [InlineData("/write", "5")]
    [InlineData("/flush", "5")]
    [InlineData("/declared", "100")]
    public async Task HEAD_gets_the_content_length_of_the_body_it_would_have_and_nothing_after_its_head(string path, string contentLength)
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            switch (request.Path)
            {
                case "/write":
                    response.Write("hello"u8);
                    break;
                case "/flush":
                    response.Write("hello"u8);
                    await response.FlushAsync();
                    break;
                case "/declared":
                    response.ContentLength = 100;
                    break;
                default:
                    response.WriteText("after");
                    break;
            }
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get(path, "HEAD") + Get("/after"));
        RawResponse head = await connection.ReadResponseAsync(headRequest: true);
        Assert.Equal(contentLength, head.Header("Content-Length"));
        Assert.Null(head.Header("Transfer-Encoding"));
        // Nothing stray after the head: the next response follows at once.
        Assert.Equal("after", (await connection.ReadResponseAsync()).BodyText);
    }

    [Theory]
    [InlineData("/flush")]
    [InlineData("/declared")]
    public async Task A_204_gets_neither_framing_field_even_when_flushed_or_declared_empty(string path)
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/after")
            {
                response.WriteText("after");
                return;
            }
            response.StatusCode = 204;
            if (path == "/declared") response.ContentLength = 0;
            else await response.FlushAsync();
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get(path) + Get("/after"));
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(204, response.StatusCode);
        Assert.Null(response.Header("Content-Length")); // RFC 9110 §8.6
        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.Equal("after", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_flush_with_a_content_length_and_no_body_yet_sends_the_head_at_once()
    {
        var headSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            response.ContentLength = 5;
            await response.FlushAsync();
            await headSeen.Task.WaitAsync(HangBound);
            response.Write("hello"u8);
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get());
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        using (var cts = new CancellationTokenSource(HangBound))
        {
            while (!Encoding.Latin1.GetString(received.ToArray()).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await connection.ReceiveAsync(buffer, cts.Token);
                Assert.True(n > 0, "closed before the head");
                received.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        string head = Encoding.Latin1.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
        Assert.Contains("\r\nContent-Length: 5\r\n", head);
        Assert.EndsWith("\r\n\r\n", head); // the head alone: the body waits for the handler
        headSeen.SetResult();
        Assert.Equal("hello", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(5)));
    }

    [Fact]
    public async Task An_empty_write_in_a_chunked_body_does_not_end_it()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            response.Write("a"u8);
            await response.FlushAsync(); // chunked from here
            await response.WriteAsync(ReadOnlyMemory<byte>.Empty);
            response.Write(ReadOnlySpan<byte>.Empty);
            response.Write("b"u8);
        });
        string all = await server.ExchangeUntilCloseAsync(Get(extra: "Connection: close\r\n"));
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", all);
        Assert.EndsWith("\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n", all);
    }

    [Fact]
    public async Task A_preview_after_the_head_went_out_is_refused_with_the_reason()
    {
        var refusal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            response.Write("x"u8);
            await response.FlushAsync();
            try
            {
                response.PreviewHead(1);
                refusal.TrySetResult("none");
            }
            catch (InvalidOperationException ex)
            {
                refusal.TrySetResult(ex.Message);
            }
        });
        Assert.Equal(200, (await ExchangeAsync(server, Get())).StatusCode);
        Assert.Equal("the response head has already been written", await refusal.Task.WaitAsync(HangBound));
    }

    [Fact]
    public async Task A_preview_during_a_stop_shows_the_close_the_stop_brings()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? preview = null;
        await using var server = await StartAsync(async (request, response) =>
        {
            started.SetResult();
            await go.Task.WaitAsync(HangBound);
            preview = response.PreviewHead(2);
            response.ContentLength = 2;
            response.Write("ok"u8);
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get());
        await started.Task.WaitAsync(HangBound);
        Task stopping = server.Server.StopAsync(HangBound);
        Assert.True(server.Server.IsStopping);
        go.SetResult();
        RawResponse response = await connection.ReadResponseAsync();
        await stopping;
        Assert.Equal(preview, response.RawHead);
        Assert.Contains("\r\nConnection: close\r\n", preview);
    }

    [Fact]
    public async Task A_preview_of_a_304_without_a_declared_length_has_no_content_length()
    {
        string? preview = null;
        await using var server = await StartAsync((request, response) =>
        {
            response.StatusCode = 304;
            preview = response.PreviewHead(100);
            return ValueTask.CompletedTask;
        });
        RawResponse response = await ExchangeAsync(server, Get());
        Assert.Equal(304, response.StatusCode);
        Assert.NotNull(preview);
        Assert.DoesNotContain("Content-Length", preview);
        Assert.Equal(preview, response.RawHead);
    }

    [Fact]
    public async Task Fields_cannot_change_once_the_head_is_written()
    {
        var refusal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync((request, response) =>
        {
            response.ContentLength = 2;
            response.Write("ok"u8); // the head is written here: the length is known and the request read
            try
            {
                response.Headers.Set("X-Late", "1");
                refusal.TrySetResult("none");
            }
            catch (InvalidOperationException ex)
            {
                refusal.TrySetResult(ex.Message);
            }
            return ValueTask.CompletedTask;
        });
        RawResponse response = await ExchangeAsync(server, Get());
        Assert.Null(response.Header("X-Late"));
        Assert.Equal("the response head has already been written; headers can no longer change", await refusal.Task.WaitAsync(HangBound));
    }

    [Fact]
    public async Task A_long_server_field_goes_out_whole()
    {
        string name = new('p', 100_000);
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText("ok");
            return ValueTask.CompletedTask;
        }, options => options.ServerHeader = name);
        RawResponse response = await ExchangeAsync(server, Get());
        Assert.Equal(name, response.Header("Server"));
        Assert.Equal("ok", response.BodyText);
    }

    [Fact]
    public async Task A_response_that_asks_to_close_the_connection_says_so_and_closes_it()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.CloseConnection = request.Path == "/close";
            response.WriteText(request.Path);
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get("/close") + Get("/never"));
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal("/close", response.BodyText);
        Assert.Equal("", await connection.ReadUntilCloseAsync());
    }

    [Fact]
    public async Task Without_a_request_limit_the_keep_alive_field_names_no_maximum()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText("ok");
            return ValueTask.CompletedTask;
        }, options => options.MaxRequestsPerConnection = 0);
        RawResponse response = await ExchangeAsync(server, Get());
        string? keepAlive = response.Header("Keep-Alive");
        Assert.NotNull(keepAlive);
        Assert.DoesNotContain("max", keepAlive);
    }

    [Fact]
    public async Task Once_the_handler_returned_its_response_refuses_trailers_as_ended()
    {
        HttpResponse? kept = null;
        var seen = new TaskCompletionSource<(bool Supports, string Message)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            kept = response;
            response.Write("a"u8);
            await response.FlushAsync(); // chunked: trailers were possible until the end
        }, options => options.AccessLog = entry =>
        {
            // The access log is written after the response is settled, with the exchange still in place.
            string message = "none";
            try
            {
                kept!.Trailers.Set("X-Late", "1");
            }
            catch (InvalidOperationException ex)
            {
                message = ex.Message;
            }
            seen.TrySetResult((kept!.SupportsTrailers, message));
        });
        Assert.Equal("a", (await ExchangeAsync(server, Get())).BodyText);
        var (supports, message) = await seen.Task.WaitAsync(HangBound);
        Assert.False(supports);
        Assert.Equal("this response cannot carry trailers: the response has ended", message);
    }

    [Fact]
    public async Task A_flush_while_an_earlier_flush_is_still_going_out_waits_for_it_and_sends_nothing_twice()
    {
        // Far more than the socket buffers hold, and the client reads only once the handler goes on: the
        // first flush's send is still under way at the second.
        const int large = 16 * 1024 * 1024;
        var goingOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            response.ContentLength = large + 4;
            await response.WriteAsync(new byte[large]);
            await response.FlushAsync(); // in the handler's synchronous call: sent once the call returns
            await Task.Yield();
            goingOn.SetResult();
            await response.FlushAsync();
            await response.WriteAsync("tail"u8.ToArray());
        }, options => options.ResponseBufferSize = 64 * 1024 * 1024);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get(extra: "Connection: close\r\n"));
        await goingOn.Task.WaitAsync(HangBound);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(large + 4, response.Body.Length);
        Assert.True(response.Body.AsSpan(0, large).IndexOfAnyExcept((byte)0) < 0, "the flushed body is not all zeros");
        Assert.Equal("tail", Encoding.ASCII.GetString(response.Body, large, 4));
        Assert.Equal("", await connection.ReadUntilCloseAsync());
    }

    private static async Task<RawResponse> ExchangeAsync(TestServer server, string request)
    {
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(request);
        return await connection.ReadResponseAsync();
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollResponseWriteTests : ResponseWriteTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

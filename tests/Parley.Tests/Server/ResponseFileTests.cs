using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Parley.Server;
using static Parley.Tests.Server.ServerTiming;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="HttpResponse.SendFileAsync"/>: a region of a file as (part of) the body. Small regions are read
/// into the output behind the head, large ones go by sendfile(2) in slices when the body is length- or
/// close-delimited, anything else (a chunked body, a synchronous handle) is copied through pooled buffers.
/// Each way must give the same bytes and framing as a write would, refuse what the head cannot carry, and
/// count what it sends.
/// </summary>
public class ResponseFileTests : TransportTests, IDisposable
{
    private const int SmallFileCopyLimit = 64 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("parley-response-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private string WriteFile(byte[] contents)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, contents);
        return path;
    }

    /// <summary>What one call in a handler did: the exception it threw, or none (null).</summary>
    private sealed class CallOutcome
    {
        private readonly TaskCompletionSource<Exception?> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Runs the call and records how it ended; <paramref name="rethrow"/> lets its exception go on to the server.</summary>
        public async Task RecordAsync(Func<Task> call, bool rethrow = false)
        {
            try
            {
                await call();
                _seen.TrySetResult(null);
            }
            catch (Exception ex)
            {
                _seen.TrySetResult(ex);
                if (rethrow)
                    throw;
            }
        }

        public Task<Exception?> SeenAsync() => _seen.Task.WaitAsync(HangBound);
    }

    // A handler that sends [offset, offset + length) of the file at path, with the Content-Length given (or none).
    private static RequestHandler Send(string path, long offset, long length, long? contentLength, FileOptions fileOptions = FileOptions.Asynchronous) =>
        async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: fileOptions);
            response.ContentLength = contentLength;
            await response.SendFileAsync(file, offset, length);
        };

    private static string Get(string path = "/", string version = "HTTP/1.1", string method = "GET", string connection = "") =>
        $"{method} {path} {version}\r\nHost: x\r\n{connection}\r\n";

    // The head and the raw body of a response read until the close.
    private static (string Head, byte[] Body) Split(string all)
    {
        int end = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end >= 0, $"no complete head in: {all[..Math.Min(all.Length, 300)]}");
        return (all[..(end + 4)], Encoding.Latin1.GetBytes(all[(end + 4)..]));
    }

    // The sizes of a chunked body's data chunks and their bytes joined; asserts the framing is whole.
    private static (List<int> Sizes, byte[] Data) Dechunk(byte[] body)
    {
        var sizes = new List<int>();
        var data = new List<byte>();
        int at = 0;
        while (true)
        {
            int lineEnd = body.AsSpan(at).IndexOf("\r\n"u8);
            Assert.True(lineEnd > 0, $"no chunk size line at {at}");
            int size = Convert.ToInt32(Encoding.ASCII.GetString(body, at, lineEnd), 16);
            at += lineEnd + 2;
            if (size == 0) break;
            sizes.Add(size);
            data.AddRange(body.AsSpan(at, size).ToArray());
            at += size;
            Assert.Equal("\r\n", Encoding.ASCII.GetString(body, at, 2));
            at += 2;
        }
        Assert.Equal("\r\n", Encoding.ASCII.GetString(body, at, body.Length - at));
        return (sizes, data.ToArray());
    }

    [Fact]
    public async Task A_small_region_with_a_content_length_follows_its_head_exactly_and_the_connection_goes_on()
    {
        byte[] data = RandomBytes(4000, seed: 1);
        await using var server = await StartAsync(Send(WriteFile(data), 500, 1000, 1000));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get() + Get());
        for (int i = 0; i < 2; i++)
        {
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            Assert.Equal("1000", response.Header("Content-Length"));
            Assert.Equal(data.AsSpan(500, 1000).ToArray(), response.Body);
        }
    }

    [Theory]
    [InlineData(FileOptions.Asynchronous)]
    [InlineData(FileOptions.None)]
    public async Task A_small_region_without_a_content_length_is_buffered_and_gets_one(FileOptions fileOptions)
    {
        byte[] data = RandomBytes(4000, seed: 2);
        await using var server = await StartAsync(Send(WriteFile(data), 1500, 1000, null, fileOptions));
        var (head, body) = Split(await server.ExchangeUntilCloseAsync(Get(connection: "Connection: close\r\n")));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
        Assert.Contains("\r\nContent-Length: 1000\r\n", head);
        Assert.DoesNotContain("Transfer-Encoding", head);
        Assert.Equal(data.AsSpan(1500, 1000).ToArray(), body);
    }

    [Fact]
    public async Task A_region_after_body_bytes_continues_the_same_body()
    {
        byte[] data = RandomBytes(4000, seed: 3);
        string path = WriteFile(data);
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            response.ContentLength = 5 + 1000;
            response.Write("hello"u8); // the head is committed here: its length is known and the request read
            await response.SendFileAsync(file, 0, 1000);
        });
        var (head, body) = Split(await server.ExchangeUntilCloseAsync(Get(connection: "Connection: close\r\n")));
        Assert.Contains("\r\nContent-Length: 1005\r\n", head);
        Assert.Equal("hello"u8.ToArray().Concat(data.AsSpan(0, 1000).ToArray()).ToArray(), body);
    }

    [Fact]
    public async Task After_a_chunked_start_a_small_region_goes_as_a_chunk()
    {
        byte[] data = RandomBytes(4000, seed: 4);
        string path = WriteFile(data);
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            response.Write("x"u8);
            await response.FlushAsync(); // no Content-Length: the response starts chunked
            await response.SendFileAsync(file, 100, 1000);
        });
        var (head, body) = Split(await server.ExchangeUntilCloseAsync(Get(connection: "Connection: close\r\n")));
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", head);
        Assert.Equal("x"u8.ToArray().Concat(data.AsSpan(100, 1000).ToArray()).ToArray(), Dechunk(body).Data);
    }

    [Fact]
    public async Task A_large_region_with_a_content_length_goes_out_whole_across_several_sendfile_slices()
    {
        // More than two of the 2 MiB slices, from an offset inside the file.
        byte[] data = RandomBytes(5 * 1024 * 1024 + 4096, seed: 5);
        const int length = 5 * 1024 * 1024;
        await using var server = await StartAsync(Send(WriteFile(data), 4096, length, length));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get() + Get("/second", connection: "Connection: close\r\n"));
        for (int i = 0; i < 2; i++)
        {
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(length.ToString(), response.Header("Content-Length"));
            Assert.True(data.AsSpan(4096).SequenceEqual(response.Body), $"response {i}: the body differs from the region");
        }
    }

    [Fact]
    public async Task A_large_region_of_a_synchronous_handle_is_copied_whole()
    {
        byte[] data = RandomBytes(300_000, seed: 6);
        await using var server = await StartAsync(Send(WriteFile(data), 1000, 250_000, 250_000, FileOptions.None));
        RawResponse response = await GetAsync(server);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(data.AsSpan(1000, 250_000).ToArray(), response.Body);
    }

    [Fact]
    public async Task A_large_region_without_a_content_length_goes_chunked_in_pieces_no_larger_than_the_copy_buffer()
    {
        byte[] data = RandomBytes(300_000, seed: 7);
        await using var server = await StartAsync(Send(WriteFile(data), 1000, 250_000, null));
        var (head, body) = Split(await server.ExchangeUntilCloseAsync(Get(connection: "Connection: close\r\n")));
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", head);
        var (sizes, bytes) = Dechunk(body);
        Assert.Equal(data.AsSpan(1000, 250_000).ToArray(), bytes);
        // A pooled buffer of at most SmallFileCopyLimit carries the region: never the whole of it in memory.
        Assert.All(sizes, size => Assert.True(size <= SmallFileCopyLimit, $"a chunk of {size} bytes"));
    }

    [Theory]
    [InlineData(SmallFileCopyLimit, false)]
    [InlineData(SmallFileCopyLimit + 1, true)]
    public async Task Without_a_content_length_a_region_over_the_copy_limit_starts_the_response_even_when_the_buffer_could_hold_it(int length, bool streamed)
    {
        byte[] data = RandomBytes(length + 10, seed: 8);
        await using var server = await StartAsync(Send(WriteFile(data), 10, length, null), options => options.ResponseBufferSize = 1024 * 1024);
        var (head, body) = Split(await server.ExchangeUntilCloseAsync(Get(connection: "Connection: close\r\n")));
        if (streamed)
        {
            Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", head);
            Assert.Equal(data.AsSpan(10).ToArray(), Dechunk(body).Data);
        }
        else
        {
            Assert.Contains($"\r\nContent-Length: {length}\r\n", head);
            Assert.Equal(data.AsSpan(10).ToArray(), body);
        }
    }

    [Fact]
    public async Task To_HTTP_1_0_a_large_region_without_a_content_length_goes_until_the_close()
    {
        byte[] data = RandomBytes(300_000, seed: 9);
        await using var server = await StartAsync(Send(WriteFile(data), 0, 300_000, null));
        var (head, body) = Split(await server.ExchangeUntilCloseAsync(Get(version: "HTTP/1.0")));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
        Assert.Contains("\r\nConnection: close\r\n", head);
        Assert.DoesNotContain("Content-Length", head);
        Assert.DoesNotContain("Transfer-Encoding", head);
        Assert.Equal(data, body);
    }

    [Theory]
    [InlineData(999, FileOptions.Asynchronous)]
    [InlineData(199_999, FileOptions.Asynchronous)]
    [InlineData(199_999, FileOptions.None)] // a synchronous handle: copied through the response buffer
    public async Task A_region_longer_than_the_content_length_is_refused_before_any_of_it_is_written(int contentLength, FileOptions fileOptions)
    {
        byte[] data = RandomBytes(300_000, seed: 10);
        string path = WriteFile(data);
        var refusal = new CallOutcome();
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: fileOptions);
            response.ContentLength = contentLength;
            await refusal.RecordAsync(() => response.SendFileAsync(file, 0, contentLength + 1).AsTask());
            // Nothing of the refused region went out: the right one still makes a whole response.
            await response.SendFileAsync(file, 0, contentLength);
        });
        RawResponse response = await GetAsync(server);
        Exception? refused = await refusal.SeenAsync();
        Assert.Equal($"response body exceeds its Content-Length of {contentLength}", Assert.IsType<InvalidOperationException>(refused).Message);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(data.AsSpan(0, contentLength).ToArray(), response.Body);
    }

    [Fact]
    public async Task A_file_that_ends_inside_a_small_region_fails_the_send_with_nothing_of_the_response_sent()
    {
        byte[] data = RandomBytes(6000, seed: 11);
        string path = WriteFile(data);
        var failure = new CallOutcome();
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            response.ContentLength = 2000;
            // The last 1000 bytes, then 1000 the file does not have.
            await failure.RecordAsync(() => response.SendFileAsync(file, 5000, 2000).AsTask(), rethrow: true);
        });
        string all = await server.ExchangeUntilCloseAsync(Get());
        Exception? seen = await failure.SeenAsync();
        Assert.Equal("the file ended before the region that was announced", Assert.IsType<IOException>(seen).Message);
        Assert.Equal("", all);
    }

    [Fact]
    public async Task A_file_that_ends_inside_a_large_region_ends_the_connection_after_the_head_and_what_the_file_had()
    {
        byte[] data = RandomBytes(300_000, seed: 12);
        await using var server = await StartAsync(Send(WriteFile(data), 200_000, 200_000, 200_000));
        string all = await server.ExchangeUntilCloseAsync(Get());
        var (head, body) = Split(all);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
        Assert.Contains("\r\nContent-Length: 200000\r\n", head);
        Assert.True(body.Length <= 100_000, $"{body.Length} body bytes: the client must see a short body and a close");
        Assert.Equal(data.AsSpan(200_000, body.Length).ToArray(), body);
    }

    [Fact]
    public async Task HEAD_counts_the_region_for_the_content_length_and_sends_no_body()
    {
        byte[] data = RandomBytes(300_000, seed: 13);
        await using var server = await StartAsync(Send(WriteFile(data), 0, 200_000, null));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get(method: "HEAD") + Get("/after"));
        RawResponse head = await connection.ReadResponseAsync(headRequest: true);
        Assert.Equal("200000", head.Header("Content-Length"));
        // Nothing stray after the HEAD response: the next response starts right after its head.
        RawResponse after = await connection.ReadResponseAsync();
        Assert.Equal(200, after.StatusCode);
        Assert.Equal(data.AsSpan(0, 200_000).ToArray(), after.Body);
    }

    [Fact]
    public async Task Bad_arguments_are_refused_even_for_an_empty_region()
    {
        string path = WriteFile(RandomBytes(100, seed: 14));
        var refusals = new List<(string Type, string? Parameter)>();
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            async Task Try(SafeFileHandle? handle, long offset, long length)
            {
                try
                {
                    await response.SendFileAsync(handle!, offset, length);
                    refusals.Add(("none", null));
                }
                catch (ArgumentException ex)
                {
                    refusals.Add((ex.GetType().Name, ex.ParamName));
                }
            }
            await Try(null, 0, 0);
            await Try(file, -1, 0);
            await Try(file, 0, -1);
            response.WriteText("done");
        });
        Assert.Equal("done", (await GetAsync(server)).BodyText);
        Assert.Equal(
            new List<(string, string?)> { ("ArgumentNullException", "file"), ("ArgumentOutOfRangeException", "offset"), ("ArgumentOutOfRangeException", "length") },
            refusals);
    }

    [Fact]
    public async Task A_response_that_forbids_a_body_refuses_a_region_naming_its_status()
    {
        string path = WriteFile(RandomBytes(100, seed: 15));
        var refusal = new CallOutcome();
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            response.StatusCode = 204;
            await refusal.RecordAsync(() => response.SendFileAsync(file, 0, 100).AsTask());
        });
        Assert.Equal(204, (await GetAsync(server)).StatusCode);
        Assert.Equal("a 204 response has no body (RFC 9110 §6.4.1)", Assert.IsType<InvalidOperationException>(await refusal.SeenAsync()).Message);
    }

    [Fact]
    public async Task A_cancelled_token_stops_a_large_region_before_any_of_it_is_sent()
    {
        byte[] data = RandomBytes(300_000, seed: 16);
        string path = WriteFile(data);
        var outcome = new CallOutcome();
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            response.ContentLength = 200_000;
            await outcome.RecordAsync(() => response.SendFileAsync(file, 0, 200_000, new CancellationToken(canceled: true)).AsTask());
            await response.SendFileAsync(file, 0, 200_000);
        });
        RawResponse response = await GetAsync(server);
        Assert.IsAssignableFrom<OperationCanceledException>(await outcome.SeenAsync());
        Assert.Equal(data.AsSpan(0, 200_000).ToArray(), response.Body);
    }

    [Fact]
    public async Task The_bytes_sendfile_sent_are_counted_on_the_connection()
    {
        byte[] data = RandomBytes(3 * 1024 * 1024, seed: 17);
        await using var server = await StartAsync(Send(WriteFile(data), 0, data.Length, data.Length));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get());
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(data.Length, response.Body.Length);
        long expected = Encoding.Latin1.GetByteCount(response.RawHead) + data.Length;

        // The last slice is counted as its send completes, which may be just after the client has the bytes.
        long sent = -1;
        long deadline = Environment.TickCount64 + (long)HangBound.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            HttpConnection serving = Assert.Single(server.Server.OpenConnections.ToArray().OfType<HttpConnection>());
            var json = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(json)) serving.WriteStatus(writer, Environment.TickCount64, "test");
            sent = JsonDocument.Parse(json.WrittenMemory).RootElement.GetProperty("bytesSent").GetInt64();
            if (sent == expected) break;
            await Task.Delay(20);
        }
        Assert.Equal(expected, sent);
    }

    [Fact]
    public async Task A_client_that_stops_reading_a_large_region_is_closed_after_the_data_timeout_and_not_before()
    {
        // Far more than the socket buffers of both sides hold on loopback: the send waits on the client.
        string path = Path.Combine(_directory, "big.bin");
        using (var big = File.Create(path)) big.SetLength(64L * 1024 * 1024);
        var timeout = TimeSpan.FromSeconds(3);
        var sending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        RequestHandler send = Send(path, 0, 64L * 1024 * 1024, 64L * 1024 * 1024);
        await using var server = await StartAsync((request, response) =>
        {
            sending.TrySetResult();
            return send(request, response);
        }, options => options.DataTimeout = timeout);
        await using RawConnection stalled = await server.ConnectAsync();
        var clock = Stopwatch.StartNew();
        await stalled.SendAsync(Get());
        await sending.Task.WaitAsync(HangBound);
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, timeout + Heartbeat + LoadAllowance),
            "the connection of the client that stopped reading is still open");
        Assert.True(clock.Elapsed >= timeout - CoarseClock, $"closed after {clock.Elapsed.TotalSeconds:F2} s, before the {timeout.TotalSeconds} s data timeout");
    }

    [Fact]
    public async Task A_region_sent_while_a_flushed_body_is_still_going_out_follows_that_body()
    {
        // Far more than the socket buffers hold, and the client reads only once the handler goes on: the
        // flush's send is still under way then.
        const int large = 16 * 1024 * 1024;
        byte[] data = RandomBytes(1000, seed: 18);
        string path = WriteFile(data);
        var goingOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            using SafeFileHandle file = File.OpenHandle(path, options: FileOptions.Asynchronous);
            response.ContentLength = large + data.Length;
            await response.WriteAsync(new byte[large]);
            await response.FlushAsync(); // in the handler's synchronous call: sent once the call returns
            await Task.Yield();
            goingOn.SetResult();
            await response.SendFileAsync(file, 0, data.Length);
        }, options => options.ResponseBufferSize = 64 * 1024 * 1024);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get(connection: "Connection: close\r\n"));
        await goingOn.Task.WaitAsync(HangBound);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(large + data.Length, response.Body.Length);
        Assert.True(response.Body.AsSpan(0, large).IndexOfAnyExcept((byte)0) < 0, "the flushed body is not all zeros");
        Assert.Equal(data, response.Body.AsSpan(large).ToArray());
        Assert.Equal("", await connection.ReadUntilCloseAsync());
    }

    private static async Task<RawResponse> GetAsync(TestServer server)
    {
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Get());
        return await connection.ReadResponseAsync();
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollResponseFileTests : ResponseFileTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

using System.Security.Cryptography;
using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="HttpRequest.ReadBodyAsync"/>: memory follows the body bytes that arrived, never the declared
/// Content-Length, and a declared length no array can hold is refused with 413, not a 500.
/// </summary>
public class RequestBodyTests : TransportTests
{
    [Fact]
    public async Task Reading_a_body_allocates_for_the_bytes_received_not_for_the_declared_length()
    {
        const long declared = 30L * 1024 * 1024;
        var allocated = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            // Everything up to the read's first wait runs on this thread: a buffer sized from the declared
            // length would be allocated here, before any body byte past the first few was received.
            long before = GC.GetAllocatedBytesForCurrentThread();
            ValueTask<byte[]> reading = request.ReadBodyAsync(long.MaxValue);
            allocated.TrySetResult(GC.GetAllocatedBytesForCurrentThread() - before);
            try
            {
                await reading;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadRequestException)
            {
                // The client went away without sending the rest.
            }
        }, options => options.MaxRequestBodySize = declared);

        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\nhello");
            long bytes = await allocated.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(bytes < 256 * 1024, $"reading 5 bytes of a body declared as 30 MiB allocated {bytes} bytes");
        }
    }

    [Fact]
    public async Task Twenty_heads_declaring_30_MiB_with_no_body_commit_no_body_memory()
    {
        const int count = 20;
        const long declared = 30L * 1024 * 1024;
        long total = 0;
        int measured = 0;
        var allMeasured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            ValueTask<byte[]> reading = request.ReadBodyAsync(declared);
            Interlocked.Add(ref total, GC.GetAllocatedBytesForCurrentThread() - before);
            if (Interlocked.Increment(ref measured) == count) allMeasured.TrySetResult();
            try
            {
                await reading;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadRequestException)
            {
            }
        }, options => options.MaxRequestBodySize = declared);

        var connections = new List<RawConnection>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                RawConnection connection = await server.ConnectAsync();
                connections.Add(connection);
                await connection.SendAsync($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n");
            }
            await allMeasured.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(total < 20 * 64 * 1024, $"{count} reads of bodies declared as 30 MiB, none sent, allocated {total} bytes");
        }
        finally
        {
            foreach (RawConnection connection in connections) await connection.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8191)]
    [InlineData(8192)]
    [InlineData(8193)]
    [InlineData(1_000_000)]
    public async Task Reads_a_body_of_any_length_whole(int length)
    {
        await using TestServer server = await StartAsync(EchoDigest);
        byte[] body = RandomNumberGenerator.GetBytes(length);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n").Concat(body).ToArray());
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal($"{length} {Convert.ToHexString(SHA256.HashData(body))}", response.BodyText);
    }

    [Theory]
    [InlineData(10_000, 10_000, 200)]
    [InlineData(10_001, 10_000, 413)]
    [InlineData(8192, 8192, 200)]
    [InlineData(0, 0, 200)]
    [InlineData(1, 0, 413)]
    public async Task A_chunked_body_is_read_up_to_the_limit_and_refused_one_byte_past_it(int length, int limit, int status)
    {
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(limit);
            response.WriteText(body.Length.ToString());
        });
        var request = new StringBuilder("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int sent = 0; sent < length; sent += 3000)
        {
            int size = Math.Min(3000, length - sent);
            request.Append($"{size:x}\r\n").Append('a', size).Append("\r\n");
        }
        request.Append("0\r\n\r\n");
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(request.ToString());
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(status, response.StatusCode);
        if (status == 200) Assert.Equal(length.ToString(), response.BodyText);
    }

    [Fact]
    public async Task A_declared_length_beyond_what_an_array_holds_gets_413_not_500()
    {
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(long.MaxValue);
            response.WriteText(body.Length.ToString());
        }, options => options.MaxRequestBodySize = 4_000_000_000);

        string all = await server.ExchangeUntilCloseAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000000\r\n\r\nhello");
        Assert.StartsWith("HTTP/1.1 413 ", all);
        Assert.Contains("Connection: close\r\n", all);
        Assert.Contains("too large to read into memory", all);
        Assert.Empty(server.Errors);
    }

    private static async ValueTask EchoDigest(HttpRequest request, HttpResponse response)
    {
        byte[] body = await request.ReadBodyAsync(1 << 20);
        response.WriteText($"{body.Length} {Convert.ToHexString(SHA256.HashData(body))}");
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollRequestBodyTests : RequestBodyTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

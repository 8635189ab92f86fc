using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// Issue 18: on the epoll transport a keep-alive request over TLS is handled inline on the loop, with no
/// thread hop and no allocation per request in steady state. The handler reads the loop thread's allocation
/// counter at each request: between two requests of one connection that thread has finished the previous
/// response (written and encrypted), then received, decrypted, parsed and dispatched the next request.
/// </summary>
public class TlsAllocationTests
{
    private const int Warmup = 3000;
    private const int Measured = 2000;

    [Fact]
    public async Task Keep_alive_requests_over_tls_on_epoll_stay_on_the_loop_thread_and_allocate_nothing_in_steady_state()
    {
        byte[] hello = "Hello, World!"u8.ToArray();
        var allocatedBefore = new long[Warmup + Measured];
        var threads = new int[Warmup + Measured];
        var onThreadPool = new bool[Warmup + Measured];
        int count = 0;
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            // One connection, one request at a time: the handler runs once per request, in order.
            int index = count++;
            allocatedBefore[index] = GC.GetAllocatedBytesForCurrentThread();
            threads[index] = Environment.CurrentManagedThreadId;
            onThreadPool[index] = Thread.CurrentThread.IsThreadPoolThread;
            response.Headers.Set("Content-Type", "text/plain");
            response.ContentLength = hello.Length;
            response.Write(hello);
            return ValueTask.CompletedTask;
        }, options =>
        {
            options.Transport = TransportKind.Epoll;
            options.MaxRequestsPerConnection = 0; // unlimited: every request on the one connection
        }, tls: true);

        await using RawConnection connection = await server.ConnectAsync();
        var measuring = new System.Diagnostics.Stopwatch();
        for (int i = 0; i < Warmup + Measured; i++)
        {
            if (i == Warmup) measuring.Start();
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal("Hello, World!", response.BodyText);
        }

        Assert.Equal(Warmup + Measured, count);
        Assert.Single(threads.Distinct());
        Assert.DoesNotContain(true, onThreadPool);
        long[] perRequest = Enumerable.Range(Warmup, Measured - 1).Select(i => allocatedBefore[i + 1] - allocatedBefore[i]).ToArray();
        measuring.Stop();
        long total = perRequest.Sum();
        int allocating = perRequest.Count(b => b > 0);
        // The loop thread's once-a-second heartbeat work (timeouts, the Date field) falls between two requests
        // once a second; anything allocated per request would show in (nearly) every one of them.
        int heartbeats = (int)Math.Ceiling(measuring.Elapsed.TotalSeconds) + 1;
        Assert.True(allocating <= heartbeats,
            $"{total} bytes allocated on the loop thread over {perRequest.Length} keep-alive TLS requests after {Warmup} to warm up " +
            $"({allocating} requests allocated, in {measuring.Elapsed.TotalSeconds:F1} s; largest {perRequest.Max()} B)");
    }
}

using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// Issue 18: on the epoll transport a keep-alive request over TLS is handled inline on the loop, with no
/// thread hop and no allocation per request in steady state. The handler reads the loop thread's allocation
/// counter at each request: between two requests of one connection that thread has finished the previous
/// response (written and encrypted), then received, decrypted, parsed and dispatched the next request.
/// </summary>
/// <remarks>
/// Steady state is a window of requests that spans two changes of the Date second (so a whole second, and
/// the heartbeat's formatting of the next Date line, lies inside it) in which the loop thread allocated
/// nothing at all. Windows are measured one after another until one is clean: the runtime's tiered
/// compilation replaces hot methods with optimized code while the measurement runs (the test process JITs
/// all the time, which postpones tiering), and a swap can cost the loop thread a one-off allocation of 32
/// or 240 bytes (seen when SslStreamPal.EncryptMessage reached tier 1; never with
/// DOTNET_TieredCompilation=0). Allocating per request, or when the second changes, dirties every window
/// and fails the test.
/// </remarks>
public class TlsAllocationTests
{
    private const int Warmup = 3000;
    // A window ends once its responses showed this many Date values: two changes of second.
    private const int DistinctSecondsPerWindow = 3;
    private const int MaxWindows = 6;
    private const int MaxRequests = 300_000;

    [Fact]
    public async Task Keep_alive_requests_over_tls_on_epoll_stay_on_the_loop_thread_and_allocate_nothing_in_steady_state()
    {
        byte[] hello = "Hello, World!"u8.ToArray();
        var allocatedBefore = new long[MaxRequests];
        var threads = new int[MaxRequests];
        var onThreadPool = new bool[MaxRequests];
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
        int sent = 0;
        async Task SendOneAsync(HashSet<string>? dates)
        {
            await connection.SendAsync("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal("Hello, World!", response.BodyText);
            dates?.Add(response.Header("Date")!);
            sent++;
        }

        while (sent < Warmup) await SendOneAsync(null);
        var dirtyWindows = new List<string>();
        bool clean = false;
        while (!clean && dirtyWindows.Count < MaxWindows)
        {
            int first = sent;
            var dates = new HashSet<string>();
            while (dates.Count < DistinctSecondsPerWindow && sent < MaxRequests) await SendOneAsync(dates);
            // The last request's handler has read the counter: the gaps run up to it.
            long[] gaps = Enumerable.Range(first, sent - first - 1).Select(i => allocatedBefore[i + 1] - allocatedBefore[i]).ToArray();
            Assert.True(dates.Count == DistinctSecondsPerWindow, $"{sent} requests ran out before a window spanned {DistinctSecondsPerWindow} Date seconds");
            clean = gaps.All(bytes => bytes == 0);
            if (!clean)
            {
                dirtyWindows.Add($"requests {first}-{sent - 1}: {gaps.Count(b => b != 0)} allocated, {gaps.Sum()} B, largest {gaps.Max()} B");
            }
        }

        Assert.Equal(sent, count);
        // A connection starts on the loop that accepted it and runs there up to its first wait, and a wait
        // that its own loop completes just as the handshake awaits it resumes on a pool thread, so the first
        // request or two may run elsewhere. After the warm-up every request is handled on the loop thread.
        Assert.Single(threads.Take(sent).Skip(Warmup).Distinct());
        Assert.DoesNotContain(true, onThreadPool.Take(sent).Skip(Warmup));
        Assert.True(clean,
            $"the loop thread allocated in each of {MaxWindows} windows of keep-alive TLS requests spanning two changes of second " +
            $"(after {Warmup} to warm up): {string.Join("; ", dirtyWindows)}");
    }
}

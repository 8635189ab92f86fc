using System.Net;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>The epoll loops themselves: their threads and how many listeners they take.</summary>
public class EpollLoopTests
{
    private static readonly RequestHandler Ok = (request, response) =>
    {
        response.WriteText("ok");
        return ValueTask.CompletedTask;
    };

    private static HttpServer Server(int listeners, int threads = 1)
    {
        var options = new HttpServerOptions { Transport = TransportKind.Epoll, EpollThreadCount = threads };
        for (int i = 0; i < listeners; i++) options.Listeners.Add(ListenerOptions.Http("127.0.0.1", 0));
        return new HttpServer(options, Ok);
    }

    private static string[] ThreadNames() => Directory.GetDirectories("/proc/self/task")
        .Select(task => { try { return File.ReadAllText(Path.Combine(task, "comm")).Trim(); } catch (IOException) { return ""; } })
        .ToArray();

    private static int EpollDescriptors() => Directory.GetFiles("/proc/self/fd")
        .Count(fd => { try { return new FileInfo(fd).LinkTarget == "anon_inode:[eventpoll]"; } catch (IOException) { return false; } });

    [Fact]
    public async Task Each_loop_runs_on_a_thread_named_after_its_index()
    {
        await using HttpServer server = Server(1, threads: 2);
        await server.StartAsync();
        // The name reaches the kernel (pthread_setname_np), where ps, top and perf show it.
        string[] names = ThreadNames();
        Assert.Contains("parley-epoll-0", names);
        Assert.Contains("parley-epoll-1", names);
    }

    [Fact]
    public async Task A_loop_serves_256_listeners_and_refuses_more()
    {
        await using (HttpServer server = Server(256))
        {
            await server.StartAsync();
            await using RawConnection connection = await RawConnection.OpenAsync(server.LocalEndPoints[255]);
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        }
        // 48 loops: no other test's server has a loop 47 (the tests of this class run one at a time).
        await using (HttpServer server = Server(257, threads: 48))
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => server.StartAsync());
            Assert.Contains("at most 256 listeners", error.Message);
            // Refused before anything is bound or started: no listener and no loop thread is left behind.
            Assert.Throws<InvalidOperationException>(() => server.LocalEndPoints);
            Assert.DoesNotContain("parley-epoll-47", ThreadNames());
        }
    }

    [Fact]
    public async Task A_stopped_servers_loop_threads_end_and_close_their_epoll_descriptors()
    {
        int before = EpollDescriptors();
        // 48 loops: no other test's server has a loop 47, so its thread is this server's.
        const string last = "parley-epoll-47";
        HttpServer server = Server(1, threads: 48);
        await server.StartAsync();
        Assert.Contains(last, ThreadNames());
        await server.DisposeAsync();
        // Each loop waits at most a second at a time, so it sees the stop within a second (plus a loaded machine).
        DateTime deadline = DateTime.UtcNow + ServerTiming.Heartbeat + ServerTiming.LoadAllowance;
        while (ThreadNames().Contains(last) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.DoesNotContain(last, ThreadNames());
        // Each loop closes its epoll instance as it ends. Other tests' servers come and go meanwhile, hence
        // a margin, well short of the 48 instances a leak would leave behind.
        int after = EpollDescriptors();
        Assert.True(after < before + 24, $"{after - before} more epoll descriptors open after the server stopped");
    }
}

using System.Net;
using System.Net.Sockets;
using Parley.Server;
using Parley.Server.Transport;
using Parley.Tests.Hardening;

namespace Parley.Tests.Server;

/// <summary>
/// The wait between requests can end with nothing to read: Socket's zero-byte receive completes on a
/// readiness report, which may be for bytes an earlier receive took (seen on a busy machine, where the
/// status page then showed an idle connection as "reading-head" for good). Such a connection is idle still:
/// no receive left waiting with a buffer, the keep-alive timeout and not the head's, closed by a stop's
/// sweep; and the request that does come later is answered. A transport that ends one wait at once, with
/// nothing sent, makes it happen every time; the connection runs on a server that is never started, so
/// that nothing but the test's calls (no heartbeat, no stop) touches it.
/// </summary>
public sealed class IdleWakeTests : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private RawConnection? _client;
    private EarlyWakeTransport? _transport;
    private HttpConnection? _connection;
    private Task? _run;

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        _transport?.Abort();
        if (_run is not null) await _run.WaitAsync(ServerTiming.HangBound);
        _listener.Dispose();
    }

    // A connection that has answered its first request and whose next wait for a request ended with
    // nothing to read; returned once it waits again.
    private async Task<HttpConnection> IdleAfterAnEmptyWakeAsync()
    {
        var options = new HttpServerOptions { Host = "127.0.0.1", Port = 0, RequestHeadersTimeout = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromMinutes(5) };
        var server = new HttpServer(options, (request, response) =>
        {
            response.WriteText($"hello {request.Path}");
            return ValueTask.CompletedTask;
        });
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _client = await RawConnection.OpenAsync((IPEndPoint)_listener.LocalEndPoint!);
        Socket accepted = await _listener.AcceptAsync();
        _transport = new EarlyWakeTransport(new SocketTransport(accepted));
        _connection = new HttpConnection(server, new BoundListener(ListenerOptions.Http("127.0.0.1", 0), _listener, null, server.Handler), _transport);
        _run = _connection.RunAsync();

        await _client.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("hello /first", (await _client.ReadResponseAsync()).BodyText);
        // The wait after the answer ends at once; then the connection waits again (or, wrongly, receives).
        Assert.True(await Hostile.WaitUntilAsync(() => _transport.Waits >= 3 || _transport.ReceivesAfterEarlyWake > 0, ServerTiming.HangBound),
            $"{_transport.Waits} waits began");
        return _connection;
    }

    [Fact]
    public async Task A_wait_that_ends_with_nothing_to_read_leaves_the_connection_idle_and_the_next_request_answered()
    {
        HttpConnection connection = await IdleAfterAnEmptyWakeAsync();
        Assert.Equal("idle-keepalive", connection.StateName);
        // No receive was begun for a request that had not started.
        Assert.Equal(0, _transport!.ReceivesAfterEarlyWake);

        // Past the head's timeout, within the keep-alive one: an idle connection is not timed out.
        connection.OnHeartbeat(Environment.TickCount64 + 60_000);
        Assert.Equal("idle-keepalive", connection.StateName);

        await _client!.SendAsync("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("hello /second", (await _client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_stop_closes_a_connection_whose_wait_ended_with_nothing_to_read_as_it_closes_any_idle_one()
    {
        HttpConnection connection = await IdleAfterAnEmptyWakeAsync();
        connection.CloseIfIdle(Environment.TickCount64, first: false);
        Assert.True(await _client!.IsClosedByServerAsync(), "the connection stayed open");
        await _run!.WaitAsync(ServerTiming.HangBound);
    }

    /// <summary>
    /// A Socket transport whose second wait (the first one, for the first request, is real; the second
    /// follows its answer) ends at once with nothing sent, as a readiness report for bytes already taken
    /// ends it. Counts the waits begun and the receives begun after the early one.
    /// </summary>
    private sealed class EarlyWakeTransport(ConnectionTransport inner) : ForwardingTransport(inner)
    {
        private int _waits;
        private int _receivesAfterEarlyWake;

        public int Waits => Volatile.Read(ref _waits);

        public int ReceivesAfterEarlyWake => Volatile.Read(ref _receivesAfterEarlyWake);

        public override ValueTask<int> WaitForDataAsync() =>
            Interlocked.Increment(ref _waits) == 2 ? ValueTask.FromResult(0) : Inner.WaitForDataAsync();

        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Waits >= 2) Interlocked.Increment(ref _receivesAfterEarlyWake);
            return Inner.ReceiveAsync(buffer, cancellationToken);
        }
    }
}

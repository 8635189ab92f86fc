using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Parley.Client;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>
/// The pool's way to a connection on both transports: the words of a refused connect, a connect or TLS
/// handshake bounded by the request's deadline, cancellation during the handshake, IPv6, and the events.
/// </summary>
public class PoolConnectTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // The request deadline of the bounded-wait tests: its remaining part is what the message names.
    private const int RequestTimeoutMs = 2000;

    /// <summary>
    /// A listener whose accept queue is full (listen backlog 0, never accepted, one connection already
    /// queued): the kernel drops further SYNs, so a new connect neither completes nor fails.
    /// </summary>
    private sealed class UnansweredConnects : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _queued = [];

        private UnansweredConnects()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(0);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public static async Task<UnansweredConnects> StartAsync()
        {
            var full = new UnansweredConnects();
            // Queue connections until one is left hanging: the queue is full from then on. The wait for
            // each is a bound on a loopback connect, not a measurement.
            for (int i = 0; i < 8; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                full._queued.Add(socket);
                Task connect = socket.ConnectAsync(IPAddress.Loopback, full.Port);
                if (await Task.WhenAny(connect, Task.Delay(TimeSpan.FromSeconds(2))) != connect) return full;
                await connect;
            }
            full.Dispose();
            throw new InvalidOperationException("the listen queue accepted 8 connections without filling up");
        }

        public void Dispose()
        {
            foreach (Socket socket in _queued) socket.Dispose();
            _listener.Dispose();
        }
    }

    private static int MillisecondsNamed(string message, string pattern)
    {
        Match match = Regex.Match(message, pattern);
        Assert.True(match.Success, $"'{message}' does not match '{pattern}'");
        return int.Parse(match.Groups[1].Value);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_refused_connect_names_host_port_and_the_reason_once(TransportKind transport)
    {
        using Socket refusing = Interop.Loopback.RefusingPort(out int port);
        using var client = new ParleyClient(new ParleyClientOptions { Transport = transport });

        var ex = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"http://127.0.0.1:{port}/", Test));

        Assert.Equal(ParleyErrorKind.ConnectFailed, ex.Kind);
        Assert.Equal($"cannot connect to 127.0.0.1 port {port}: Connection refused", ex.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_connect_that_never_completes_ends_at_the_request_deadline_naming_the_time_left(TransportKind transport)
    {
        using UnansweredConnects target = await UnansweredConnects.StartAsync();
        // The connect timeout (10 s) is far off: the request's deadline is what ends the connect.
        using var client = new ParleyClient(new ParleyClientOptions { Transport = transport, RequestTimeout = TimeSpan.FromMilliseconds(RequestTimeoutMs) });

        var ex = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"http://127.0.0.1:{target.Port}/", Test));

        Assert.Equal(ParleyErrorKind.Timeout, ex.Kind);
        int named = MillisecondsNamed(ex.Message, $@"^timed out after (\d+) ms connecting to 127\.0\.0\.1:{target.Port} \(127\.0\.0\.1\)$");
        // What was left of the request's time when the connect began: at most all of it, and more than the 1 ms floor.
        Assert.InRange(named, 2, RequestTimeoutMs);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_stalled_tls_handshake_without_its_own_timeout_ends_at_the_request_deadline(TransportKind transport)
    {
        // Accepts (the kernel completes the connect) and never answers the ClientHello.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var options = new ParleyClientOptions
        {
            Transport = transport,
            TlsHandshakeTimeout = Timeout.InfiniteTimeSpan,
            RequestTimeout = TimeSpan.FromMilliseconds(RequestTimeoutMs),
        };
        using var client = new ParleyClient(options);

        var ex = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"https://127.0.0.1:{port}/", Test));

        Assert.Equal(ParleyErrorKind.TlsHandshakeTimeout, ex.Kind);
        int named = MillisecondsNamed(ex.Message,
            $@"^TLS handshake with 127\.0\.0\.1 port {port} timed out after (\d+) ms: the server accepted the connection but did not complete the handshake$");
        Assert.InRange(named, 2, RequestTimeoutMs);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Canceling_during_the_tls_handshake_is_a_cancellation_naming_the_origin(TransportKind transport)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var observer = new Recorder();
        // The handshake timeout (10 s) is far off: only the caller's token ends the handshake.
        using var client = new ParleyClient(new ParleyClientOptions { Transport = transport, Observer = observer });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Test);
        observer.HandshakeStarting = () => cancel.CancelAfter(100);

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.GetAsync($"https://127.0.0.1:{port}/", cancel.Token));

        Assert.Equal($"the TLS handshake with https://127.0.0.1:{port} was canceled", ex.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    private sealed class Recorder : ISessionObserver
    {
        public List<SessionEvent> Events { get; } = [];

        public Action? HandshakeStarting { get; set; }

        public void OnEvent(in SessionEvent e)
        {
            lock (Events) Events.Add(e);
            if (e.Kind == SessionEventKind.TlsHandshakeStarting) HandshakeStarting?.Invoke();
        }
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Connects_over_ipv6_loopback_and_reports_each_step(TransportKind transport)
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText(request.Host);
            return ValueTask.CompletedTask;
        }, options => options.Host = "::1");
        var observer = new Recorder();
        using var client = new ParleyClient(new ParleyClientOptions { Transport = transport, Observer = observer });
        var uri = new Uri($"http://[::1]:{server.Port}/six");

        using ParleyResponse response = await client.GetAsync(uri.ToString(), Test);

        Assert.Equal($"[::1]:{server.Port}", await response.ReadAsStringAsync(Test));
        SessionEvent[] steps = [.. observer.Events.Take(4)];
        Assert.Equal([SessionEventKind.Resolving, SessionEventKind.Resolved, SessionEventKind.Connecting, SessionEventKind.Connected], steps.Select(e => e.Kind));
        Assert.All(steps, e => Assert.Equal(uri, e.Uri));
        Assert.Equal("::1", steps[0].Host);
        Assert.Equal([IPAddress.IPv6Loopback], steps[1].Addresses);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, server.Port), steps[2].RemoteEndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, server.Port), steps[3].RemoteEndPoint);
        Assert.False(steps[3].Reused);
        Assert.Equal(1, steps[3].RequestNumberOnConnection);
    }

    [Fact]
    public async Task A_request_waiting_for_a_busy_slot_takes_the_slot_freed_before_its_deadline()
    {
        // The first response's body never ends: its connection holds the only slot until it is disposed.
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Connection == 1
            ? "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"
            : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var client = new ParleyClient(new ParleyClientOptions { MaxConnectionsPerOrigin = 1, RequestTimeout = TimeSpan.FromSeconds(30) });
        ParleyResponse busy = await client.GetAsync(server.Url, Test);

        Task<string> waiting = client.GetStringAsync(server.Url, Test).AsTask();
        Assert.NotSame(waiting, await Task.WhenAny(waiting, Task.Delay(300, Test)));
        busy.Dispose();

        Assert.Equal("ok", await waiting);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task An_idle_connection_found_closed_by_the_server_is_closed_and_replaced()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            exchange.CloseAfter = true; // closes without announcing it
        });
        using var client = new ParleyClient();
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Closed == 1, TimeSpan.FromSeconds(30)), "the server never closed");

        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));

        // The stale connection was closed when it was found, not left open beside its replacement.
        Assert.Equal(2, server.Accepted);
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => client.ConnectionCount == 1, TimeSpan.FromSeconds(30)),
            $"{client.ConnectionCount} connections open");
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Disposing_the_client_closes_its_idle_connections(TransportKind transport)
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        var client = new ParleyClient(new ParleyClientOptions { Transport = transport });
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        Assert.Equal(1, client.IdleConnectionCount(new Uri(server.Url)));

        client.Dispose();

        Assert.Equal(0, client.ConnectionCount);
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Closed == 1, TimeSpan.FromSeconds(30)), "the server never saw the close");
    }
}

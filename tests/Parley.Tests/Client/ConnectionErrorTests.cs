using System.Text.RegularExpressions;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// What a failed exchange tells its caller: the exact message for a timeout, a cancellation, a reset
/// connection and a body cut off by one, which failures are retried, and an exception of the caller's
/// own request stream, which passes through untouched.
/// </summary>
public class ConnectionErrorTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task A_timeout_says_how_long_it_waited_for_what_and_from_which_server()
    {
        using var peer = new LoopbackPeer();
        using var client = new ParleyClient(new ParleyClientOptions { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(300) });
        Task<ParleyResponse> pending = client.GetAsync(peer.Url, Test).AsTask();
        using LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();

        var error = await Assert.ThrowsAsync<ParleyHttpException>(() => pending);
        Assert.Equal(ParleyErrorKind.Timeout, error.Kind);
        Match match = Regex.Match(error.Message, $@"^timed out after (\d+) ms waiting for the response head from {Regex.Escape(peer.Authority)}$");
        Assert.True(match.Success, error.Message);
        // The wait is measured from its start: at least the timeout, and nowhere near the machine's uptime.
        Assert.InRange(long.Parse(match.Groups[1].Value), 300, 60_000);
    }

    [Fact]
    public async Task A_canceled_request_names_its_server_and_carries_the_callers_token()
    {
        using var peer = new LoopbackPeer();
        using var client = new ParleyClient();
        using var cancel = new CancellationTokenSource();
        Task<ParleyResponse> pending = client.GetAsync(peer.Url, cancel.Token).AsTask();
        using LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();
        cancel.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.Equal($"the request to {peer.Authority} was canceled", error.Message);
        Assert.Equal(cancel.Token, error.CancellationToken);
    }

    [Fact]
    public async Task Canceling_a_body_read_ends_it_at_once_and_closes_the_connection()
    {
        using var peer = new LoopbackPeer();
        // Only the token can end the read at once: the body timeout is far off.
        using var client = new ParleyClient(new ParleyClientOptions { BodyIdleTimeout = TimeSpan.FromSeconds(20) });
        Task<ParleyResponse> pending = client.GetAsync(peer.Url, Test).AsTask();
        using LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();
        await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        using ParleyResponse response = await pending;

        using var cancel = new CancellationTokenSource();
        Task<int> read = response.Body.ReadAsync(new byte[100], cancel.Token).AsTask();
        cancel.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Equal($"the request to {peer.Authority} was canceled", error.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task A_reset_before_the_response_names_the_phase_and_the_socket_error()
    {
        using var peer = new LoopbackPeer();
        using var client = new ParleyClient();
        Task<ParleyResponse> pending = client.GetAsync(peer.Url, Test).AsTask();
        LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();
        connection.Reset();

        var error = await Assert.ThrowsAsync<ParleyHttpException>(() => pending);
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        Assert.StartsWith($"connection to {peer.Authority} failed while waiting for the response head: ", error.Message);
        Assert.Equal(error.InnerException!.Message, error.Message[error.Message.LastIndexOf(": ", StringComparison.Ordinal)..][2..]);
    }

    [Fact]
    public async Task A_GET_reset_on_a_reused_connection_before_any_response_byte_is_retried_on_a_new_one()
    {
        using var peer = new LoopbackPeer();
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        LoopbackPeer.PeerConnection first = await ServeOnceAsync(client, peer);
        Task<string> again = client.GetStringAsync(peer.Url, Test).AsTask();
        await first.ReadHeadAsync();
        first.Reset();

        using LoopbackPeer.PeerConnection second = await peer.AcceptAsync();
        await second.ReadHeadAsync();
        await second.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        Assert.Equal("second", await again);
        Assert.Single(observer.Kinds(), SessionEventKind.Retrying);
    }

    [Fact]
    public async Task A_GET_reset_after_part_of_the_response_head_arrived_is_not_retried()
    {
        using var peer = new LoopbackPeer();
        var observer = new FirstByteObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        LoopbackPeer.PeerConnection first = await ServeOnceAsync(client, peer);
        observer.Arm();
        Task<string> again = client.GetStringAsync(peer.Url, Test).AsTask();
        await first.ReadHeadAsync();
        await first.SendAsync("HTTP/1.1 200 OK\r\n");
        await observer.FirstResponseByte.WaitAsync(Test);
        first.Reset();

        var error = await Assert.ThrowsAsync<ParleyHttpException>(() => again);
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        Assert.StartsWith($"connection to {peer.Authority} failed while waiting for the response head: ", error.Message);
        Assert.DoesNotContain(SessionEventKind.Retrying, observer.Kinds());
    }

    /// <summary>Answers one GET on a new connection and leaves that connection idle in the pool.</summary>
    private static async Task<LoopbackPeer.PeerConnection> ServeOnceAsync(ParleyClient client, LoopbackPeer peer)
    {
        Task<string> first = client.GetStringAsync(peer.Url, Test).AsTask();
        LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();
        await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        Assert.Equal("first", await first);
        Assert.Equal(1, client.IdleConnectionCount(new Uri(peer.Url)));
        return connection;
    }

    private sealed class FirstByteObserver : ISessionObserver
    {
        private readonly List<SessionEventKind> _kinds = [];
        private TaskCompletionSource _firstByte = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _armed;

        public Task FirstResponseByte => _firstByte.Task;

        /// <summary>From now on, the next first response byte completes <see cref="FirstResponseByte"/>.</summary>
        public void Arm()
        {
            lock (_kinds) _armed = true;
        }

        public void OnEvent(in SessionEvent e)
        {
            lock (_kinds)
            {
                _kinds.Add(e.Kind);
                if (_armed && e.Kind == SessionEventKind.FirstResponseByte) _firstByte.TrySetResult();
            }
        }

        public List<SessionEventKind> Kinds()
        {
            lock (_kinds) return [.. _kinds];
        }
    }

    [Fact]
    public async Task A_reset_in_the_middle_of_a_body_says_how_much_of_it_arrived()
    {
        using var peer = new LoopbackPeer();
        using var client = new ParleyClient();
        Task<ParleyResponse> pending = client.GetAsync(peer.Url, Test).AsTask();
        LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();
        await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        using ParleyResponse response = await pending;
        await connection.SendAsync("abc");
        byte[] buffer = new byte[100];
        await response.Body.ReadExactlyAsync(buffer.AsMemory(0, 3), Test);
        connection.Reset();

        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await response.Body.ReadExactlyAsync(buffer.AsMemory(0, 7), Test));
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        Assert.StartsWith($"response body from {peer.Authority} cut off after 3 bytes: ", error.Message);
        Assert.EndsWith($": {error.InnerException!.Message}", error.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    /// <summary>A request body stream that fails in its own way.</summary>
    private sealed class FailingStream(Exception failure) : ReadOnlyBodyStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw failure;
    }

    [Fact]
    public async Task An_exception_of_the_request_body_stream_reaches_the_caller_as_thrown()
    {
        await using var server = new ScriptedServer(exchange => exchange.HangAsync());
        using var client = new ParleyClient();
        // Canceled by the stream itself, not by the caller's token: the caller sees the stream's own exception.
        var failure = new OperationCanceledException("the source of the upload gave up");
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromStream(new FailingStream(failure)) };
        Exception? error = await Record.ExceptionAsync(async () => await client.SendAsync(request, Test));
        Assert.Same(failure, error);
        Assert.Equal(0, client.ConnectionCount);
    }
}

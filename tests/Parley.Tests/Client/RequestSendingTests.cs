using System.Text.RegularExpressions;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// The request side of a connection: which of the caller's fields pass as given, when a Connection field
/// ends the connection's life (RFC 9112 §9.6), and how the body idle timeout bounds an upload that stalls
/// in either direction.
/// </summary>
public class RequestSendingTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>Sends <paramref name="request"/> to a peer that answers 200 and closes; returns the request head it read.</summary>
    private static async Task<string> HeadOfAsync(LoopbackPeer peer, ParleyRequest request)
    {
        using var client = new ParleyClient();
        Task<ParleyResponse> pending = client.SendAsync(request, Test).AsTask();
        using LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        string head = await connection.ReadHeadAsync();
        await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        using ParleyResponse response = await pending;
        Assert.Equal(200, response.StatusCode);
        return head;
    }

    [Fact]
    public async Task With_Expect_100_continue_the_callers_own_Expect_field_is_replaced()
    {
        using var peer = new LoopbackPeer();
        var request = new ParleyRequest("PUT", peer.Url) { Content = ParleyContent.FromString("held"), ExpectContinue = true };
        request.Headers.Add("Expect", "100-continue");
        string head = await HeadOfAsync(peer, request);
        Assert.Single(Regex.Matches(head, "^Expect:", RegexOptions.Multiline | RegexOptions.IgnoreCase));
        Assert.Contains("\r\nExpect: 100-continue\r\n", head);
    }

    [Fact]
    public async Task A_field_the_caller_gives_twice_goes_out_twice_and_keeps_out_the_default()
    {
        using var peer = new LoopbackPeer();
        var request = new ParleyRequest("POST", peer.Url) { Content = ParleyContent.FromString("x") };
        request.Headers.Add("User-Agent", "first/1");
        request.Headers.Add("User-Agent", "second/2");
        request.Headers.Add("Content-Type", "text/x-one");
        request.Headers.Add("Content-Type", "text/x-two");
        string head = await HeadOfAsync(peer, request);
        Assert.Contains("\r\nUser-Agent: first/1\r\nUser-Agent: second/2\r\nContent-Type: text/x-one\r\nContent-Type: text/x-two\r\n", head);
        Assert.DoesNotContain("parley", head);
        Assert.DoesNotContain("text/plain", head);
    }

    [Theory]
    [InlineData("Connection", "keep-alive, Close", 0)]
    [InlineData("Connection", "x-closed-captions", 1)]
    [InlineData("X-Reason", "close", 1)]
    public async Task Only_a_close_option_of_the_Connection_field_ends_the_connection_after_the_response(string name, string value, int kept)
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var client = new ParleyClient();
        var request = ParleyRequest.Get(server.Url);
        request.Headers.Add(name, value);
        using (ParleyResponse response = await client.SendAsync(request, Test))
        {
            Assert.Equal("ok", await response.ReadAsStringAsync(Test));
        }
        Assert.Equal(kept, client.ConnectionCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_the_server_stops_reading_times_out_as_a_stalled_upload(bool streamed)
    {
        using var peer = new LoopbackPeer();
        // The head timeout is long: only the body idle timeout may end this.
        using var client = new ParleyClient(new ParleyClientOptions
        {
            BodyIdleTimeout = TimeSpan.FromMilliseconds(300),
            ResponseHeadersTimeout = TimeSpan.FromSeconds(20),
        });
        // More than the loopback socket buffers on both sides can hold.
        byte[] body = new byte[64 << 20];
        var request = new ParleyRequest("PUT", peer.Url)
        {
            Content = streamed ? ParleyContent.FromStream(new MemoryStream(body), body.Length) : ParleyContent.FromBytes(body),
        };
        Task<ParleyResponse> pending = client.SendAsync(request, Test).AsTask();
        using LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();

        var error = await Assert.ThrowsAsync<ParleyHttpException>(() => pending);
        Assert.Equal(ParleyErrorKind.Timeout, error.Kind);
        Assert.Matches($@"^timed out after \d+ ms sending the request body to {Regex.Escape(peer.Authority)}$", error.Message);
    }

    /// <summary>A body that produces <paramref name="pieces"/> pieces of ten bytes, each after <paramref name="gap"/>.</summary>
    private sealed class PacedStream(int pieces, TimeSpan gap) : ReadOnlyBodyStream
    {
        private int _produced;
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_produced == pieces) return 0;
            await Task.Delay(gap, cancellationToken);
            _produced++;
            "0123456789"u8.CopyTo(buffer.Span);
            return 10;
        }
    }

    [Fact]
    public async Task The_body_idle_timeout_restarts_with_every_piece_of_a_slow_upload()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        var observer = new RecordingObserver();
        // Each piece comes well within the timeout; all of them together take twice as long.
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer, BodyIdleTimeout = TimeSpan.FromMilliseconds(1500) });
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromStream(new PacedStream(6, TimeSpan.FromMilliseconds(500))) };
        using (ParleyResponse response = await client.SendAsync(request, Test))
        {
            Assert.Equal("ok", await response.ReadAsStringAsync(Test));
        }
        lock (observer.Events) Assert.Equal(60, observer.Events.Single(e => e.Kind == SessionEventKind.RequestBodySent).Size);
    }
}

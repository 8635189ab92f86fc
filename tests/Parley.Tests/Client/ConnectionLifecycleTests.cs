using System.Text;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// One connection through its life: what its timeouts count (only the waits for the server), what a
/// canceled token can still reach once an exchange is over, when its slot of the origin is free again,
/// and how its one receive buffer carries responses that arrive in pieces.
/// </summary>
public class ConnectionLifecycleTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>Several times the timeouts below, which the client's timer (every 50 ms) would notice.</summary>
    private static readonly TimeSpan CallerBusy = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Time_the_caller_spends_between_reads_does_not_count_against_the_timeouts(bool chunked)
    {
        using var peer = new LoopbackPeer();
        using var client = new ParleyClient(new ParleyClientOptions
        {
            ResponseHeadersTimeout = TimeSpan.FromMilliseconds(200),
            BodyIdleTimeout = TimeSpan.FromMilliseconds(200),
        });
        Task<ParleyResponse> pending = client.GetAsync(peer.Url, Test).AsTask();
        using LoopbackPeer.PeerConnection connection = await peer.AcceptAsync();
        await connection.ReadHeadAsync();
        await connection.SendAsync(chunked
            ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        using ParleyResponse response = await pending;

        // Busy after the head, and again after a part of the body: only waits for the server are timed.
        await Task.Delay(CallerBusy);
        await connection.SendAsync(chunked ? "5\r\nabcde\r\n" : "abcde");
        byte[] buffer = new byte[16 * 1024];
        int read = await response.Body.ReadAsync(buffer, Test);
        Assert.Equal("abcde", Encoding.ASCII.GetString(buffer, 0, read));
        await Task.Delay(CallerBusy);
        await connection.SendAsync(chunked ? "5\r\nfghij\r\n0\r\n\r\n" : "fghij");
        var rest = new StringBuilder();
        while ((read = await response.Body.ReadAsync(buffer, Test)) > 0) rest.Append(Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal("fghij", rest.ToString());
        Assert.True(response.IsBodyComplete);
    }

    [Fact]
    public async Task Infinite_timeouts_wait_for_a_slow_server()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await Task.Delay(300);
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcde");
            await Task.Delay(300);
            await exchange.SendAsync("fghij");
        });
        using var client = new ParleyClient(new ParleyClientOptions
        {
            ResponseHeadersTimeout = Timeout.InfiniteTimeSpan,
            BodyIdleTimeout = Timeout.InfiniteTimeSpan,
        });
        Assert.Equal("abcdefghij", await client.GetStringAsync(server.Url, Test));
    }

    [Fact]
    public async Task A_token_canceled_after_its_exchange_ended_leaves_the_pooled_connection_usable()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.RequestOnConnection == 2
            ? $"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n{new string('b', 20000)}"
            : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var client = new ParleyClient();

        using (var sendToken = new CancellationTokenSource())
        {
            using (ParleyResponse small = await client.GetAsync(server.Url, sendToken.Token))
            {
                Assert.Equal("ok", await small.ReadAsStringAsync(Test));
            }
            sendToken.Cancel();
        }
        using (var readToken = new CancellationTokenSource())
        {
            using (ParleyResponse large = await client.GetAsync(server.Url, Test))
            {
                Assert.Equal(20000, (await large.ReadAsByteArrayAsync(readToken.Token)).Length);
            }
            readToken.Cancel();
        }
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        Assert.Equal(1, server.Accepted);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task With_one_connection_per_origin_a_connection_closed_after_its_response_frees_the_slot()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            exchange.CloseAfter = true;
        });
        // The request timeout only bounds a hang: a slot never freed would keep the next request waiting.
        using var client = new ParleyClient(new ParleyClientOptions { MaxConnectionsPerOrigin = 1, RequestTimeout = TimeSpan.FromSeconds(10) });
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
            Assert.Equal(0, client.IdleConnectionCount(new Uri(server.Url)));
            Assert.Equal(0, client.ConnectionCount);
        }
        Assert.Equal(3, server.Accepted);
    }

    [Fact]
    public async Task Trailers_belong_to_the_chunked_response_that_carried_them_only()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.RequestOnConnection == 1
            ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 1\r\n\r\n"
            : $"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n{new string('b', 20000)}"));
        using var client = new ParleyClient();
        using (ParleyResponse chunked = await client.GetAsync(server.Url, Test))
        {
            Assert.Equal("ok", await chunked.ReadAsStringAsync(Test));
            Assert.Equal("1", chunked.Trailers!["X-Checksum"]);
        }
        using (ParleyResponse streamed = await client.GetAsync(server.Url, Test))
        {
            Assert.Equal(20000, (await streamed.ReadAsByteArrayAsync(Test)).Length);
            Assert.True(streamed.IsBodyComplete);
            Assert.Null(streamed.Trailers);
        }
        Assert.Equal(1, server.Accepted);
    }

    /// <summary>Completes when the client reports an interim response.</summary>
    private sealed class InterimObserver : ISessionObserver
    {
        public TaskCompletionSource Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnEvent(in SessionEvent e)
        {
            if (e.Kind == SessionEventKind.InterimResponseReceived) Seen.TrySetResult();
        }
    }

    [Fact]
    public async Task A_final_head_that_arrives_in_pieces_after_a_large_interim_one_is_read_whole()
    {
        var observer = new InterimObserver();
        string hints = "HTTP/1.1 103 Early Hints\r\nLink: </" + new string('x', 5000) + ">; rel=preload\r\n\r\n";
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync(hints + "HTTP/1.1 200 O");
            // The rest once the client has moved past the interim response and holds the unfinished status line.
            await observer.Seen.Task.WaitAsync(exchange.Stopping);
            await exchange.SendAsync("K\r\nContent-Length: 2\r\n\r\nok");
        });
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using ParleyResponse response = await client.GetAsync(server.Url, Test);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("OK", response.ReasonPhrase);
        Assert.Equal("ok", await response.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task A_chunked_body_whose_size_lines_straddle_the_receive_buffer_decodes_whole()
    {
        // Long chunk extensions make nearly every byte part of a size line, so the end of the client's
        // 16 KiB buffer falls inside one: the unfinished line moves to the front before the next receive.
        string chunk = "1;note=" + new string('e', 200) + "\r\na\r\n";
        string body = string.Concat(Enumerable.Repeat(chunk, 300)) + "0\r\n\r\n";
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
        using var client = new ParleyClient();
        Assert.Equal(new string('a', 300), await client.GetStringAsync(server.Url, Test));
        Assert.Equal(new string('a', 300), await client.GetStringAsync(server.Url, Test));
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Bytes_after_a_101_that_followed_an_interim_response_are_the_first_of_the_new_protocol()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            if (exchange.Connection > 1)
            {
                await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                return;
            }
            await exchange.SendAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly");
            await exchange.HangAsync();
        });
        // One connection per origin: the next request needs the slot the upgraded connection gives back.
        using var client = new ParleyClient(new ParleyClientOptions { MaxConnectionsPerOrigin = 1, RequestTimeout = TimeSpan.FromSeconds(10) });
        var request = ParleyRequest.Get(server.Url);
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "echo");
        using (ParleyResponse response = await client.SendAsync(request, Test))
        {
            Assert.Equal(101, response.StatusCode);
            byte[] buffer = new byte[100];
            int read = await response.Body.ReadAsync(buffer, Test);
            Assert.Equal("early", Encoding.ASCII.GetString(buffer, 0, read));
            Assert.Equal(1, client.ConnectionCount);
        }
        // Disposing the response closed the connection and freed its slot.
        Assert.Equal(0, client.ConnectionCount);
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
    }

    [Theory]
    [InlineData(true, "Upgrade: echo", "Connection: keep-alive, Upgrade")]
    [InlineData(true, "Upgrade: echo", "Connection: upgrade", "Connection: Upgrade")]
    [InlineData(false, "Upgrade: echo")]
    [InlineData(false, "Connection: Upgrade")]
    [InlineData(false, "Upgrade: echo", "Connection: keep-alive")]
    public async Task A_101_is_accepted_only_when_the_request_had_both_Upgrade_and_the_upgrade_option(bool accepted, params string[] fields)
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
            await exchange.HangAsync();
        });
        using var client = new ParleyClient();
        var request = ParleyRequest.Get(server.Url);
        foreach (string field in fields)
        {
            string[] parts = field.Split(": ");
            request.Headers.Add(parts[0], parts[1]);
        }
        if (accepted)
        {
            using ParleyResponse response = await client.SendAsync(request, Test);
            Assert.Equal(101, response.StatusCode);
        }
        else
        {
            var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.SendAsync(request, Test));
            Assert.Equal($"unexpected 101 Switching Protocols (no upgrade was requested) from 127.0.0.1:{server.Port}: 'HTTP/1.1 101 Switching Protocols'", error.Message);
        }
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Disposing_the_client_tells_the_waiting_request_what_it_was_waiting_for(TransportKind transport)
    {
        await using var server = new ScriptedServer(exchange => exchange.HangAsync());
        var client = new ParleyClient(new ParleyClientOptions { Transport = transport, ResponseHeadersTimeout = Timeout.InfiniteTimeSpan });
        Task<ParleyResponse> pending = client.GetAsync(server.Url, Test).AsTask();
        while (server.Requests.Count == 0) await Task.Delay(10, Test);
        client.Dispose();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(() => pending);
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        // The server has the request; the client may still be between its send and its wait for the head.
        Assert.Matches($@"^the client was disposed while (sending the request to|waiting for the response head from) 127\.0\.0\.1:{server.Port}$", error.Message);
    }
}

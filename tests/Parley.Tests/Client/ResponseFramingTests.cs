using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// How the client frames a response body (RFC 9112 §6.3), what it says when a response is cut off,
/// and when the connection goes back to the pool (RFC 9112 §9.3).
/// </summary>
public class ResponseFramingTests
{
    private static ParleyClientOptions Fast() => new()
    {
        ResponseHeadersTimeout = TimeSpan.FromSeconds(5),
        BodyIdleTimeout = TimeSpan.FromSeconds(5),
    };

    private static async Task<ParleyHttpException> FailAsync(ScriptedServer server)
    {
        using var client = new ParleyClient(Fast());
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () =>
        {
            using ParleyResponse response = await client.GetAsync(server.Url);
            await response.ReadAsByteArrayAsync();
        });
        Assert.Equal(0, client.ConnectionCount);
        return error;
    }

    [Fact]
    public async Task A_close_in_the_middle_of_the_head_quotes_the_unfinished_line()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Le");
            exchange.CloseAfter = true;
        });
        var error = await FailAsync(server);
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        Assert.Equal($"connection closed in the middle of the response head from 127.0.0.1:{server.Port}: 'Content-Le'", error.Message);
    }

    [Fact]
    public async Task A_close_after_an_interim_response_is_a_close_before_any_response()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 100 Continue\r\n\r\n");
            exchange.CloseAfter = true;
        });
        var error = await FailAsync(server);
        Assert.Equal(ParleyErrorKind.ConnectionClosed, error.Kind);
        Assert.Equal($"connection closed by 127.0.0.1:{server.Port} before any response", error.Message);
    }

    [Fact]
    public async Task A_Content_Length_body_cut_short_says_how_much_arrived()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            exchange.CloseAfter = true;
        });
        var error = await FailAsync(server);
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        Assert.Equal($"response body truncated: connection closed after 3 of 10 bytes from 127.0.0.1:{server.Port}", error.Message);
    }

    [Fact]
    public async Task A_chunked_body_cut_short_says_how_much_data_arrived()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n");
            exchange.CloseAfter = true;
        });
        var error = await FailAsync(server);
        Assert.Equal(ParleyErrorKind.MalformedResponse, error.Kind);
        Assert.Equal($"chunked response body truncated: connection closed after 5 bytes of data from 127.0.0.1:{server.Port}", error.Message);
    }

    [Fact]
    public async Task With_no_idle_time_allowed_the_connection_closes_after_the_response()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var client = new ParleyClient(new ParleyClientOptions { PooledConnectionIdleTimeout = TimeSpan.Zero });
        Assert.Equal("ok", await client.GetStringAsync(server.Url));
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Keep_Alive_max_limits_the_requests_on_a_connection()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.RequestOnConnection == 1
            ? "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=30, max=1\r\nContent-Length: 1\r\n\r\na"
            : "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
        using var client = new ParleyClient();
        Assert.Equal("a", await client.GetStringAsync(server.Url));
        Assert.Equal(1, client.ConnectionCount);
        Assert.Equal("b", await client.GetStringAsync(server.Url));
        Assert.Equal(0, client.ConnectionCount);
        Assert.Equal("a", await client.GetStringAsync(server.Url));
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task Two_chunked_responses_on_one_connection_each_decode_from_the_start()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            await exchange.SendAsync($"3\r\nab{exchange.RequestOnConnection}\r\n0\r\n\r\n");
        });
        using var client = new ParleyClient();
        Assert.Equal("ab1", await client.GetStringAsync(server.Url));
        Assert.Equal("ab2", await client.GetStringAsync(server.Url));
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task A_response_dropped_unread_whose_rest_is_buffered_frees_the_connection_once()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
        using var client = new ParleyClient();
        var uri = new Uri(server.Url);
        using (ParleyResponse dropped = await client.GetAsync(server.Url))
        {
        }
        Assert.Equal(1, client.IdleConnectionCount(uri));
        using (ParleyResponse read = await client.GetAsync(server.Url))
        {
            Assert.Equal("abcde", await read.ReadAsStringAsync());
        }
        // Disposing after the end must not hand the connection back a second time.
        Assert.Equal(1, client.IdleConnectionCount(uri));
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task A_large_read_takes_only_the_declared_length_from_the_socket()
    {
        var observer = new RecordingObserver();
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
            await Task.Delay(100);
            await exchange.SendAsync("helloXYZ");
            await exchange.HangAsync();
        });
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using ParleyResponse response = await client.GetAsync(server.Url);
        byte[] buffer = new byte[16 * 1024];
        int total = 0;
        while (total < 5)
        {
            int read = await response.Body.ReadAsync(buffer.AsMemory(total));
            Assert.NotEqual(0, read);
            total += read;
        }
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, total));
        // The last byte of the declared length ends the body: no further read is needed.
        Assert.True(response.IsBodyComplete);
        lock (observer.Events) Assert.Equal(5, observer.Events.Single(e => e.Kind == SessionEventKind.ResponseBodyDone).Size);
    }

    [Fact]
    public async Task A_final_response_behind_an_interim_one_is_framed_by_its_own_length()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            await Task.Delay(100);
            await exchange.SendAsync("defghij");
        });
        using var client = new ParleyClient();
        Assert.Equal("abcdefghij", await client.GetStringAsync(server.Url));
        Assert.Equal("abcdefghij", await client.GetStringAsync(server.Url));
        Assert.Equal(1, server.Accepted);
    }
}

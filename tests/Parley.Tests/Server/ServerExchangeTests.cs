using System.Text;
using Parley.Server;
using Parley.Tests.Hardening;

namespace Parley.Tests.Server;

/// <summary>Raw bytes over real TCP: framing, keep-alive, pipelining, HEAD, errors (RFC 9112 §6, §9).</summary>
public class ServerExchangeTests : TransportTests
{
    private static ValueTask Hello(HttpRequest request, HttpResponse response)
    {
        response.WriteText("Hello, World!");
        return ValueTask.CompletedTask;
    }

    private static async ValueTask Echo(HttpRequest request, HttpResponse response)
    {
        byte[] body = await request.ReadBodyAsync(1 << 20);
        response.Headers.Set("Content-Type", "application/octet-stream");
        response.Write(body);
    }

    [Fact]
    public async Task Answers_a_GET_with_status_line_date_server_and_content_length()
    {
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("13", response.Header("Content-Length"));
        Assert.Equal("Parley", response.Header("Server"));
        Assert.True(DateTimeOffset.TryParse(response.Header("Date"), out _));
        Assert.EndsWith("GMT", response.Header("Date"));
        Assert.Equal("Hello, World!", response.BodyText);
    }

    [Fact]
    public async Task Keeps_an_HTTP11_connection_open_and_counts_requests_on_it()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText(request.RequestNumberOnConnection.ToString());
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        for (int i = 1; i <= 3; i++)
        {
            await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(i.ToString(), response.BodyText);
            Assert.Null(response.Header("Connection"));
            Assert.StartsWith("timeout=", response.Header("Keep-Alive"));
        }
    }

    [Fact]
    public async Task Each_response_carries_the_fields_its_handler_set_when_they_change_between_requests()
    {
        // The connection's exchange keeps the field lines it last encoded, for a handler that sets the same
        // strings again: a change of value, of name, of count or of order must show in the next response.
        string[][] fieldsPerRequest =
        [
            ["X-A", "1"],
            ["X-A", "1"],
            ["X-A", "2"],
            ["X-B", "2"],
            ["X-B", "2", "X-C", "3"],
            ["X-C", "3", "X-B", "2"],
            ["X-C", new string('3', 1)],
            [],
            ["X-Long", new string('v', 300)],
            ["X-A", "1"],
        ];
        await using var server = await StartAsync((request, response) =>
        {
            string[] fields = fieldsPerRequest[int.Parse(request.Path.AsSpan(1))];
            for (int i = 0; i < fields.Length; i += 2) response.Headers.Add(fields[i], fields[i + 1]);
            response.WriteText("ok");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        for (int n = 0; n < fieldsPerRequest.Length; n++)
        {
            await connection.SendAsync($"GET /{n} HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            string[] expected = fieldsPerRequest[n];
            string[] custom = response.Headers.Where(h => h.Key.StartsWith("X-", StringComparison.Ordinal)).Select(h => $"{h.Key}: {h.Value}").ToArray();
            Assert.Equal(Enumerable.Range(0, expected.Length / 2).Select(i => $"{expected[2 * i]}: {expected[2 * i + 1]}"), custom);
            Assert.Equal("ok", response.BodyText);
        }
    }

    [Fact]
    public async Task Answers_pipelined_requests_in_order_from_one_write()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText(request.Path);
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        var batch = new StringBuilder();
        for (int i = 0; i < 16; i++) batch.Append($"GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        await connection.SendAsync(batch.ToString());
        for (int i = 0; i < 16; i++)
        {
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal($"/r{i}", response.BodyText);
        }
    }

    [Fact]
    public async Task Parses_a_request_sent_one_byte_at_a_time()
    {
        await using var server = await StartAsync(Echo);
        await using var connection = await server.ConnectAsync();
        await connection.SendByteByByteAsync("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("hello", response.BodyText);
    }

    [Fact]
    public async Task Decodes_a_chunked_request_body_with_extensions_and_trailers()
    {
        await using var server = await StartAsync(Echo);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("hello world", response.BodyText);
        // The connection is still usable afterwards.
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
        Assert.Equal("ok", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Reads_a_large_body_that_arrives_in_many_segments()
    {
        await using var server = await StartAsync(Echo);
        await using var connection = await server.ConnectAsync();
        byte[] payload = new byte[300_000];
        new Random(7).NextBytes(payload);
        await connection.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {payload.Length}\r\n\r\n"));
        for (int offset = 0; offset < payload.Length; offset += 65_536)
        {
            await connection.SendAsync(payload[offset..Math.Min(payload.Length, offset + 65_536)]);
        }
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(payload, response.Body);
    }

    [Fact]
    public async Task HEAD_gets_the_GET_head_with_its_length_and_no_body()
    {
        await using var server = await StartAsync(new Router().MapGet("/", Hello).Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse head = await connection.ReadResponseAsync(headRequest: true);
        Assert.Equal(200, head.StatusCode);
        Assert.Equal("13", head.Header("Content-Length"));
        RawResponse get = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", get.BodyText);
    }

    [Fact]
    public async Task Honours_Connection_close_from_the_client()
    {
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Contains("Connection: close\r\n", all);
        Assert.EndsWith("Hello, World!", all);
    }

    [Fact]
    public async Task Closes_HTTP10_connections_unless_keep_alive_is_asked()
    {
        await using var server = await StartAsync(Hello);
        string closed = await server.ExchangeUntilCloseAsync("GET / HTTP/1.0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", closed);

        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("keep-alive", response.Header("Connection"));
        await connection.SendAsync("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Streams_a_body_of_unknown_length_with_chunked_coding()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            for (int i = 0; i < 3; i++)
            {
                await response.WriteAsync(Encoding.ASCII.GetBytes($"part{i};"));
                await response.FlushAsync();
            }
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Null(response.Header("Content-Length"));
        Assert.Equal("part0;part1;part2;", response.BodyText);
    }

    [Fact]
    public async Task Streams_to_an_HTTP10_client_by_closing_the_connection()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            await response.WriteAsync("streamed"u8.ToArray());
            await response.FlushAsync();
        });
        string all = await server.ExchangeUntilCloseAsync("GET / HTTP/1.0\r\n\r\n");
        Assert.DoesNotContain("Transfer-Encoding", all);
        Assert.EndsWith("\r\n\r\nstreamed", all);
    }

    [Fact]
    public async Task A_throwing_handler_gets_500_without_details_and_the_connection_stays_usable()
    {
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/boom")
            {
                response.Headers.Set("X-Partial", "yes");
                response.Write("partial"u8);
                throw new InvalidOperationException("secret detail");
            }
            response.WriteText("fine");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse failed = await connection.ReadResponseAsync();
        Assert.Equal(500, failed.StatusCode);
        Assert.Null(failed.Header("X-Partial"));
        Assert.DoesNotContain("secret", failed.BodyText);
        Assert.Contains(server.Errors, e => e.Contains("secret detail"));
        await connection.SendAsync("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("fine", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task An_error_log_that_throws_costs_a_throwing_handler_no_500()
    {
        int logged = 0;
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/boom") throw new InvalidOperationException("the handler broke");
            response.WriteText("fine");
            return ValueTask.CompletedTask;
        });
        // After the start: the test server sets its own error log until then.
        server.Server.Options.ErrorLog = (_, _) =>
        {
            Interlocked.Increment(ref logged);
            throw new InvalidOperationException("the log broke");
        };
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
        await connection.SendAsync("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("fine", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal(1, Volatile.Read(ref logged));
    }

    [Fact]
    public async Task A_handler_that_fails_after_sending_gets_its_connection_closed()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            await response.WriteAsync("begun"u8.ToArray());
            await response.FlushAsync();
            throw new InvalidOperationException("too late");
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync();
        Assert.Contains("Transfer-Encoding: chunked", all);
        Assert.DoesNotContain("0\r\n\r\n", all); // no last chunk: the client sees a truncated body
    }

    [Fact]
    public async Task Writing_past_the_declared_Content_Length_fails_the_response()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.ContentLength = 2;
            response.Write("too long"u8);
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(500, response.StatusCode);
        Assert.DoesNotContain("too long", response.BodyText);
        Assert.Contains(server.Errors, e => e.Contains("exceeds its Content-Length"));
    }

    [Fact]
    public async Task Sends_100_Continue_only_when_the_handler_reads_the_body()
    {
        await using var server = await StartAsync(Echo);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        RawResponse interim = await connection.ReadResponseAsync();
        Assert.Equal(100, interim.StatusCode);
        await connection.SendAsync("data");
        RawResponse final = await connection.ReadResponseAsync();
        Assert.Equal("data", final.BodyText);
    }

    [Fact]
    public async Task Answers_directly_without_100_Continue_when_the_body_is_not_read()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.StatusCode = 403;
            response.WriteText("no uploads");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(403, response.StatusCode);
        Assert.Equal("close", response.Header("Connection"));
    }

    [Fact]
    public async Task Skips_a_small_unread_body_and_keeps_the_connection()
    {
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Refuses_a_body_larger_than_the_limit_with_413_and_closes()
    {
        await using var server = await StartAsync(Echo, o => o.MaxRequestBodySize = 100);
        string all = await server.ExchangeUntilCloseAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 413 Content Too Large\r\n", all);
        Assert.Contains("Connection: close", all);
    }

    [Fact]
    public async Task Refuses_a_chunked_body_that_grows_past_the_limit_with_413()
    {
        await using var server = await StartAsync(Echo, o => o.MaxRequestBodySize = 10);
        string all = await server.ExchangeUntilCloseAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 413 ", all);
        Assert.Contains("Connection: close", all);
    }

    [Fact]
    public async Task A_response_larger_than_the_socket_buffers_arrives_whole_and_the_connection_serves_the_next_request()
    {
        // Each piece is flushed on its own, and the client reads no faster than it parses: the sends wait for it.
        const int Pieces = 8, PieceSize = 2 * 1024 * 1024;
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path != "/big")
            {
                response.WriteText("next");
                return;
            }
            for (int i = 0; i < Pieces; i++) await response.WriteAsync(Enumerable.Repeat((byte)('a' + i), PieceSize).ToArray());
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse big = await connection.ReadResponseAsync(timeout: ServerTiming.HangBound);
        Assert.Equal(200, big.StatusCode);
        Assert.Equal(Pieces * PieceSize, big.Body.Length);
        for (int i = 0; i < Pieces; i++)
        {
            Assert.True(big.Body.AsSpan(i * PieceSize, PieceSize).IndexOfAnyExcept((byte)('a' + i)) < 0, $"piece {i} is not all '{(char)('a' + i)}'");
        }

        await connection.SendAsync("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("next", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Closes_after_the_configured_number_of_requests_and_says_so()
    {
        await using var server = await StartAsync(Hello, o => o.MaxRequestsPerConnection = 2);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("timeout=75, max=1", first.Header("Keep-Alive"));
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal("close", second.Header("Connection"));
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    public async Task Responses_204_and_304_carry_no_body_and_no_framing(int status)
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.StatusCode = status;
            response.Headers.Set("ETag", "\"v1\"");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal(status, first.StatusCode);
        Assert.Null(first.Header("Content-Length")); // RFC 9110 §8.6
        Assert.Null(first.Header("Transfer-Encoding"));
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(status, second.StatusCode); // nothing stray between the two responses
    }

    [Fact]
    public async Task Writing_a_body_on_a_204_fails_the_handler_with_500()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.StatusCode = 204;
            response.Write("oops"u8);
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
        Assert.Contains(server.Errors, e => e.Contains("has no body"));
    }

    [Fact]
    public async Task A_header_value_with_CRLF_cannot_split_the_response()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.Headers.Set("X-Echo", "a\r\nSet-Cookie: injected=1");
            response.WriteText("never");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(500, response.StatusCode);
        Assert.Null(response.Header("Set-Cookie"));
    }

    [Fact]
    public async Task Accepts_an_absolute_form_target_and_uses_its_authority_as_the_host()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText($"{request.Host} {request.Path} {request.RawQuery}");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET http://example.com:8080/a%20b?q=1 HTTP/1.1\r\nHost: ignored\r\n\r\n");
        Assert.Equal("example.com:8080 /a b q=1", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Routes_by_path_and_method_with_404_405_Allow_and_OPTIONS()
    {
        var router = new Router().MapGet("/page", Hello).MapPost("/form", Hello);
        await using var server = await StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("DELETE /page HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse notAllowed = await connection.ReadResponseAsync();
        Assert.Equal(405, notAllowed.StatusCode);
        Assert.Equal("GET, HEAD, OPTIONS", notAllowed.Header("Allow"));
        await connection.SendAsync("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(404, (await connection.ReadResponseAsync()).StatusCode);
        await connection.SendAsync("OPTIONS /form HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse options = await connection.ReadResponseAsync();
        Assert.Equal(204, options.StatusCode);
        Assert.Equal("POST, OPTIONS", options.Header("Allow"));
        await connection.SendAsync("BREW /page HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(501, (await connection.ReadResponseAsync()).StatusCode);
        await connection.SendAsync("GET /p%61ge HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Answers_every_connection_of_a_burst()
    {
        // More connections at once than one accept batch of an epoll loop takes (64).
        await using var server = await StartAsync(Hello);
        const int count = 300;
        string[] answers = await Task.WhenAll(Enumerable.Range(0, count).Select(_ =>
            server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
        Assert.All(answers, all =>
        {
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", all);
            Assert.EndsWith("\r\n\r\nHello, World!", all);
        });
        Assert.Empty(server.Errors);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("*", "127.0.0.1")]
    [InlineData("*", "::1")]
    public async Task Handlers_see_both_endpoints_of_the_connection(string host, string connectTo)
    {
        if (connectTo == "::1" && !System.Net.Sockets.Socket.OSSupportsIPv6) return;
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText($"{request.RemoteEndPoint}|{request.LocalEndPoint}");
            return ValueTask.CompletedTask;
        }, o => o.Host = host);
        await using var connection = await server.ConnectAsync(System.Net.IPAddress.Parse(connectTo));
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        string[] seen = (await connection.ReadResponseAsync()).BodyText.Split('|');
        var client = (System.Net.IPEndPoint)connection.Socket.LocalEndPoint!;
        var local = (System.Net.IPEndPoint)connection.Socket.RemoteEndPoint!;
        System.Net.IPEndPoint remote = System.Net.IPEndPoint.Parse(seen[0]), serverSide = System.Net.IPEndPoint.Parse(seen[1]);
        // A dual-mode listener ("*") sees IPv4 peers as IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2).
        Assert.Equal(client.Address.MapToIPv6(), remote.Address.MapToIPv6());
        Assert.Equal(client.Port, remote.Port);
        Assert.Equal(local.Address.MapToIPv6(), serverSide.Address.MapToIPv6());
        Assert.Equal(server.Port, serverSide.Port);
        if (host != "*") Assert.Equal(client.AddressFamily, remote.AddressFamily);
    }

    [Fact]
    public async Task A_pipelined_response_is_sent_before_the_server_waits_for_the_rest_of_the_next_head()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText(request.Path);
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        // The first request whole and the start of the second: the client waits for the first answer
        // before it sends the rest, as a client that pipelines only what it has may.
        await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHo");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal((200, "/first"), (first.StatusCode, first.BodyText));
        await connection.SendAsync("st: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal((200, "/second"), (second.StatusCode, second.BodyText));
    }

    [Fact]
    public async Task A_pipelined_head_that_runs_past_the_end_of_the_receive_buffer_is_read_whole()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.WriteText($"{request.Path} {request.Headers["X-Long"]?.Length ?? 0}");
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        // Together longer than the 4 KiB receive buffer: the second head's start is moved to the buffer's
        // front to make room for its end.
        string pad = new('a', 5000);
        await connection.SendAsync($"GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nX-Long: {pad}\r\n\r\nGET /third HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("/first 0", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal("/second 5000", (await connection.ReadResponseAsync()).BodyText);
        Assert.Equal("/third 0", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_pipelined_chunked_body_whose_size_line_is_cut_by_the_end_of_the_receive_buffer_is_read_whole()
    {
        await using var server = await StartAsync(Echo);
        await using var connection = await server.ConnectAsync();
        const string first = "GET /first HTTP/1.1\r\nHost: x\r\n\r\n";
        string Head(int pad) => $"POST /second HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Pad: {new string('p', pad)}\r\n\r\n";
        // The second head ends one byte before the end of the 4 KiB receive buffer, which the chunk-size
        // line's first byte fills: the buffer grows while the second request does not start at its front.
        int padding = Exchange.ReceiveBufferSize - 1 - first.Length - Head(0).Length;
        await connection.SendAsync(first + Head(padding) + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal((200, "hello world"), (second.StatusCode, second.BodyText));
    }

    [Fact]
    public async Task A_request_pipelined_after_a_close_request_goes_unanswered_without_losing_the_first_response()
    {
        // The client broke RFC 9112 §9.6 by sending after "close": the server lingers instead of closing at
        // once, so the reset that unread bytes would cause cannot destroy the response.
        await using var server = await StartAsync(Hello);
        string all = await server.ExchangeUntilCloseAsync(
            "GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", all);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(all, "HTTP/1.1 200"));
        Assert.EndsWith("Hello, World!", all);
    }

    [Fact]
    public async Task A_stopped_server_lets_go_of_its_port_at_once()
    {
        // The epoll loops hold the listener while they accept: a stop must make them let go, or the
        // port stays taken (SO_REUSEADDR does not allow binding next to a socket still listening).
        int port;
        await using (var first = await StartAsync(Hello))
        {
            port = first.Port;
            Assert.Contains("Hello, World!", await first.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            // Nothing is in flight: the stop must not wait out its (long) drain.
            var drain = TimeSpan.FromMinutes(2);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await first.Server.StopAsync(drain);
            Assert.True(clock.Elapsed < drain / 4, $"StopAsync took {clock.Elapsed.TotalSeconds:F1} s with nothing to drain");
        }
        await using var second = await StartAsync(Hello, o => o.Port = port);
        Assert.Contains("Hello, World!", await second.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    }

    [Fact]
    public async Task Drains_an_unread_body_of_exactly_64_KiB_still_to_come_and_keeps_the_connection()
    {
        // RFC 9112 §9.3: an unread body must be read past before the next request; up to 64 KiB is
        // cheaper to skip than a new connection. The response goes out before the body arrives.
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal(200, first.StatusCode);
        Assert.Null(first.Header("Connection"));
        await connection.SendAsync(new string('b', 65536) + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", second.BodyText);
    }

    [Fact]
    public async Task Closes_rather_than_drain_an_unread_body_one_byte_over_64_KiB()
    {
        // A larger upload nobody reads is not worth receiving: the response says close (RFC 9112 §9.6).
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Closes_after_an_unread_body_whose_100_continue_was_never_sent()
    {
        // RFC 9110 §10.1.1: a client that expects 100-continue may never send the body when the final
        // response comes first, so the server cannot wait to skip it and must close instead.
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Keeps_the_connection_when_an_expect_100_continue_body_arrived_anyway_unread()
    {
        // RFC 9110 §10.1.1 lets a client send the body without waiting for 100 Continue: when all of it
        // is already received, the unread body is skipped and the next request answered.
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", first.BodyText);
        Assert.Null(first.Header("Connection"));
        await connection.SendAsync("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Keeps_the_connection_when_an_expect_100_continue_chunked_body_arrived_anyway_unread()
    {
        // As above for a chunked body (RFC 9112 §7.1): every chunk up to the last is already received.
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", first.BodyText);
        Assert.Null(first.Header("Connection"));
        await connection.SendAsync("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task Skips_an_unread_body_that_arrives_partly_before_the_response_and_partly_after()
    {
        // RFC 9112 §6.3: the body is exactly Content-Length bytes; the part already received counts
        // towards it, and the rest is read past before the next request.
        await using var server = await StartAsync(Hello);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("Hello, World!", first.BodyText);
        await connection.SendAsync("worldGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", second.StatusLine);
        Assert.Equal("Hello, World!", second.BodyText);
    }

    [Fact]
    public async Task Sends_one_100_Continue_however_many_reads_the_body_takes()
    {
        // RFC 9110 §10.1.1: one 100 (Continue) invites the whole body; a second would read as the final response.
        await using var server = await StartAsync(async (request, response) =>
        {
            var part = new byte[4];
            var body = new StringBuilder();
            int n;
            while ((n = await request.Body.ReadAsync(part)) > 0) body.Append(Encoding.ASCII.GetString(part, 0, n));
            response.WriteText(body.ToString());
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nExpect: 100-continue\r\n\r\n");
        Assert.Equal(100, (await connection.ReadResponseAsync()).StatusCode);
        await connection.SendAsync("abcdefgh");
        RawResponse final = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", final.StatusLine);
        Assert.Equal("abcdefgh", final.BodyText);
    }

    [Fact]
    public async Task Sends_no_100_Continue_once_the_response_head_has_gone()
    {
        // A 100 must precede the final response (RFC 9110 §15.2): after the head it would land in the body.
        await using var server = await StartAsync(async (request, response) =>
        {
            await response.FlushAsync();
            byte[] body = await request.ReadBodyAsync(100);
            response.Write(body);
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
        // The client sends the body once it sees the final response begin (it may, RFC 9110 §10.1.1).
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using (var timeout = new CancellationTokenSource(ServerTiming.HangBound))
        {
            while (!received.ToString().Contains("\r\n\r\n"))
            {
                int n = await connection.ReceiveAsync(buffer, timeout.Token);
                Assert.True(n > 0, $"closed before a response head: {received}");
                received.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", received.ToString());
        await connection.SendAsync("data");
        string all = received + await connection.ReadUntilCloseAsync();
        Assert.DoesNotContain("100 Continue", all);
        Assert.EndsWith("\r\n4\r\ndata\r\n0\r\n\r\n", all);
    }

    [Fact]
    public async Task A_handler_that_fails_after_reading_a_body_it_was_sent_100_Continue_for_gets_a_500()
    {
        // The interim 100 is not part of the final response: nothing of that is on the wire yet, so a 500 can still replace it.
        await using var server = await StartAsync(async (request, response) =>
        {
            await request.ReadBodyAsync(100);
            throw new InvalidOperationException("the handler failed after reading");
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        Assert.Equal(100, (await connection.ReadResponseAsync()).StatusCode);
        await connection.SendAsync("data");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task A_chunked_body_the_client_ends_early_fails_the_handlers_read_at_once()
    {
        var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await request.ReadBodyAsync(1 << 20);
                response.WriteText("read");
            }
            catch (Exception ex)
            {
                failure.TrySetResult(ex);
                throw;
            }
        }, o =>
        {
            // Neither timeout may be what ends the read: the end of the stream must.
            o.DataTimeout = TimeSpan.FromMinutes(5);
            o.MinRequestBodyDataRate = 0;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
        await connection.ShutdownSendAsync();
        Exception seen = await failure.Task.WaitAsync(ServerTiming.HangBound);
        Assert.IsType<IOException>(seen);
        Assert.Contains("closed the connection before the request body ended", seen.Message);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_chunked_body_that_stops_arriving_fails_the_handlers_read_without_blaming_the_client()
    {
        var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await request.ReadBodyAsync(1 << 20);
                response.WriteText("read");
            }
            catch (Exception ex)
            {
                failure.TrySetResult(ex);
                throw;
            }
        }, o =>
        {
            o.DataTimeout = TimeSpan.FromSeconds(1);
            o.MinRequestBodyDataRate = 0;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
        // The client keeps the connection open and sends nothing more: the data timeout closes it, and the
        // handler's read fails with the server's reason, not with the client's end of stream.
        Exception seen = await failure.Task.WaitAsync(ServerTiming.HangBound);
        Assert.True(seen is IOException or System.Net.Sockets.SocketException or ObjectDisposedException, seen.ToString());
        Assert.NotEmpty(seen.Message);
        Assert.DoesNotContain("client closed", seen.Message);
    }

    [Fact]
    public async Task A_response_to_a_body_the_client_ended_early_says_the_connection_closes()
    {
        // The body broke off (RFC 9112 §8): the connection cannot carry another request, and the response says so.
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await request.ReadBodyAsync(100);
                response.WriteText("read");
            }
            catch (IOException)
            {
                response.StatusCode = 400;
                response.WriteText("cut short");
            }
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
        await connection.ShutdownSendAsync();
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("cut short", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task The_body_streams_go_one_way_each_and_fail_once_their_exchange_is_over()
    {
        Stream? requestBody = null, responseBody = null;
        string? capabilities = null;
        await using var server = await StartAsync((request, response) =>
        {
            requestBody = request.Body;
            responseBody = response.Body;
            capabilities = $"{request.Body.CanRead} {request.Body.CanSeek} {request.Body.CanWrite} {response.Body.CanRead} {response.Body.CanSeek} {response.Body.CanWrite}";
            response.WriteText("ok");
            return ValueTask.CompletedTask;
        });
        Assert.Contains("ok", await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        Assert.Equal("True False False False False True", capabilities);
        // The connection has let go of its exchange once the server no longer counts it.
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound));
        // A stream kept past its exchange must not reach whichever connection takes the exchange up next.
        var read = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await requestBody!.ReadExactlyAsync(new byte[1]));
        Assert.Contains("the request has been answered", read.Message);
        var write = Assert.Throws<ObjectDisposedException>(() => responseBody!.Write("late"u8));
        Assert.Contains("the response has been sent", write.Message);
    }

    [Fact]
    public async Task A_synchronous_Flush_of_the_response_body_sends_at_once_even_inside_the_handler()
    {
        using var clientSaw = new ManualResetEventSlim();
        await using var server = await StartAsync((request, response) =>
        {
            response.Body.Write("first"u8);
            response.Body.Flush();
            // Blocks on purpose: the client must see the first part while the handler is still running.
            response.Body.Write(clientSaw.Wait(ServerTiming.HangBound) ? "second"u8 : "late"u8);
            return ValueTask.CompletedTask;
        });
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using (var timeout = new CancellationTokenSource(ServerTiming.HangBound))
        {
            while (!received.ToString().Contains("first"))
            {
                int n = await connection.ReceiveAsync(buffer, timeout.Token);
                Assert.True(n > 0, $"closed before the flushed part: {received}");
                received.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
        clientSaw.Set();
        string all = received + await connection.ReadUntilCloseAsync();
        Assert.Contains("\r\n5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n", all);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollServerExchangeTests : ServerExchangeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

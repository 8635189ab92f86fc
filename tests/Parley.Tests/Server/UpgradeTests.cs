using System.Text;
using Parley.Server;
using Parley.Tests.Hardening;

namespace Parley.Tests.Server;

/// <summary>
/// RFC 9110 §7.8: a handler answers 101 Switching Protocols and gets the connection as a duplex stream, with
/// the bytes already received after the request head first; the engine then stays out of the way until the
/// stream is disposed. Run on both transports and over TLS.
/// </summary>
public class UpgradeTests : TransportTests
{
    private const string UpgradeRequest = "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

    // Echoes every byte until the client ends its side, then disposes the stream.
    private static async ValueTask EchoAsync(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("X-Echo", "yes");
        await using Stream stream = await response.SwitchProtocolsAsync("echo");
        byte[] buffer = new byte[256];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) await stream.WriteAsync(buffer.AsMemory(0, n));
    }

    [Fact]
    public async Task Switching_protocols_sends_101_and_hands_over_the_connection_with_early_bytes_first()
    {
        await using var server = await StartAsync(EchoAsync);
        await using RawConnection connection = await server.ConnectAsync();
        // The first bytes of the new protocol travel with the request head, in the same write.
        await connection.SendAsync(UpgradeRequest + "early");
        RawResponse head = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 101 Switching Protocols", head.StatusLine);
        Assert.Equal("upgrade", head.Header("Connection"));
        Assert.Equal("echo", head.Header("Upgrade"));
        Assert.Equal("yes", head.Header("X-Echo"));
        Assert.Null(head.Header("Content-Length"));
        Assert.Null(head.Header("Keep-Alive"));
        Assert.Equal("early", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(5)));

        await connection.SendAsync("and more");
        Assert.Equal("and more", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(8)));

        // The client ends its side: the handler's read returns 0, it disposes the stream, the connection closes.
        await connection.ShutdownSendAsync();
        Assert.Equal("", await connection.ReadUntilCloseAsync());
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_pipelined_response_before_the_upgrade_is_sent_first()
    {
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/echo") return EchoAsync(request, response);
            response.WriteText("before");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + UpgradeRequest + "ping");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("before", first.BodyText);
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(101, second.StatusCode);
        Assert.Equal("ping", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(4)));
    }

    [Theory]
    // RFC 9110 §7.8: never to a protocol the client did not offer; an HTTP/1.0 request's Upgrade is ignored;
    // Upgrade without the "upgrade" connection option is not a request to switch.
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n\r\n")]
    public async Task Switching_to_a_protocol_the_request_does_not_offer_is_refused(string request)
    {
        string? refusal = null;
        bool offered = true;
        await using var server = await StartAsync(async (req, response) =>
        {
            offered = req.IsUpgradeRequest && req.Headers["Upgrade"] == "echo";
            try
            {
                await response.SwitchProtocolsAsync("echo");
            }
            catch (InvalidOperationException ex)
            {
                refusal = ex.Message;
            }
            response.WriteText("still HTTP");
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(request);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("still HTTP", response.BodyText);
        Assert.False(offered);
        Assert.Contains("does not offer an upgrade to 'echo'", refusal);
    }

    [Fact]
    public async Task A_1xx_cannot_be_set_as_the_final_status()
    {
        string? refusal = null;
        await using var server = await StartAsync((request, response) =>
        {
            try
            {
                response.StatusCode = 101;
            }
            catch (ArgumentOutOfRangeException ex)
            {
                refusal = ex.Message;
            }
            response.WriteText("not switched");
            return ValueTask.CompletedTask;
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest);
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Contains("SwitchProtocolsAsync", refusal);
    }

    [Fact]
    public async Task The_request_body_must_be_read_before_switching()
    {
        string? refusal = null;
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await response.SwitchProtocolsAsync("echo");
            }
            catch (InvalidOperationException ex)
            {
                refusal = ex.Message;
            }
            response.WriteText("no");
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 100\r\n\r\nabc");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("no", response.BodyText);
        Assert.Contains("request body must be read", refusal);
    }

    [Fact]
    public async Task The_stream_may_outlive_the_handler_and_the_connection_closes_when_it_is_disposed()
    {
        var handed = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) => handed.SetResult(await response.SwitchProtocolsAsync("echo")));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        Stream stream = await handed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The handler has returned; the stream still works both ways.
        await connection.SendAsync("x");
        byte[] one = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(one));
        await stream.WriteAsync("later"u8.ToArray());
        Assert.Equal("later", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(5)));
        Assert.Equal(1, server.Server.ConnectionCount);
        await stream.DisposeAsync();
        Assert.Equal("", await connection.ReadUntilCloseAsync());
    }

    [Fact]
    public async Task An_upgraded_connection_counts_against_the_connection_limit()
    {
        var handed = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/echo") handed.SetResult(await response.SwitchProtocolsAsync("echo"));
            else response.WriteText("served");
        }, options => options.MaxConcurrentConnections = 1);
        await using RawConnection upgraded = await server.ConnectAsync();
        await upgraded.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await upgraded.ReadResponseAsync()).StatusCode);
        Stream stream = await handed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Over the limit: refused (503 in plain HTTP; a TLS listener closes without a word).
        if (!OverTls)
        {
            string refused = await server.ExchangeUntilCloseAsync("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 503", refused);
        }
        else
        {
            await Assert.ThrowsAnyAsync<Exception>(server.ConnectAsync);
        }

        await stream.DisposeAsync();
        Assert.Equal("", await upgraded.ReadUntilCloseAsync());
        // The server closes the socket before it lets go of the connection's slot: a connection opened as the
        // client sees the close may still be refused. Once the slot is free, the next one is served.
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"the server still counts {server.Server.ConnectionCount} connection(s)");
        await using RawConnection next = await server.ConnectAsync();
        await next.SendAsync("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse served = await next.ReadResponseAsync();
        Assert.Equal(200, served.StatusCode);
        Assert.Equal("served", served.BodyText);
    }

    [Fact]
    public async Task A_graceful_stop_closes_an_upgraded_connection()
    {
        var readEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StartAsync(async (request, response) =>
        {
            await using Stream stream = await response.SwitchProtocolsAsync("echo");
            started.SetResult();
            try
            {
                while (await stream.ReadAsync(new byte[16]) > 0)
                {
                }
            }
            catch (IOException)
            {
            }
            readEnded.SetResult();
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // A drain period far longer than the test's wait: the stop must not wait for it.
        await server.Server.StopAsync(TimeSpan.FromMinutes(10)).WaitAsync(TimeSpan.FromSeconds(60));
        await readEnded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await connection.IsClosedByServerAsync());
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    // Starts an upgraded exchange on a new connection; the handler gets the stream.
    private async Task<(TestServer Server, RawConnection Connection)> UpgradedAsync(Func<Stream, Task> handler, string early = "")
    {
        TestServer server = await StartAsync(async (request, response) =>
        {
            await using Stream stream = await response.SwitchProtocolsAsync("echo");
            await handler(stream);
        });
        RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(UpgradeRequest + early);
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        return (server, connection);
    }

    [Fact]
    public async Task Early_bytes_read_in_small_pieces_come_out_whole_and_in_order()
    {
        const string early = "0123456789abcdef";
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        (TestServer server, RawConnection connection) = await UpgradedAsync(async stream =>
        {
            var all = new List<byte>();
            byte[] small = new byte[3];
            int n = await stream.ReadAsync(small);
            all.AddRange(small.AsSpan(0, n));
            byte[] large = new byte[256];
            while (all.Count < early.Length && (n = await stream.ReadAsync(large)) > 0) all.AddRange(large.AsSpan(0, n));
            got.SetResult(Encoding.ASCII.GetString(all.ToArray()));
        }, early);
        await using (server)
        await using (connection)
        {
            Assert.Equal(early, await got.Task.WaitAsync(ServerTiming.HangBound));
        }
    }

    [Fact]
    public async Task After_the_stream_is_disposed_reads_and_writes_throw_ObjectDisposedException()
    {
        var outcomes = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        (TestServer server, RawConnection connection) = await UpgradedAsync(async stream =>
        {
            await stream.DisposeAsync();
            var seen = new List<string>();
            async Task TryAsync(Func<Task> action)
            {
                try
                {
                    await action();
                    seen.Add("none");
                }
                catch (Exception ex)
                {
                    seen.Add(ex.GetType().Name);
                }
            }
            await TryAsync(async () => Assert.True(await stream.ReadAsync(new byte[16]) >= 0));
            await TryAsync(async () => await stream.WriteAsync(new byte[16]));
            await TryAsync(() =>
            {
                stream.Write(new byte[16]);
                return Task.CompletedTask;
            });
            outcomes.SetResult(string.Join(", ", seen));
        }, early: "unread");
        await using (server)
        await using (connection)
        {
            Assert.Equal("ObjectDisposedException, ObjectDisposedException, ObjectDisposedException", await outcomes.Task.WaitAsync(ServerTiming.HangBound));
        }
    }

    [Fact]
    public async Task A_zero_byte_read_waits_for_data_without_taking_it_and_a_canceled_one_throws_at_once()
    {
        var waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        (TestServer server, RawConnection connection) = await UpgradedAsync(async stream =>
        {
            ValueTask<int> canceled = stream.ReadAsync(Memory<byte>.Empty, new CancellationToken(true));
            if (!canceled.IsCanceled)
            {
                waiting.SetResult($"a canceled zero-byte read did not throw at once (completed: {canceled.IsCompleted})");
                return;
            }
            ValueTask<int> wait = stream.ReadAsync(Memory<byte>.Empty);
            waiting.SetResult(wait.IsCompleted ? "completed before any data was sent" : "waiting");
            int zero = await wait;
            byte[] one = new byte[1];
            int n = await stream.ReadAsync(one);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{zero} then {n}:{(char)one[0]}"));
        });
        await using (server)
        await using (connection)
        {
            Assert.Equal("waiting", await waiting.Task.WaitAsync(ServerTiming.HangBound));
            await connection.SendAsync("x");
            Assert.Equal("0 then 1:x", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(10)));
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(0)]
    public async Task A_read_waiting_when_the_client_resets_fails_with_IOException_and_so_do_later_writes(int readSize)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        (TestServer server, RawConnection connection) = await UpgradedAsync(async stream =>
        {
            ValueTask<int> read = stream.ReadAsync(new byte[readSize]);
            started.SetResult();
            var seen = new List<string>();
            try
            {
                seen.Add($"read {await read}");
            }
            catch (Exception ex)
            {
                // The Socket transport's own failures are SocketExceptions, which the stream reports as IOExceptions.
                bool wrapped = OverTls || Transport != TransportKind.Sockets || ex.Message.StartsWith("the connection was closed: ", StringComparison.Ordinal);
                seen.Add(ex is IOException && wrapped ? "IOException" : ex.ToString());
            }
            try
            {
                await stream.WriteAsync(new byte[16]);
                seen.Add("written");
            }
            catch (Exception ex)
            {
                seen.Add(ex is IOException ? "IOException" : ex.ToString());
            }
            try
            {
                stream.Write(new byte[16]);
                seen.Add("written");
            }
            catch (Exception ex)
            {
                seen.Add(ex is IOException ? "IOException" : ex.ToString());
            }
            outcome.SetResult(string.Join(", ", seen));
        });
        await using (server)
        await using (connection)
        {
            await started.Task.WaitAsync(ServerTiming.HangBound);
            Hostile.Reset(connection.Socket);
            string seen = await outcome.Task.WaitAsync(ServerTiming.HangBound);
            // A waiting zero-byte read may end with 0 at a reset (readable, nothing to read; the next read or
            // write reports the reset) or fail with it, depending on the transport and on timing.
            if (readSize == 0 && seen.StartsWith("read 0, ", StringComparison.Ordinal)) seen = "IOException" + seen["read 0".Length..];
            Assert.Equal("IOException, IOException, IOException", seen);
        }
    }

    [Fact]
    public async Task A_write_larger_than_the_buffers_waits_for_the_client_and_fails_with_IOException_when_it_resets()
    {
        var pending = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        (TestServer server, RawConnection connection) = await UpgradedAsync(async stream =>
        {
            // Far more than the socket buffers on both sides hold while the client reads nothing.
            ValueTask write = stream.WriteAsync(new byte[32 * 1024 * 1024]);
            pending.SetResult(!write.IsCompleted);
            try
            {
                await write;
                outcome.SetResult("written");
            }
            catch (Exception ex)
            {
                outcome.SetResult(ex is IOException ? "IOException" : ex.ToString());
            }
        });
        await using (server)
        await using (connection)
        {
            Assert.True(await pending.Task.WaitAsync(ServerTiming.HangBound), "the write completed before the client read anything");
            Hostile.Reset(connection.Socket);
            Assert.Equal("IOException", await outcome.Task.WaitAsync(ServerTiming.HangBound));
        }
    }

    [Fact]
    public async Task Synchronous_reads_and_writes_carry_the_bytes_and_the_stream_cannot_seek()
    {
        var seekable = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Off the handler's thread: on the epoll transport that is the loop's, which a blocking read would hold.
        (TestServer server, RawConnection connection) = await UpgradedAsync(stream => Task.Run(() =>
        {
            seekable.SetResult(stream.CanSeek);
            byte[] buffer = new byte[64];
            int n = stream.Read(buffer, 0, buffer.Length);
            stream.Write(buffer, 0, n);
        }));
        await using (server)
        await using (connection)
        {
            Assert.False(await seekable.Task.WaitAsync(ServerTiming.HangBound));
            await connection.SendAsync("sync");
            Assert.Equal("sync", Encoding.ASCII.GetString(await connection.ReadExactlyAsync(4)));
        }
    }
}

public class EpollUpgradeTests : UpgradeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

public class TlsUpgradeTests : UpgradeTests
{
    protected override bool OverTls => true;
}

public class EpollTlsUpgradeTests : UpgradeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;

    protected override bool OverTls => true;
}

using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The edges around a WebSocket session and a protocol switch, on the wire with a raw peer: the message size
/// limit's exact bound, what Abort and Dispose leave behind, a stop after the handler's own close, the 426
/// answer, and the misuses SwitchProtocolsAsync and AcceptWebSocketAsync refuse.
/// </summary>
public class WebSocketEdgeTests : TransportTests
{
    private const string Handshake = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // A masked (all-zero mask) binary frame with FIN.
    private static byte[] ClientFrame(int length)
    {
        var frame = new List<byte> { 0x82 };
        if (length < 126) frame.Add((byte)(0x80 | length));
        else
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        frame.AddRange(new byte[4 + length]);
        return [.. frame];
    }

    private static async Task<RawConnection> OpenAsync(TestServer server)
    {
        RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Handshake);
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        return connection;
    }

    [Fact]
    public async Task The_limit_admits_messages_of_exactly_its_size_and_counts_each_message_afresh()
    {
        var state = new TaskCompletionSource<(Exception, WebSocketState)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            // Not disposed by the handler: the server's own abort closes the connection.
            WebSocket socket = (await response.AcceptWebSocketAsync(new WebSocketAcceptOptions { MaxMessageSize = 1000, KeepAliveInterval = TimeSpan.Zero }))!;
            byte[] buffer = new byte[4096];
            try
            {
                while (true)
                {
                    ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), default);
                    await socket.SendAsync(BitConverter.GetBytes(received.Count), WebSocketMessageType.Binary, true, default);
                }
            }
            catch (WebSocketException ex)
            {
                state.TrySetResult((ex, socket.State));
            }
            await release.Task;
        });
        try
        {
            await using RawConnection connection = await OpenAsync(server);
            for (int i = 0; i < 2; i++)
            {
                await connection.SendAsync(ClientFrame(1000));
                byte[] echo = await connection.ReadExactlyAsync(6, Bound);
                Assert.Equal(1000, BitConverter.ToInt32(echo, 2));
            }
            await connection.SendAsync(ClientFrame(1001));
            byte[] closeHead = await connection.ReadExactlyAsync(2, Bound);
            Assert.Equal(0x88, closeHead[0]);
            byte[] close = await connection.ReadExactlyAsync(closeHead[1], Bound);
            Assert.Equal(1009, BinaryPrimitives.ReadUInt16BigEndian(close));
            Assert.Equal("message larger than 1000 bytes", Encoding.UTF8.GetString(close, 2, close.Length - 2));
            // RFC 6455 §7.1.1: the server closes the TCP connection, while the handler still holds the socket.
            Assert.True(await connection.IsClosedByServerAsync(Bound));
            (Exception ended, WebSocketState after) = await state.Task.WaitAsync(Bound);
            Assert.Contains("1009", ended.Message);
            Assert.Equal(WebSocketState.Aborted, after);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Disposing_the_socket_closes_it_and_the_connection()
    {
        var state = new TaskCompletionSource<WebSocketState>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            WebSocket socket = (await response.AcceptWebSocketAsync())!;
            socket.Dispose();
            state.TrySetResult(socket.State);
        });
        await using RawConnection connection = await OpenAsync(server);
        Assert.Equal(WebSocketState.Closed, await state.Task.WaitAsync(Bound));
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task A_stop_after_the_handler_sent_its_close_ends_the_connection_without_waiting_for_the_drain()
    {
        var closeSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TestServer server = await StartAsync(async (request, response) =>
        {
            using WebSocket socket = (await response.AcceptWebSocketAsync())!;
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "handler done", default);
            closeSent.TrySetResult();
            try
            {
                // The peer never answers: only the stop ends this receive.
                await socket.ReceiveAsync(new byte[16].AsMemory(), default);
            }
            catch (WebSocketException)
            {
            }
        });
        await using RawConnection connection = await OpenAsync(server);
        await closeSent.Task.WaitAsync(Bound);
        // The 1001 cannot be sent after the handler's close: the server closes the connection instead.
        await server.Server.StopAsync(TimeSpan.FromMinutes(10)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task An_upgrade_to_another_protocol_gets_426_naming_websocket()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            Assert.Null(await response.AcceptWebSocketAsync());
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(426, response.StatusCode);
        Assert.Equal("websocket", response.Header("Upgrade"));
        Assert.Null(response.Header("Sec-WebSocket-Version"));
        Assert.Equal("this resource speaks WebSocket only: send Connection: Upgrade and Upgrade: websocket\n", response.BodyText);
    }

    // Runs the misuse in a handler on an upgrade request and returns what it threw.
    private async Task<Exception> MisuseAsync(string upgrade, Func<HttpResponse, Task> misuse)
    {
        var thrown = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            try
            {
                await misuse(response);
                thrown.TrySetResult(new Exception("nothing thrown"));
            }
            catch (Exception ex)
            {
                thrown.TrySetResult(ex);
                throw;
            }
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync($"GET /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: {upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        return await thrown.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task An_empty_protocol_name_is_an_argument_error()
    {
        Exception ex = await MisuseAsync("echo", async response => await response.SwitchProtocolsAsync(""));
        Assert.Equal(typeof(ArgumentException), ex.GetType());
    }

    [Fact]
    public async Task Switching_twice_is_refused()
    {
        Exception ex = await MisuseAsync("echo", async response =>
        {
            await using Stream stream = await response.SwitchProtocolsAsync("echo");
            await response.SwitchProtocolsAsync("echo");
        });
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Equal("the connection has already switched protocols", ex.Message);
    }

    [Fact]
    public async Task Switching_after_the_head_was_sent_is_refused()
    {
        Exception ex = await MisuseAsync("echo", async response =>
        {
            await response.FlushAsync();
            await response.SwitchProtocolsAsync("echo");
        });
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Equal("the response head has already been written", ex.Message);

        ex = await MisuseAsync("websocket", async response =>
        {
            await response.FlushAsync();
            await response.AcceptWebSocketAsync();
        });
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Equal("the response head has already been written", ex.Message);
    }

    [Fact]
    public async Task Switching_after_body_bytes_were_written_is_refused()
    {
        Exception ex = await MisuseAsync("echo", async response =>
        {
            response.Write("x"u8);
            await response.SwitchProtocolsAsync("echo");
        });
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Equal("a 101 response has no body, but body bytes were written", ex.Message);
    }

    [Fact]
    public async Task The_limit_also_holds_for_receives_into_an_array_segment()
    {
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            using WebSocket socket = (await response.AcceptWebSocketAsync(new WebSocketAcceptOptions { MaxMessageSize = 10, KeepAliveInterval = TimeSpan.Zero }))!;
            try
            {
                await socket.ReceiveAsync(new ArraySegment<byte>(new byte[100]), default);
                ended.TrySetResult(null);
            }
            catch (WebSocketException ex)
            {
                ended.TrySetResult(ex);
            }
        });
        await using RawConnection connection = await OpenAsync(server);
        await connection.SendAsync(ClientFrame(11));
        Exception? ex = await ended.Task.WaitAsync(Bound);
        Assert.NotNull(ex);
        Assert.Contains("1009", ex.Message);
    }

    [Fact]
    public async Task Disposing_the_switched_stream_ends_its_pending_read()
    {
        var readEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async (request, response) =>
        {
            Stream stream = await response.SwitchProtocolsAsync("echo");
            Task<int> read = stream.ReadAsync(new byte[16]).AsTask();
            stream.Dispose();
            try
            {
                await read;
            }
            catch (Exception)
            {
                // Ended by the dispose: either way the read is over.
            }
            readEnded.TrySetResult();
        });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
        Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
        // The peer stays silent: only the dispose can end the read.
        await readEnded.Task.WaitAsync(Bound);
        Assert.True(await connection.IsClosedByServerAsync(Bound));
    }

    [Fact]
    public async Task A_switched_exchange_is_logged_as_a_101_with_its_request_line()
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-access-{Guid.NewGuid():N}.log");
        try
        {
            using (var writer = new AccessLogWriter(AccessLogFormat.Common, path))
            {
                await using TestServer server = await StartAsync(async (request, response) =>
                {
                    await using Stream stream = await response.SwitchProtocolsAsync("echo");
                }, options => options.AccessLogWriter = writer);
                await using RawConnection connection = await server.ConnectAsync();
                await connection.SendAsync("GET /echo?x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
                Assert.Equal(101, (await connection.ReadResponseAsync()).StatusCode);
                Assert.True(await connection.IsClosedByServerAsync(Bound));
            }
            string[] lines = File.ReadAllText(path, Encoding.Latin1).Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.Matches(@"^127\.0\.0\.1 - - \[[^\]]+\] ""GET /echo\?x HTTP/1\.1"" 101 -$", lines[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task After_the_stop_close_the_server_still_reads_what_the_peer_sends_before_its_close()
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        TestServer server = await StartAsync(async (request, response) =>
        {
            using WebSocket socket = (await response.AcceptWebSocketAsync(new WebSocketAcceptOptions { KeepAliveInterval = TimeSpan.Zero }))!;
            byte[] buffer = new byte[64];
            try
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), default);
                seen.TrySetResult(received.MessageType == WebSocketMessageType.Text ? Encoding.UTF8.GetString(buffer, 0, received.Count) : received.MessageType.ToString());
            }
            catch (Exception ex)
            {
                seen.TrySetResult(ex.GetType().Name);
            }
        });
        try
        {
            await using RawConnection connection = await OpenAsync(server);
            Task stop = server.Server.StopAsync(TimeSpan.FromMinutes(10));
            byte[] closeHead = await connection.ReadExactlyAsync(2, Bound);
            Assert.Equal(0x88, closeHead[0]);
            await connection.ReadExactlyAsync(closeHead[1], Bound);
            // RFC 6455 §5.5.1: the server's close does not end the peer's sending; the connection stays up for it.
            await connection.SendAsync([0x81, 0x84, 0, 0, 0, 0, .. "late"u8]);
            Assert.Equal("late", await seen.Task.WaitAsync(Bound));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}

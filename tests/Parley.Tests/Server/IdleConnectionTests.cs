using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// An idle keep-alive connection holds no receive buffer and no exchange (issue 5's 1 KiB per idle connection,
/// issue 18's idle TLS connections): they go back to their pools when the connection starts to wait, on every
/// transport, over TLS too. What SslStream itself holds under an idle TLS connection is checked by
/// <c>IdleTlsConnectionTests</c>.
/// </summary>
public class IdleConnectionTests : TransportTests
{
    [Fact]
    public async Task An_idle_keep_alive_connection_holds_no_buffer_and_no_exchange()
    {
        await using TestServer server = await StartAsync(static (request, response) =>
        {
            response.WriteText("Hello, World!", "text/plain");
            return ValueTask.CompletedTask;
        });
        await using RawConnection client = await server.ConnectAsync();
        for (int i = 0; i < 2; i++)
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal("Hello, World!", (await client.ReadResponseAsync()).BodyText);
        }

        // The server side turns idle just after the client has its answer: look again (bounded) until it has.
        HttpConnection connection = Assert.Single(server.Server.OpenConnections.ToArray().OfType<HttpConnection>());
        long deadline = Environment.TickCount64 + (long)ServerTiming.HangBound.TotalMilliseconds;
        while (connection.StateName != "idle-keepalive" && Environment.TickCount64 < deadline) await Task.Delay(10);
        Assert.Equal("idle-keepalive", connection.StateName);
        Assert.False(connection.HoldsBuffers);

        // And it serves the next request as before.
        await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task A_connection_that_ends_gives_its_exchange_back_to_the_pool_with_its_receive_buffer()
    {
        await using TestServer server = await StartAsync(static (request, response) =>
        {
            response.WriteText("bye", "text/plain");
            return ValueTask.CompletedTask;
        });
        await using (RawConnection client = await server.ConnectAsync())
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Assert.Equal("bye", (await client.ReadResponseAsync()).BodyText);
        }
        // The connection's last act is to give back what it holds, then its slot: wait (bounded) for the slot.
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"the server still counts {server.Server.ConnectionCount} connections");

        // The server's only exchange is back in the pool, and with it the receive buffer for the next connection
        // (a new exchange would hold none).
        Exchange exchange = server.Server.Exchanges.Rent();
        Assert.True(exchange.HoldsReceiveBuffer);
        server.Server.Exchanges.Return(exchange);
    }
}

public class EpollIdleConnectionTests : IdleConnectionTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

public class TlsIdleConnectionTests : IdleConnectionTests
{
    protected override bool OverTls => true;
}

public class TlsEpollIdleConnectionTests : IdleConnectionTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
    protected override bool OverTls => true;
}

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

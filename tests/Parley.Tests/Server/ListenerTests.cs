using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// Who may listen on a port: a port in use is never shared by accident (a second server fails naming the
/// address), sharing happens only with <see cref="HttpServerOptions.ReusePort"/>, and a restarted server
/// binds while its old connections sit in TIME_WAIT. On IPv4, IPv6 and the dual-mode wildcard.
/// </summary>
public class ListenerTests : TransportTests
{
    private static RequestHandler Named(string name) => (request, response) =>
    {
        response.WriteText(name);
        return ValueTask.CompletedTask;
    };

    private Task<TestServer> StartOnAsync(string host, int port, string name, bool reusePort = false) =>
        StartAsync(Named(name), options =>
        {
            options.Host = host;
            options.Port = port;
            options.ReusePort = reusePort;
        });

    private static IPAddress ConnectAddress(string host) => host == "::1" ? IPAddress.IPv6Loopback : IPAddress.Loopback;

    private static async Task<string> GetBodyAsync(IPAddress address, int port)
    {
        await using RawConnection connection = await RawConnection.OpenAsync(new IPEndPoint(address, port));
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        // Closing only after the server has: its side of the connection then enters TIME_WAIT, which the
        // restart test needs (a client that closed first would take TIME_WAIT itself).
        Assert.True(await connection.IsClosedByServerAsync(), "the server kept a Connection: close connection open");
        return response.BodyText;
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1:")]
    [InlineData("::1", "[::1]:")]
    [InlineData("*", "[::]:")]
    public async Task A_second_server_on_a_port_in_use_fails_naming_the_address(string host, string described)
    {
        await using TestServer first = await StartOnAsync(host, 0, "first");
        int port = first.Port;

        IOException error = await Assert.ThrowsAsync<IOException>(() => StartOnAsync(host, port, "second"));
        Assert.Equal($"cannot listen on {described}{port}: address already in use", error.Message);
        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
        // Every connection still reaches the first server.
        for (int i = 0; i < 8; i++) Assert.Equal("first", await GetBodyAsync(ConnectAddress(host), port));
    }

    [Fact]
    public async Task An_IPv4_server_cannot_take_a_port_the_dual_mode_wildcard_holds()
    {
        await using TestServer wildcard = await StartOnAsync("*", 0, "wildcard");
        IOException error = await Assert.ThrowsAsync<IOException>(() => StartOnAsync("127.0.0.1", wildcard.Port, "second"));
        Assert.Contains("address already in use", error.Message);
        Assert.Equal("wildcard", await GetBodyAsync(IPAddress.Loopback, wildcard.Port));
    }

    [Fact]
    public async Task A_server_that_asked_for_ReusePort_cannot_share_with_one_that_did_not()
    {
        await using TestServer first = await StartOnAsync("127.0.0.1", 0, "first");
        await Assert.ThrowsAsync<IOException>(() => StartOnAsync("127.0.0.1", first.Port, "second", reusePort: true));

        await using TestServer sharing = await StartOnAsync("127.0.0.1", 0, "sharing", reusePort: true);
        await Assert.ThrowsAsync<IOException>(() => StartOnAsync("127.0.0.1", sharing.Port, "second"));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("*")]
    public async Task Servers_that_ask_for_ReusePort_share_the_port_and_the_kernel_spreads_connections(string host)
    {
        await using TestServer a = await StartOnAsync(host, 0, "a", reusePort: true);
        await using TestServer b = await StartOnAsync(host, a.Port, "b", reusePort: true);

        // The kernel picks a listener by a hash of each connection's addresses and ports: new client
        // ports reach both within a few connections (the chance that 200 all land on one is 2^-199).
        var seen = new HashSet<string>();
        for (int i = 0; i < 200 && seen.Count < 2; i++) seen.Add(await GetBodyAsync(ConnectAddress(host), a.Port));
        Assert.Equal(["a", "b"], seen.Order());
    }

    [Fact]
    public async Task A_restarted_server_binds_while_its_old_connections_sit_in_TIME_WAIT()
    {
        int port;
        await using (TestServer old = await StartOnAsync("127.0.0.1", 0, "old"))
        {
            port = old.Port;
            // Connection: close makes the server close first, so its side of the connection enters TIME_WAIT.
            Assert.Equal("old", await GetBodyAsync(IPAddress.Loopback, port));
        }
        Assert.True(HasTimeWaitOn(port), $"no TIME_WAIT connection on local port {port}");

        await using TestServer restarted = await StartOnAsync("127.0.0.1", port, "restarted");
        Assert.Equal("restarted", await GetBodyAsync(IPAddress.Loopback, port));
    }

    /// <summary>Reads /proc/net/tcp: a row whose local port is <paramref name="port"/> in state 06 (TIME_WAIT).</summary>
    private static bool HasTimeWaitOn(int port)
    {
        string localPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns[1].EndsWith(localPort, StringComparison.Ordinal) && columns[3] == "06") return true;
        }
        return false;
    }
}

/// <summary>The same on the epoll transport (its loops accept with accept4 on the shared listener).</summary>
public class EpollListenerTests : ListenerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

using System.Net;
using System.Net.Sockets;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Interop;

/// <summary>
/// HAProxy 2.6 (Debian's <c>haproxy</c>) in front of a Parley listener with PROXY protocol: <c>send-proxy</c>
/// (version 1, TCP mode) and <c>send-proxy-v2</c> (version 2, HTTP mode). The client connects from
/// 127.0.0.2, HAProxy from 127.0.0.1: the handler sees the client's address and port, with HAProxy as the peer.
/// </summary>
public class HaproxyProxyProtocolTests : TransportTests
{
    private static readonly RequestHandler Describe = (request, response) =>
    {
        response.WriteText($"remote={request.RemoteEndPoint} peer={request.PeerEndPoint?.Address} version={request.ProxyProtocol?.Version}");
        return ValueTask.CompletedTask;
    };

    [Fact]
    public async Task The_client_address_reaches_the_handler_through_send_proxy_and_send_proxy_v2()
    {
        await using TestServer parley = await StartAsync(Describe, options =>
        {
            options.Listeners.Add(ListenerOptions.Http("127.0.0.1", 0));
            options.Listeners[0].ProxyProtocol = true;
        });
        string root = Path.Combine(Path.GetTempPath(), $"parley-haproxy-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        int version1Port = Loopback.FreePort(), version2Port = Loopback.FreePort();
        string config = $"""
            global
                maxconn 64
            defaults
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend v1
                bind 127.0.0.1:{version1Port}
                mode tcp
                default_backend parley_v1
            backend parley_v1
                mode tcp
                server parley 127.0.0.1:{parley.Port} send-proxy
            frontend v2
                bind 127.0.0.1:{version2Port}
                mode http
                default_backend parley_v2
            backend parley_v2
                mode http
                server parley 127.0.0.1:{parley.Port} send-proxy-v2
            """;
        string configPath = Path.Combine(root, "haproxy.cfg");
        // HAProxy refuses a configuration whose last line has no LF.
        await File.WriteAllTextAsync(configPath, config + "\n");
        try
        {
            await using RunningTool haproxy = ExternalTool.Start("/usr/sbin/haproxy", ["-db", "-f", configPath]);
            await haproxy.WaitForPortAsync(version1Port, TimeSpan.FromSeconds(15));
            await haproxy.WaitForPortAsync(version2Port, TimeSpan.FromSeconds(15));
            foreach ((int port, int version) in new[] { (version1Port, 1), (version2Port, 2) })
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                await using RawConnection connection = RawConnection.FromConnected(client);
                await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
                Assert.Equal(200, response.StatusCode);
                Assert.Equal($"remote={client.LocalEndPoint} peer=127.0.0.1 version={version}", response.BodyText);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

/// <summary>The same test over the epoll transport.</summary>
public class EpollHaproxyProxyProtocolTests : HaproxyProxyProtocolTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

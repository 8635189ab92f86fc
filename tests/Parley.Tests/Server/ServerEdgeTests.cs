using System.Net;
using System.Text.Json;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// Edges of the server's own answers over raw sockets: the trailer collection a handler fills, the HTTPS
/// redirect of a request without Host or in absolute form, the health paths' checks and 405, and trusted
/// proxy networks written IPv4-mapped or IPv6.
/// </summary>
public class ServerEdgeTests
{
    private static string Catch(Action action)
    {
        try
        {
            action();
            return "none";
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name}({(ex as ArgumentException)?.ParamName})";
        }
    }

    [Fact]
    public async Task Trailers_set_replaces_add_keeps_the_indexer_removes_with_null_and_null_names_or_values_are_refused()
    {
        string? seen = null;
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            ResponseTrailers trailers = response.Trailers;
            trailers.Add("X-A", "1");
            trailers.Add("x-a", "2");
            trailers.Add("X-B", "3");
            var notes = new List<string> { $"contains={trailers.Contains("X-A")},{trailers.Contains("x-b")},{trailers.Contains("X-C")}" };
            trailers.Set("X-A", "4");
            trailers["X-B"] = null;
            trailers["X-C"] = "5";
            notes.Add($"first={trailers["x-c"]},{trailers["X-B"] ?? "null"}");
            notes.Add(string.Join(";", trailers.Select(line => $"{line.Key}={line.Value}")));
            notes.Add($"{Catch(() => trailers.Add(null!, "v"))} {Catch(() => trailers.Add("X-D", null!))} {Catch(() => trailers.Set("X-D", null!))}");
            seen = string.Join(" | ", notes);
            response.Write("body"u8);
            return ValueTask.CompletedTask;
        });
        string raw = await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(
            "contains=True,True,False | first=5,null | X-A=4;X-C=5 | ArgumentNullException(name) ArgumentNullException(value) ArgumentNullException(value)",
            seen);
        Assert.EndsWith("\r\n\r\n4\r\nbody\r\n0\r\nX-A: 4\r\nX-C: 5\r\n\r\n", raw);
    }

    private static Task<TestServer> StartRedirectingAsync(string host) =>
        TestServer.StartAsync((_, response) =>
        {
            response.WriteText("not redirected");
            return default;
        }, options => options.Listeners.Add(ListenerOptions.RedirectToHttps(host, 0, 8443)));

    [Theory]
    [InlineData("127.0.0.1", "https://127.0.0.1:8443/p?q=1")]
    [InlineData("::1", "https://[::1]:8443/p?q=1")]
    public async Task An_HTTP_1_0_request_without_Host_is_redirected_to_the_address_it_came_to(string listen, string location)
    {
        await using TestServer server = await StartRedirectingAsync(listen);
        await using RawConnection connection = await server.ConnectAsync(IPAddress.Parse(listen));
        await connection.SendAsync("GET /p?q=1 HTTP/1.0\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal((301, location), (response.StatusCode, response.Header("Location")));
    }

    [Theory]
    [InlineData("http://other.test/x", "https://other.test:8443/x")]
    [InlineData("http://other.test", "https://other.test:8443/")]
    [InlineData("http://other.test:8080/a/b?", "https://other.test:8443/a/b")]
    public async Task An_absolute_form_target_keeps_only_its_path_and_query_and_an_empty_path_is_the_root(string target, string location)
    {
        await using TestServer server = await StartRedirectingAsync("127.0.0.1");
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync($"GET {target} HTTP/1.1\r\nHost: other.test\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal((301, location), (response.StatusCode, response.Header("Location")));
    }

    private static readonly RequestHandler Hello = (request, response) =>
    {
        response.WriteText("hello");
        return ValueTask.CompletedTask;
    };

    [Theory]
    [InlineData("healthz")]
    [InlineData("/health?x")]
    [InlineData("/health#x")]
    [InlineData("/health z")]
    [InlineData("/health\tz")]
    [InlineData("/gesundheit-\u00fc")]
    [InlineData("")]
    public void A_health_path_that_is_not_a_plain_absolute_path_is_refused(string path)
    {
        var liveness = new HttpServerOptions { HealthChecks = new HealthCheckOptions { LivenessPath = path } };
        Assert.Equal($"HealthChecks.LivenessPath must be an absolute path such as /healthz, not '{path}'",
            Assert.Throws<ArgumentException>(() => new HttpServer(liveness, Hello)).Message);
        var readiness = new HttpServerOptions { HealthChecks = new HealthCheckOptions { ReadinessPath = path } };
        Assert.Equal($"HealthChecks.ReadinessPath must be an absolute path such as /healthz, not '{path}'",
            Assert.Throws<ArgumentException>(() => new HttpServer(readiness, Hello)).Message);
    }

    [Fact]
    public async Task A_health_path_asked_with_another_method_gets_405_naming_the_methods()
    {
        await using TestServer server = await TestServer.StartAsync(Hello, options => options.HealthChecks = new HealthCheckOptions { ReadinessPath = null });
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal((405, "GET, HEAD", "health endpoints answer GET and HEAD\n"), (response.StatusCode, response.Header("Allow"), response.BodyText));
        await connection.SendAsync("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("hello", (await connection.ReadResponseAsync()).BodyText);
    }

    private static readonly RequestHandler Remote = (request, response) =>
    {
        response.WriteText($"remote={request.RemoteEndPoint}");
        return ValueTask.CompletedTask;
    };

    [Theory]
    [InlineData("::ffff:127.0.0.0/104", "127.0.0.1")]
    [InlineData("::ffff:0.0.0.0/96", "127.0.0.1")]
    [InlineData("::1/128", "::1")]
    public async Task A_trusted_network_written_IPv4_mapped_means_its_IPv4_range_and_an_IPv6_one_stays_IPv6(string network, string listen)
    {
        await using TestServer server = await TestServer.StartAsync(Remote, options =>
        {
            options.Host = listen;
            options.TrustedProxies.Add(IPNetwork.Parse(network));
        });
        await using RawConnection connection = await server.ConnectAsync(IPAddress.Parse(listen));
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n");
        Assert.Equal("remote=203.0.113.7:0", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public void An_unknown_forwarding_field_is_refused()
    {
        var options = new HttpServerOptions { ForwardedHeaders = (ForwardedHeaders)16 };
        options.TrustedProxies.Add(IPNetwork.Parse("127.0.0.1/32"));
        var refused = Assert.Throws<ArgumentException>(() => new HttpServer(options, Hello));
        Assert.Equal("options", refused.ParamName);
        Assert.StartsWith("ForwardedHeaders 16 names an unknown field", refused.Message);
    }

    [Fact]
    public async Task A_forwarding_field_that_was_not_used_shows_no_forwarded_client_on_the_status_page()
    {
        await using TestServer server = await TestServer.StartAsync(Remote, options =>
        {
            options.StatusPage = new StatusPageOptions();
            options.TrustedProxies.Add(IPNetwork.Parse("127.0.0.1/32"));
        });
        await using RawConnection broken = await server.ConnectAsync();
        await broken.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: not-an-address\r\n\r\n");
        string peer = ((IPEndPoint)broken.Socket.LocalEndPoint!).ToString();
        Assert.Equal($"remote={peer}", (await broken.ReadResponseAsync()).BodyText);
        await using RawConnection proxied = await server.ConnectAsync();
        await proxied.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n");
        Assert.Equal("remote=203.0.113.7:0", (await proxied.ReadResponseAsync()).BodyText);

        await using RawConnection asking = await server.ConnectAsync();
        await asking.SendAsync("GET /server-status?format=json HTTP/1.1\r\nHost: x\r\n\r\n");
        JsonElement status = JsonDocument.Parse((await asking.ReadResponseAsync()).Body).RootElement;
        JsonElement ConnectionOf(RawConnection client) => status.GetProperty("connections").EnumerateArray()
            .Single(c => c.GetProperty("peer").GetString() == ((IPEndPoint)client.Socket.LocalEndPoint!).ToString());
        Assert.False(ConnectionOf(broken).TryGetProperty("forwardedFor", out _));
        Assert.Equal("203.0.113.7", ConnectionOf(proxied).GetProperty("forwardedFor").GetString());
    }
}

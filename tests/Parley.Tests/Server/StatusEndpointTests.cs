using System.Net;
using System.Text;
using System.Text.Json;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The status page's answers header by header: the 403 and 405 texts, the security headers of the page,
/// HEAD answered like GET, which Accept picks JSON, the server's own fields in the JSON, and the paths refused.
/// </summary>
public class StatusEndpointTests : TransportTests
{
    private static readonly RequestHandler Hello = (request, response) =>
    {
        response.WriteText($"hello {request.Path}");
        return ValueTask.CompletedTask;
    };

    private Task<TestServer> StartWithStatusAsync(Action<StatusPageOptions>? configure = null) =>
        StartAsync(Hello, options =>
        {
            options.StatusPage = new StatusPageOptions();
            configure?.Invoke(options.StatusPage);
        });

    private static async Task<RawResponse> ExchangeAsync(RawConnection connection, string request, bool head = false)
    {
        await connection.SendAsync(request);
        return await connection.ReadResponseAsync(headRequest: head);
    }

    [Fact]
    public async Task Refusals_say_why_and_carry_nosniff()
    {
        await using (TestServer server = await StartWithStatusAsync(page =>
        {
            page.AllowedNetworks.Clear();
            page.AllowedNetworks.Add(IPNetwork.Parse("10.0.0.0/8"));
        }))
        {
            await using RawConnection connection = await server.ConnectAsync();
            RawResponse refused = await ExchangeAsync(connection, "GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(403, refused.StatusCode);
            Assert.Equal("nosniff", refused.Header("X-Content-Type-Options"));
            Assert.Equal("the status page is served only to the networks in StatusPage.AllowedNetworks\n", refused.BodyText);
        }

        await using (TestServer server = await StartWithStatusAsync())
        {
            await using RawConnection connection = await server.ConnectAsync();
            RawResponse post = await ExchangeAsync(connection, "POST /server-status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
            Assert.Equal(405, post.StatusCode);
            Assert.Equal("nosniff", post.Header("X-Content-Type-Options"));
            Assert.Equal("the status page answers GET and HEAD\n", post.BodyText);
        }
    }

    [Fact]
    public async Task The_page_carries_its_security_headers_and_Vary_and_HEAD_is_answered_like_GET()
    {
        await using TestServer server = await StartWithStatusAsync();
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse page = await ExchangeAsync(connection, "GET /server-status HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, page.StatusCode);
        Assert.Equal("text/html; charset=utf-8", page.Header("Content-Type"));
        Assert.Equal("nosniff", page.Header("X-Content-Type-Options"));
        Assert.Equal("no-referrer", page.Header("Referrer-Policy"));
        Assert.Equal("DENY", page.Header("X-Frame-Options"));
        Assert.Equal("Accept", page.Header("Vary"));

        RawResponse head = await ExchangeAsync(connection, "HEAD /server-status HTTP/1.1\r\nHost: x\r\n\r\n", head: true);
        Assert.Equal(200, head.StatusCode);
        Assert.Equal("text/html; charset=utf-8", head.Header("Content-Type"));
        Assert.Equal("DENY", head.Header("X-Frame-Options"));

        RawResponse json = await ExchangeAsync(connection, "GET /server-status?format=json HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("application/json", json.Header("Content-Type"));
        Assert.Equal("Accept", json.Header("Vary"));
        Assert.Equal("nosniff", json.Header("X-Content-Type-Options"));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("text/plain", false)]
    [InlineData("*/*", false)]
    [InlineData("application/json, text/html", false)]
    [InlineData("Application/JSON", true)]
    public async Task Only_an_Accept_that_names_JSON_and_not_HTML_gets_JSON(string? accept, bool json)
    {
        await using TestServer server = await StartWithStatusAsync();
        await using RawConnection connection = await server.ConnectAsync();
        string header = accept is null ? "" : $"Accept: {accept}\r\n";
        RawResponse response = await ExchangeAsync(connection, $"GET /server-status HTTP/1.1\r\nHost: x\r\n{header}\r\n");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(json ? "application/json" : "text/html; charset=utf-8", response.Header("Content-Type"));
    }

    [Fact]
    public async Task The_JSON_names_the_version_the_times_the_transport_and_the_accepted_connections()
    {
        DateTimeOffset before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using TestServer server = await StartWithStatusAsync();
        await using RawConnection first = await server.ConnectAsync();
        Assert.Equal(200, (await ExchangeAsync(first, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")).StatusCode);
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse response = await ExchangeAsync(connection, "GET /server-status?format=json HTTP/1.1\r\nHost: x\r\n\r\n");
        DateTimeOffset after = DateTimeOffset.UtcNow.AddSeconds(1);
        JsonElement status = JsonDocument.Parse(response.Body).RootElement;

        Assert.Equal(typeof(HttpServer).Assembly.GetName().Version!.ToString(3), status.GetProperty("version").GetString());
        DateTimeOffset startedAt = status.GetProperty("startedAt").GetDateTimeOffset();
        DateTimeOffset now = status.GetProperty("now").GetDateTimeOffset();
        Assert.InRange(startedAt, before, now);
        Assert.InRange(now, startedAt, after);
        Assert.Equal(Transport == TransportKind.Epoll ? "epoll" : "sockets", status.GetProperty("transport").GetString());
        Assert.Equal(2, status.GetProperty("totals").GetProperty("acceptedConnections").GetInt64());
        Assert.True(status.GetProperty("requestsPerSecond").GetProperty("last1s").GetDouble() >= 0);
    }

    [Theory]
    [InlineData("/status?x=1")]
    [InlineData("/status#top")]
    [InlineData("/sta tus")]
    [InlineData("/status\t")]
    public void A_path_with_a_query_a_fragment_or_white_space_is_refused(string path)
    {
        var options = new HttpServerOptions { StatusPage = new StatusPageOptions { Path = path } };
        Assert.Contains("absolute path", Assert.Throws<ArgumentException>(() => new HttpServer(options, Hello)).Message);
    }
}

using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>The router over the wire: server-wide targets (RFC 9110 §9.3.6-§9.3.7), method catch-alls, templates, queries.</summary>
public class RouterServerTests : TransportTests
{
    private static RequestHandler Text(string text) => (request, response) =>
    {
        response.WriteText(text);
        return ValueTask.CompletedTask;
    };

    private async Task<RawResponse> ExchangeAsync(Router router, string request)
    {
        await using var server = await StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync(request);
        return await connection.ReadResponseAsync();
    }

    [Fact]
    public async Task CONNECT_to_a_router_without_CONNECT_gets_501()
    {
        var router = new Router().MapGet("/", Text("home")).MapPost("/form", Text("form"));
        RawResponse response = await ExchangeAsync(router, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Assert.Equal(501, response.StatusCode);
        Assert.Contains("CONNECT", response.BodyText);
    }

    [Fact]
    public async Task CONNECT_to_an_authority_not_mapped_gets_405_with_Allow_when_another_authority_is_mapped()
    {
        var router = new Router().MapGet("/", Text("home")).Map("CONNECT", "db.internal:5432", Text("tunnel"));
        await using var server = await StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        RawResponse refused = await connection.ReadResponseAsync();
        Assert.Equal(405, refused.StatusCode);
        Assert.Equal("", refused.Header("Allow"));
        await connection.SendAsync("CONNECT DB.Internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n");
        RawResponse mapped = await connection.ReadResponseAsync();
        Assert.Equal(200, mapped.StatusCode);
        Assert.Equal("tunnel", mapped.BodyText);
    }

    [Fact]
    public async Task CONNECT_mapped_on_the_server_wide_target_takes_every_authority()
    {
        var router = new Router().Map("CONNECT", Router.ServerWide, (request, response) =>
        {
            response.WriteText($"tunnel to {request.Target}");
            return ValueTask.CompletedTask;
        });
        RawResponse response = await ExchangeAsync(router, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("tunnel to example.com:443", response.BodyText);
    }

    [Fact]
    public async Task OPTIONS_asterisk_gets_204_with_every_method_the_router_serves()
    {
        var router = new Router().MapGet("/", Text("home")).MapPost("/form", Text("form")).Map("PURGE", "/cache", Text("purged"));
        RawResponse response = await ExchangeAsync(router, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(204, response.StatusCode);
        Assert.Equal("GET, HEAD, POST, OPTIONS, PURGE", response.Header("Allow"));
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task OPTIONS_asterisk_can_be_mapped()
    {
        var router = new Router().MapGet("/", Text("home")).Map("OPTIONS", "*", (request, response) =>
        {
            response.StatusCode = 200;
            response.Headers.Set("Allow", "GET");
            response.WriteText($"server-wide {request.Target}");
            return ValueTask.CompletedTask;
        });
        RawResponse response = await ExchangeAsync(router, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("GET", response.Header("Allow"));
        Assert.Equal("server-wide *", response.BodyText);
    }

    [Fact]
    public async Task A_method_catch_all_takes_every_method_but_one_mapped_by_name()
    {
        var router = new Router().MapAnyMethod("/echo", (request, response) =>
        {
            response.WriteText($"any {request.Method}");
            return ValueTask.CompletedTask;
        }).MapPost("/echo", Text("post"));
        await using var server = await StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        foreach (string method in new[] { "GET", "PUT", "DELETE", "OPTIONS", "BREW" })
        {
            await connection.SendAsync($"{method} /echo HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.StatusCode);
            Assert.Equal($"any {method}", response.BodyText);
        }
        await connection.SendAsync("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        Assert.Equal("post", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse head = await connection.ReadResponseAsync(headRequest: true);
        Assert.Equal(200, head.StatusCode);
        Assert.Equal("8", head.Header("Content-Length"));
        // A method unknown to every other router answers 404 on another path, not 501: the catch-all serves it somewhere.
        await connection.SendAsync("BREW /other HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(404, (await connection.ReadResponseAsync()).StatusCode);
    }

    private static RequestHandler Values(string name) => (request, response) =>
    {
        var values = request.RouteValues;
        response.WriteText($"{name} {values.Template} {values.Count} id={values["id"] ?? "-"} rest={values["rest"] ?? "-"}");
        return ValueTask.CompletedTask;
    };

    [Theory]
    [InlineData("GET /users/42 HTTP/1.1", "int /users/{id:int} 1 id=42 rest=-")]
    [InlineData("GET /users/new HTTP/1.1", "literal /users/new 0 id=- rest=-")]
    [InlineData("GET /users/ann%20lee HTTP/1.1", "name /users/{id} 1 id=ann lee rest=-")]
    [InlineData("GET /users/42/files/a/b%2Fc.txt HTTP/1.1", "files /users/{id:int}/files/{*rest} 2 id=42 rest=a/b/c.txt")]
    [InlineData("GET /users/42/files HTTP/1.1", "files /users/{id:int}/files/{*rest} 2 id=42 rest=")]
    [InlineData("GET /users/x/y HTTP/1.1", "any /users/{*rest} 1 id=- rest=x/y")]
    [InlineData("GET http://example.com/users/7 HTTP/1.1", "int /users/{id:int} 1 id=7 rest=-")]
    public async Task Routes_templates_by_precedence_with_the_values_on_the_request(string requestLine, string expected)
    {
        var router = new Router()
            .MapGet("/users/{*rest}", Values("any"))
            .MapGet("/users/{id}", Values("name"))
            .MapGet("/users/{id:int}", Values("int"))
            .MapGet("/users/new", Values("literal"))
            .MapGet("/users/{id:int}/files/{*rest}", Values("files"));
        RawResponse response = await ExchangeAsync(router, $"{requestLine}\r\nHost: x\r\n\r\n");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(expected, response.BodyText);
    }

    [Fact]
    public async Task A_method_no_matching_template_serves_gets_405_with_the_methods_of_all_of_them()
    {
        var router = new Router()
            .MapGet("/users/{id:int}", Values("int"))
            .MapDelete("/users/{id}", Values("name"));
        await using var server = await StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        // DELETE skips the more specific template, which lacks it, for the one that has it.
        await connection.SendAsync("DELETE /users/42 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("name /users/{id} 1 id=42 rest=-", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("PUT /users/42 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        RawResponse notAllowed = await connection.ReadResponseAsync();
        Assert.Equal(405, notAllowed.StatusCode);
        Assert.Equal("GET, HEAD, DELETE, OPTIONS", notAllowed.Header("Allow"));
        await connection.SendAsync("PUT /users/ann HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        RawResponse otherAllowed = await connection.ReadResponseAsync();
        Assert.Equal(405, otherAllowed.StatusCode);
        Assert.Equal("DELETE, OPTIONS", otherAllowed.Header("Allow"));
        await connection.SendAsync("GET /users/ann/x HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(404, (await connection.ReadResponseAsync()).StatusCode);
    }

    [Fact]
    public async Task The_query_is_parsed_on_demand_with_repeated_names_and_plus_as_space()
    {
        var router = new Router().MapGet("/search", (request, response) =>
        {
            var query = request.Query;
            response.WriteText($"{query.Count} q=[{query["q"]}] tags=[{string.Join(",", query.GetValues("tag"))}] raw=[{request.RawQuery}]");
            return ValueTask.CompletedTask;
        }).Map("CONNECT", "*", (request, response) =>
        {
            response.WriteText($"{request.Query.Count} raw=[{request.RawQuery}]");
            return ValueTask.CompletedTask;
        });
        await using var server = await StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /search?q=caf%C3%A9+au+lait&tag=a&&tag=b&tag= HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("4 q=[café au lait] tags=[a,b,] raw=[q=caf%C3%A9+au+lait&tag=a&&tag=b&tag=]", (await connection.ReadResponseAsync()).BodyText);
        // The next request on the connection sees its own query, not the last one's.
        await connection.SendAsync("GET /search HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("0 q=[] tags=[] raw=[]", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Assert.Equal("0 raw=[]", (await connection.ReadResponseAsync()).BodyText);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollRouterServerTests : RouterServerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

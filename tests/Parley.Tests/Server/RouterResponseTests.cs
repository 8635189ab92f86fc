using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>The answers the router writes itself, on the wire: 404, 405 with Allow, 501, OPTIONS (RFC 9110 §15.5.5-§15.6.2, §9.3.7).</summary>
public class RouterResponseTests
{
    private static readonly RequestHandler Nothing = (request, response) => ValueTask.CompletedTask;

    [Fact]
    public async Task Not_found_not_allowed_and_not_implemented_say_so_in_the_body()
    {
        var router = new Router().MapGet("/page", Nothing).Map("CONNECT", "db.internal:5432", Nothing);
        await using var server = await TestServer.StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();

        await connection.SendAsync("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse notFound = await connection.ReadResponseAsync();
        Assert.Equal(404, notFound.StatusCode);
        Assert.Equal("404 Not Found\n", notFound.BodyText);

        await connection.SendAsync("DELETE /page HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse notAllowed = await connection.ReadResponseAsync();
        Assert.Equal(405, notAllowed.StatusCode);
        Assert.Equal("GET, HEAD, OPTIONS", notAllowed.Header("Allow"));
        Assert.Equal("405 Method Not Allowed: DELETE is not allowed here; try GET, HEAD, OPTIONS\n", notAllowed.BodyText);

        await connection.SendAsync("BREW /page HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse unknown = await connection.ReadResponseAsync();
        Assert.Equal(501, unknown.StatusCode);
        Assert.Equal("501 Not Implemented: unknown method\n", unknown.BodyText);

        // CONNECT is served for another authority only: this one allows no method at all.
        await connection.SendAsync("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        RawResponse noTunnel = await connection.ReadResponseAsync();
        Assert.Equal(405, noTunnel.StatusCode);
        Assert.Equal("", noTunnel.Header("Allow"));
        Assert.Equal("405 Method Not Allowed: CONNECT is not allowed here\n", noTunnel.BodyText);
    }

    [Fact]
    public async Task OPTIONS_lists_the_methods_of_every_template_matching_the_path()
    {
        var router = new Router()
            .MapGet("/users/{id:int}", Nothing)
            .MapDelete("/users/{id}", Nothing)
            .MapPut("/users/{*rest}", Nothing);
        await using var server = await TestServer.StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("OPTIONS /users/42 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse options = await connection.ReadResponseAsync();
        Assert.Equal(204, options.StatusCode);
        Assert.Equal("GET, HEAD, PUT, DELETE, OPTIONS", options.Header("Allow"));
    }

    [Fact]
    public async Task OPTIONS_asterisk_lists_HEAD_only_with_GET_and_extension_methods_in_ordinal_order()
    {
        var router = new Router().MapPost("/form", Nothing).Map("PURGE", "/cache", Nothing).Map("BREW", "/pot", Nothing);
        await using var server = await TestServer.StartAsync(router.Handler);
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse options = await connection.ReadResponseAsync();
        Assert.Equal(204, options.StatusCode);
        Assert.Equal("POST, OPTIONS, BREW, PURGE", options.Header("Allow"));
    }
}

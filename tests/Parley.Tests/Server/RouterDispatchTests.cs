using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// Which handler the router picks, and the route values it hands over, dispatched in process on a parsed
/// request (handlers here only record what they saw; answers the router writes itself are in
/// <see cref="RouterResponseTests"/>).
/// </summary>
public class RouterDispatchTests
{
    private static readonly RequestHandler Nothing = (request, response) => ValueTask.CompletedTask;

    private static HttpRequest Parse(string requestLine) => ParsedRequest.From($"{requestLine}\r\nHost: x\r\n\r\n");

    private sealed class Seen
    {
        public string? Name;
        public RequestHandler Handler(string name) => (request, response) =>
        {
            Name = name;
            return ValueTask.CompletedTask;
        };
    }

    // The name of the handler that took the request.
    private static string? Dispatch(Router router, Seen seen, string requestLine)
    {
        seen.Name = null;
        router.Handler(Parse(requestLine), new HttpResponse());
        return seen.Name;
    }

    [Theory]
    [InlineData("GET /ab HTTP/1.1", "ab")]
    [InlineData("GET /a/b HTTP/1.1", "a/b")]
    [InlineData("GET /files HTTP/1.1", "files")]
    [InlineData("GET /files/ HTTP/1.1", "files/")]
    [InlineData("GET /x/ HTTP/1.1", "{a}/")]
    [InlineData("GET /x/y HTTP/1.1", "{a}/{b}")]
    [InlineData("GET /x/y/z HTTP/1.1", "{a}/*")]
    [InlineData("GET /x HTTP/1.1", "{a}/{*rest}")]
    [InlineData("GET /n/42 HTTP/1.1", "n/{a:int}")]
    [InlineData("GET /n/abc HTTP/1.1", "n/{b:alpha}")]
    public void Templates_that_differ_only_in_slashes_stars_or_constraints_can_all_be_mapped(string requestLine, string expected)
    {
        var seen = new Seen();
        var router = new Router();
        foreach (string template in new[] { "/ab", "/a/b", "/files", "/files/", "/{a}/", "/{a}/{b}", "/{a}/*", "/{a}/{*rest}", "/n/{a:int}", "/n/{b:alpha}" })
        {
            router.MapGet(template, seen.Handler(template[1..]));
        }
        Assert.Equal(expected, Dispatch(router, seen, requestLine));
    }

    [Fact]
    public void Mapping_a_method_again_replaces_it_and_keeps_the_others()
    {
        var seen = new Seen();
        var router = new Router()
            .MapGet("/x", seen.Handler("first get")).MapPost("/x", seen.Handler("post")).MapGet("/x", seen.Handler("second get"))
            .Map("PURGE", "/x", seen.Handler("purge"))
            .Map("CONNECT", "db.internal:5432", seen.Handler("first tunnel")).Map("CONNECT", "DB.Internal:5432", seen.Handler("second tunnel"));
        Assert.Equal("second get", Dispatch(router, seen, "GET /x HTTP/1.1"));
        Assert.Equal("post", Dispatch(router, seen, "POST /x HTTP/1.1"));
        Assert.Equal("purge", Dispatch(router, seen, "PURGE /x HTTP/1.1"));
        Assert.Equal("second tunnel", Dispatch(router, seen, "CONNECT db.internal:5432 HTTP/1.1"));
    }

    [Fact]
    public void An_empty_absolute_form_path_is_the_root()
    {
        var seen = new Seen();
        var router = new Router().MapGet("/", seen.Handler("root")).MapGet("/{*all}", seen.Handler("all"));
        Assert.Equal("root", Dispatch(router, seen, "GET http://example.com HTTP/1.1"));
        string? all = "unset";
        var catchAll = new Router().MapGet("/{*all}", (request, response) =>
        {
            all = request.RouteValues["all"];
            return ValueTask.CompletedTask;
        });
        catchAll.Handler(Parse("GET http://example.com HTTP/1.1"), new HttpResponse());
        Assert.Equal("", all);
    }

    [Fact]
    public void Route_values_are_decoded_once_with_plus_kept_and_unknown_names_absent()
    {
        string? first = null, second = null, missing = "unset";
        bool foundMissing = true;
        var router = new Router().MapGet("/users/{id}", (request, response) =>
        {
            first = request.RouteValues["id"];
            second = request.RouteValues["id"];
            foundMissing = request.RouteValues.TryGetValue("name", out missing);
            return ValueTask.CompletedTask;
        });
        router.Handler(Parse("GET /users/a+b%20c HTTP/1.1"), new HttpResponse());
        Assert.Equal("a+b c", first);
        Assert.Same(first, second);
        Assert.False(foundMissing);
        Assert.Null(missing);
    }

    [Fact]
    public void A_request_no_route_matched_has_no_route_values()
    {
        HttpRequest request = Parse("GET /users/42 HTTP/1.1");
        Assert.False(request.RouteValues.TryGetValue("id", out string? value));
        Assert.Null(value);
        Assert.Null(request.RouteValues.Template);
        Assert.Equal(0, request.RouteValues.Count);
    }

    [Fact]
    public void Map_refuses_a_null_handler_or_path_naming_the_argument()
    {
        var router = new Router();
        Assert.Equal("handler", Assert.Throws<ArgumentNullException>(() => router.Map("GET", "/x", null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => router.Map("GET", null!, Nothing)).ParamName);
        Assert.Equal("handler", Assert.Throws<ArgumentNullException>(() => router.MapAnyMethod("/x", null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => router.MapAnyMethod(null!, Nothing)).ParamName);
    }
}

using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// DESIGN.md: dispatch allocates nothing per request once warm. A literal route costs nothing; a template
/// costs nothing to match, and one string per value the handler reads.
/// </summary>
public class RouterAllocationTests
{
    private static readonly RequestHandler Nothing = (request, response) => ValueTask.CompletedTask;

    private static (HttpRequest Request, HttpResponse Response) Parse(string requestText) =>
        (ParsedRequest.From(requestText), new HttpResponse());

    // Bytes the second of two identical dispatches allocates (the first warms the request's reusable parts).
    private static long AllocatedByDispatch(Router router, string target)
    {
        var (request, response) = Parse($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        router.Handler(request, response);
        request.Reset();
        long before = GC.GetAllocatedBytesForCurrentThread();
        router.Handler(request, response);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static Router Routes(RequestHandler handler) => new Router()
        .MapGet("/", Nothing).MapGet("/about", Nothing).MapPost("/form", Nothing)
        .MapGet("/users/{id:int}", handler).MapGet("/files/{*rest}", handler).MapGet("/static/*", handler);

    [Theory]
    [InlineData("/about")]
    [InlineData("/ab%6Fut")]
    [InlineData("/users/42")]
    [InlineData("/files/a/b/c.txt")]
    [InlineData("/static/app.css")]
    public void Matching_a_route_allocates_nothing(string target)
    {
        Assert.Equal(0, AllocatedByDispatch(Routes(Nothing), target));
    }

    [Fact]
    public void Reading_a_template_value_allocates_one_small_string()
    {
        string? seen = null;
        Router router = Routes((request, response) =>
        {
            seen = request.RouteValues["id"];
            return ValueTask.CompletedTask;
        });
        long allocated = AllocatedByDispatch(router, "/users/42");
        Assert.Equal("42", seen);
        // One string of two characters: 20-byte header and length, 2 chars and a terminator, rounded to 8.
        Assert.Equal(32, allocated);
    }
}

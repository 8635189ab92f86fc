using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The request and response API a handler uses, seen from the handler and the client: the request line and
/// framing accessors, the upgrade checks, <see cref="HttpRequest.ReadBodyAsync"/>'s limits, and the
/// response setters' refusals and write helpers.
/// </summary>
public class MessageApiTests : TransportTests
{
    /// <summary>The body of an exchange that closes the connection (Connection: close or HTTP/1.0).</summary>
    private static string BodyOf(string raw) => raw[(raw.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];

    private static string Describe(HttpRequest request)
    {
        QueryParameters first = request.Query;
        QueryParameters second = request.Query;
        return $"{request.Protocol} {request.Version} path={request.Path} cl={request.ContentLength?.ToString() ?? "null"} hasBody={request.HasBody} " +
               $"q={string.Join(",", first.GetValues("q"))} q2={string.Join(",", second.GetValues("q"))} " +
               $"sameStrings={ReferenceEquals(request.Target, request.Target) && ReferenceEquals(request.Path, request.Path) && ReferenceEquals(request.RawQuery, request.RawQuery)}";
    }

    [Fact]
    public async Task Request_accessors_report_the_version_path_query_and_body_framing()
    {
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            string described = Describe(request);
            byte[] body = await request.ReadBodyAsync(100);
            response.WriteText($"{described} body={Encoding.ASCII.GetString(body)}\n");
        });

        string http10 = BodyOf(await server.ExchangeUntilCloseAsync("GET /a+b%20c?q=1&q=x+y HTTP/1.0\r\n\r\n"));
        Assert.Equal("HTTP/1.0 1.0 path=/a+b c cl=0 hasBody=False q=1,x y q2=1,x y sameStrings=True body=\n", http10);

        string sized = BodyOf(await server.ExchangeUntilCloseAsync("POST /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"));
        Assert.Equal("HTTP/1.1 1.1 path=/p cl=5 hasBody=True q= q2= sameStrings=True body=hello\n", sized);

        string chunked = BodyOf(await server.ExchangeUntilCloseAsync(
            "POST /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        Assert.Equal("HTTP/1.1 1.1 path=/c cl=null hasBody=True q= q2= sameStrings=True body=hello world\n", chunked);
    }

    [Theory]
    [InlineData("GET", "Connection: keep-alive, Upgrade, close\r\nUpgrade: h2c, WebSocket/13\r\n", "upgrade=True websocket=True")]
    [InlineData("GET", "Connection: Upgrade, close\r\nUpgrade: websocket\r\n", "upgrade=True websocket=True")]
    [InlineData("POST", "Connection: Upgrade, close\r\nUpgrade: websocket\r\nContent-Length: 0\r\n", "upgrade=True websocket=False")]
    [InlineData("GET", "Connection: Upgrade, close\r\nUpgrade: h2c\r\n", "upgrade=True websocket=False")]
    [InlineData("GET", "Connection: close\r\n", "upgrade=False websocket=False")]
    public async Task IsWebSocketRequest_needs_a_GET_that_offers_websocket_in_any_version(string method, string fields, string expected)
    {
        await using TestServer server = await StartAsync((request, response) =>
        {
            response.WriteText($"upgrade={request.IsUpgradeRequest} websocket={request.IsWebSocketRequest}");
            return ValueTask.CompletedTask;
        });

        string raw = await server.ExchangeUntilCloseAsync($"{method} / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        Assert.Equal(expected, BodyOf(raw));
    }

    [Theory]
    [InlineData("Content-Length: 5\r\n\r\nhello", 5, "200 OK", "hello")]
    [InlineData("Content-Length: 11\r\n\r\nhello world", 10, "413 ", ": request body too large\n")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 10, "413 ", ": request body too large\n")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 10, "200 OK", "helloworld")]
    [InlineData("Content-Length: 3000000000\r\n\r\n", 3_000_000_000, "413 ", ": request body too large to read into memory\n")]
    public async Task ReadBodyAsync_takes_a_body_up_to_its_limit_and_refuses_more_with_413(string framing, long maxBytes, string status, string expectedBodyEnd)
    {
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            byte[] body = await request.ReadBodyAsync(maxBytes);
            response.WriteText(Encoding.ASCII.GetString(body));
        }, options => options.MaxRequestBodySize = long.MaxValue);

        string raw = await server.ExchangeUntilCloseAsync($"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{framing}");
        Assert.StartsWith($"HTTP/1.1 {status}", raw);
        Assert.EndsWith(expectedBodyEnd, raw);
    }

    [Fact]
    public async Task ReadBodyAsync_refuses_a_negative_limit()
    {
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            string outcome;
            try
            {
                await request.ReadBodyAsync(-1);
                outcome = "read";
            }
            catch (ArgumentOutOfRangeException)
            {
                outcome = "refused";
            }
            response.WriteText(outcome);
        });

        Assert.Equal("refused", BodyOf(await server.ExchangeUntilCloseAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    }

    [Fact]
    public async Task Route_values_of_one_request_are_gone_for_the_next_on_the_connection()
    {
        var router = new Router();
        router.MapGet("/users/{id}", (request, response) =>
        {
            response.WriteText($"id={request.RouteValues["id"]}");
            return ValueTask.CompletedTask;
        });
        router.NotFound = (request, response) =>
        {
            response.StatusCode = 404;
            response.WriteText($"template={request.RouteValues.Template ?? "none"} id={request.RouteValues["id"] ?? "none"}");
            return ValueTask.CompletedTask;
        };
        await using TestServer server = await StartAsync(router.Handler);

        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("id=42", (await connection.ReadResponseAsync()).BodyText);
        await connection.SendAsync("GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("template=none id=none", (await connection.ReadResponseAsync()).BodyText);
    }

    private static string Outcome(Action action)
    {
        try
        {
            action();
            return "ok";
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name}({ex.Message.Split(" (Parameter", 2)[0]})";
        }
    }

    [Fact]
    public async Task Status_length_and_trailer_declarations_are_refused_once_the_head_is_written()
    {
        await using TestServer server = await StartAsync(async (request, response) =>
        {
            response.Write("started;"u8);
            await response.FlushAsync();
            var outcomes = new StringBuilder();
            outcomes.Append("status=").Append(Outcome(() => response.StatusCode = 404)).Append(';');
            outcomes.Append("length=").Append(Outcome(() => response.ContentLength = 5)).Append(';');
            outcomes.Append("trailer=").Append(Outcome(() => response.DeclareTrailer("X-Checksum"))).Append(';');
            response.Write(Encoding.UTF8.GetBytes(outcomes.ToString()));
        });

        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Null(response.Header("Trailer"));
        const string written = "InvalidOperationException(the response head has already been written)";
        Assert.Equal($"started;status={written};length={written};trailer={written};", response.BodyText);
    }

    [Fact]
    public async Task Setters_refuse_out_of_range_values_before_the_head_is_written()
    {
        await using TestServer server = await StartAsync((request, response) =>
        {
            var outcomes = new StringBuilder();
            outcomes.Append("status600=").Append(Outcome(() => response.StatusCode = 600)).Append('\n');
            outcomes.Append("length0=").Append(Outcome(() => response.ContentLength = 0)).Append('\n');
            outcomes.Append("length-1=").Append(Outcome(() => response.ContentLength = -1)).Append('\n');
            outcomes.Append("declareNull=").Append(Outcome(() => response.DeclareTrailer(null!))).Append('\n');
            outcomes.Append("preview-1=").Append(Outcome(() => response.PreviewHead(-1))).Append('\n');
            outcomes.Append("redirect200=").Append(Outcome(() => response.Redirect("/x", 200))).Append('\n');
            response.ContentLength = null;
            response.Trailers.Set("X-Checksum", "1");
            outcomes.Append("status204=").Append(Outcome(() => response.StatusCode = 204)).Append('\n');
            outcomes.Append("lengthWithTrailers=").Append(Outcome(() => response.ContentLength = 5)).Append('\n');
            response.Trailers.Remove("X-Checksum");
            response.WriteText(outcomes.ToString());
            return ValueTask.CompletedTask;
        });

        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        string[] lines = (await connection.ReadResponseAsync()).BodyText.Split('\n');
        Assert.StartsWith("status600=ArgumentOutOfRangeException(", lines[0]);
        Assert.Equal("length0=ok", lines[1]);
        Assert.StartsWith("length-1=ArgumentOutOfRangeException(", lines[2]);
        Assert.StartsWith("declareNull=ArgumentNullException(", lines[3]);
        Assert.StartsWith("preview-1=ArgumentOutOfRangeException(", lines[4]);
        Assert.Equal("redirect200=ArgumentOutOfRangeException(not a redirect status)", lines[5]);
        Assert.Equal("status204=InvalidOperationException(a 204 response has no body, so no trailer section (RFC 9110 §6.4.1); remove the trailers first)", lines[6]);
        Assert.Equal("lengthWithTrailers=InvalidOperationException(a response with trailers is sent chunked and cannot have a Content-Length (RFC 9112 §7.1.2); remove the trailers first)", lines[7]);
    }

    [Fact]
    public async Task Redirect_sends_the_location_and_a_page_linking_to_it()
    {
        await using TestServer server = await StartAsync((request, response) =>
        {
            response.Redirect("/next?a=1&b=2", 303);
            return ValueTask.CompletedTask;
        });

        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(303, response.StatusCode);
        Assert.Equal("/next?a=1&b=2", response.Header("Location"));
        Assert.Equal("text/html; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("<!DOCTYPE html><title>303 See Other</title><p>Moved to <a href=\"/next?a=1&amp;b=2\">/next?a=1&amp;b=2</a>.</p>\n", response.BodyText);
    }

    [Fact]
    public async Task WriteJson_text_is_sent_as_application_json()
    {
        await using TestServer server = await StartAsync((request, response) =>
        {
            response.WriteJson("{\"ok\":true}");
            return ValueTask.CompletedTask;
        });

        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("application/json", response.Header("Content-Type"));
        Assert.Equal("11", response.Header("Content-Length"));
        Assert.Equal("{\"ok\":true}", response.BodyText);
    }

    [Fact]
    public async Task WriteText_sends_a_large_text_whole()
    {
        // 12.75 MiB of UTF-8: more than a thread stack (8 MiB here) holds, so it must not go through stackalloc.
        string text = string.Concat(Enumerable.Repeat("0123456789abcdé\n", 768 * 1024));
        await using TestServer server = await StartAsync((request, response) =>
        {
            response.WriteText(text);
            return ValueTask.CompletedTask;
        });

        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(Encoding.UTF8.GetByteCount(text).ToString(), response.Header("Content-Length"));
        Assert.Equal(text, response.BodyText);
    }
}

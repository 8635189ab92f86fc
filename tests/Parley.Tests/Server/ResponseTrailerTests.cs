using System.Net.Http;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Interop;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="HttpResponse.Trailers"/>: trailer fields go in the chunked coding's trailer section (RFC 9112
/// §7.1.2), announced by <see cref="HttpResponse.DeclareTrailer"/> (RFC 9110 §6.6.2); a response that cannot
/// carry them refuses them, as do fields that must not be sent in trailers (RFC 9110 §6.5.1).
/// </summary>
public class ResponseTrailerTests : TransportTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    // The checksum handler of the examples: declares, writes a small body, then sets the trailer.
    private static ValueTask WithChecksum(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("Content-Type", "text/plain");
        response.DeclareTrailer("X-Checksum");
        response.Write("hello"u8);
        response.Trailers.Set("X-Checksum", "5d41402a");
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_small_body_with_trailers_goes_chunked_with_its_trailer_section()
    {
        await using var server = await StartAsync(WithChecksum);
        string response = await server.ExchangeUntilCloseAsync(Get);
        int bodyStart = response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        string head = response[..bodyStart];
        Assert.Contains("\r\nTrailer: X-Checksum\r\n", head);
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", head);
        Assert.DoesNotContain("Content-Length", head);
        Assert.Equal("5\r\nhello\r\n0\r\nX-Checksum: 5d41402a\r\n\r\n", response[bodyStart..]);
    }

    [Fact]
    public async Task A_streamed_body_ends_with_its_trailers_and_the_connection_stays_usable()
    {
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/plain")
            {
                response.WriteText("after");
                return;
            }
            await response.WriteAsync("first,"u8.ToArray());
            await response.FlushAsync();
            Assert.True(response.SupportsTrailers);
            await response.WriteAsync("second"u8.ToArray());
            response.Trailers.Add("X-Part", "1");
            response.Trailers.Add("X-Part", "2");
            response.Trailers["Server-Timing"] = "total;dur=1";
        });
        await using var connection = await server.ConnectAsync();
        // Pipelined: the second response must start right after the first one's trailer section.
        await connection.SendAsync("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync();
        int second = all.IndexOf("HTTP/1.1 200", 1, StringComparison.Ordinal);
        Assert.True(second > 0, all);
        Assert.EndsWith("0\r\nX-Part: 1\r\nX-Part: 2\r\nServer-Timing: total;dur=1\r\n\r\n", all[..second]);
        Assert.Contains("6\r\nfirst,\r\n", all[..second]);
        Assert.EndsWith("\r\n\r\nafter", all);
    }

    [Fact]
    public async Task A_response_without_trailers_keeps_its_content_length()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.Write("hello"u8);
            return ValueTask.CompletedTask;
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.Contains("\r\nContent-Length: 5\r\n", response);
        Assert.DoesNotContain("chunked", response);
        Assert.EndsWith("\r\n\r\nhello", response);
    }

    [Fact]
    public async Task Removing_every_trailer_before_the_end_sends_the_body_with_a_content_length()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.Trailers.Set("X-Checksum", "1");
            response.Trailers.Remove("x-checksum");
            response.ContentLength = 5;
            response.Write("hello"u8);
            return ValueTask.CompletedTask;
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.Contains("\r\nContent-Length: 5\r\n", response);
        Assert.EndsWith("\r\n\r\nhello", response);
    }

    [Theory]
    [InlineData("Content-Length")]
    [InlineData("transfer-encoding")]
    [InlineData("Trailer")]
    [InlineData("Host")]
    [InlineData("Authorization")]
    [InlineData("WWW-Authenticate")]
    [InlineData("Cache-Control")]
    [InlineData("Content-Type")]
    [InlineData("Content-Encoding")]
    [InlineData("Connection")]
    [InlineData("TE")]
    public async Task A_field_that_must_not_be_a_trailer_is_refused_and_the_response_still_ends_cleanly(string name)
    {
        var refusals = new List<Exception?>();
        await using var server = await StartAsync((request, response) =>
        {
            refusals.Add(Record.Exception(() => response.Trailers.Add(name, "1")));
            refusals.Add(Record.Exception(() => response.Trailers[name] = "1"));
            refusals.Add(Record.Exception(() => response.DeclareTrailer(name)));
            response.Write("body"u8);
            return ValueTask.CompletedTask;
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.All(refusals, e => Assert.IsType<ArgumentException>(e));
        Assert.All(refusals, e => Assert.Contains("RFC 9110 §6.5.1", e!.Message));
        Assert.Contains("\r\nContent-Length: 4\r\n", response);
        Assert.DoesNotContain("Trailer", response);
    }

    [Theory]
    [InlineData("a\r\nX-Evil: 1")]
    [InlineData("a\nb")]
    [InlineData("caf\u00e9")]
    public async Task A_trailer_value_that_could_split_the_message_is_refused(string value)
    {
        Exception? refused = null;
        await using var server = await StartAsync((request, response) =>
        {
            refused = Record.Exception(() => response.Trailers.Set("X-Checksum", value));
            response.Write("body"u8);
            return ValueTask.CompletedTask;
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.IsType<ArgumentException>(refused);
        Assert.DoesNotContain("X-Evil", response);
        Assert.EndsWith("\r\n\r\nbody", response);
    }

    public static TheoryData<string, string> ResponsesThatCannotCarryTrailers() => new()
    {
        { "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0" },
        { "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HEAD" },
        { "GET /length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "Content-Length" },
        { "GET /204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "204" },
        { "GET /started HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "without chunked coding" },
    };

    [Theory]
    [MemberData(nameof(ResponsesThatCannotCarryTrailers))]
    public async Task A_response_that_cannot_carry_trailers_refuses_them_and_says_why(string request, string reason)
    {
        bool? supported = null;
        Exception? added = null;
        Exception? declared = null;
        await using var server = await StartAsync(async (request, response) =>
        {
            if (request.Path == "/length") response.ContentLength = 4;
            if (request.Path == "/204") response.StatusCode = 204;
            if (request.Path == "/started")
            {
                response.ContentLength = 4;
                await response.WriteAsync("bo"u8.ToArray());
                await response.FlushAsync();
            }
            supported = response.SupportsTrailers;
            added = Record.Exception(() => response.Trailers.Add("X-Checksum", "1"));
            declared = Record.Exception(() => response.DeclareTrailer("X-Checksum"));
            if (request.Path == "/started") await response.WriteAsync("dy"u8.ToArray());
            else if (request.Path != "/204") response.Write("body"u8);
        });
        string response = await server.ExchangeUntilCloseAsync(request);
        Assert.False(supported);
        Assert.IsType<InvalidOperationException>(added);
        Assert.Contains(reason, added!.Message);
        Assert.IsType<InvalidOperationException>(declared);
        Assert.DoesNotContain("X-Checksum", response);
        Assert.DoesNotContain("chunked", response);
    }

    [Fact]
    public async Task Trailers_set_first_refuse_a_content_length_or_a_bodiless_status_later()
    {
        Exception? length = null;
        Exception? status = null;
        await using var server = await StartAsync((request, response) =>
        {
            response.Trailers.Set("X-Checksum", "1");
            length = Record.Exception(() => response.ContentLength = 4);
            status = Record.Exception(() => response.StatusCode = 304);
            response.Write("body"u8);
            return ValueTask.CompletedTask;
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.IsType<InvalidOperationException>(length);
        Assert.IsType<InvalidOperationException>(status);
        Assert.EndsWith("\r\n\r\n4\r\nbody\r\n0\r\nX-Checksum: 1\r\n\r\n", response);
    }

    [Fact]
    public async Task A_trailer_cannot_be_declared_once_the_head_is_written()
    {
        Exception? declared = null;
        await using var server = await StartAsync(async (request, response) =>
        {
            await response.FlushAsync();
            declared = Record.Exception(() => response.DeclareTrailer("X-Checksum"));
            response.Trailers.Set("X-Checksum", "undeclared but sent");
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.IsType<InvalidOperationException>(declared);
        Assert.EndsWith("\r\n\r\n0\r\nX-Checksum: undeclared but sent\r\n\r\n", response);
    }

    [Fact]
    public async Task Declaring_a_trailer_twice_announces_it_once()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.DeclareTrailer("X-Checksum");
            response.DeclareTrailer("x-checksum");
            response.DeclareTrailer("X-Signature");
            response.Write("body"u8);
            response.Trailers.Set("X-Checksum", "1");
            return ValueTask.CompletedTask;
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.Single(response.Split("\r\nTrailer: X-Checksum\r\n")[1..]);
        Assert.Contains("\r\nTrailer: X-Signature\r\n", response);
        Assert.DoesNotContain("Trailer: x-checksum", response);
    }

    [Fact]
    public async Task A_handler_failure_drops_the_trailers_with_the_failed_response()
    {
        await using var server = await StartAsync((request, response) =>
        {
            response.DeclareTrailer("X-Checksum");
            response.Trailers.Set("X-Checksum", "1");
            throw new InvalidOperationException("boom");
        });
        string response = await server.ExchangeUntilCloseAsync(Get);
        Assert.StartsWith("HTTP/1.1 500 ", response);
        Assert.Contains("\r\nContent-Length: ", response);
        Assert.DoesNotContain("X-Checksum", response);
    }

    [Fact]
    public async Task Parleys_client_and_HttpClient_over_ParleyHandler_receive_the_trailers()
    {
        await using var server = await StartAsync(WithChecksum);
        using var client = new ParleyClient();
        using (ParleyResponse response = await client.GetAsync(server.BaseUri.ToString()))
        {
            Assert.Equal("hello", await response.ReadAsStringAsync());
            Assert.Equal("5d41402a", response.Trailers?["x-checksum"]);
        }
        using var http = new HttpClient(new ParleyHandler());
        using HttpResponseMessage message = await http.GetAsync(server.BaseUri);
        Assert.Equal("hello", await message.Content.ReadAsStringAsync());
        Assert.Equal("5d41402a", message.TrailingHeaders.GetValues("X-Checksum").Single());
    }

    [Fact]
    public async Task Curl_receives_the_trailer_section()
    {
        await using var server = await StartAsync(WithChecksum);
        // --raw keeps the chunked coding, trailer section included, as it came off the wire.
        ToolResult result = (await ExternalTool.RunAsync("curl", ["-sS", "--raw", "-k", server.BaseUri.ToString()], TimeSpan.FromSeconds(30))).EnsureSuccess();
        Assert.Equal("5\r\nhello\r\n0\r\nX-Checksum: 5d41402a\r\n\r\n", result.StdOut);
    }

    [Fact]
    public async Task Python_http_client_reads_past_the_trailer_section_and_reuses_the_connection()
    {
        await using var server = await StartAsync(WithChecksum);
        // http.client reads the trailer section and discards it: a client that knows nothing of trailers
        // still finds where the response ends, and its next request goes on the same connection.
        const string script = """
            import http.client, sys
            connection = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
            bodies, sockets = [], []
            for _ in range(2):
                connection.request('GET', '/')
                response = connection.getresponse()
                bodies.append(response.read().decode())
                sockets.append(connection.sock)
            same = sockets[0] is not None and sockets[0] is sockets[1]
            print(response.getheader('Trailer'), '|'.join(bodies), 'same-connection' if same else 'reconnected')
            """;
        ToolResult result = (await ExternalTool.RunAsync("python3", ["-c", script, server.Port.ToString()], TimeSpan.FromSeconds(30))).EnsureSuccess();
        Assert.Equal("X-Checksum hello|hello same-connection", result.StdOut.Trim());
    }
}

/// <summary>The same on the epoll transport.</summary>
public class EpollResponseTrailerTests : ResponseTrailerTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

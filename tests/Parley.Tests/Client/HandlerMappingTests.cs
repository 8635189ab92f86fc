using System.IO.Compression;
using System.Net;
using System.Text;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// <see cref="ParleyHandler"/> field by field against a scripted server: what goes on the wire for an
/// HttpRequestMessage, what an HttpResponseMessage shows of the response, and who disposes what.
/// </summary>
public class HandlerMappingTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static string[] Lines(string head) => head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

    private static ScriptedServer Answering(string response) => new(exchange => exchange.SendAsync(response));

    /// <summary>A body stream that cannot tell its length, as a pipe or a generator would be.</summary>
    private sealed class UnknownLength(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task Request_and_content_fields_go_out_once_with_the_framing_of_the_content()
    {
        await using var server = Answering("HTTP/1.1 204 No Content\r\n\r\n");
        using var client = new ParleyClient();
        using var http = new HttpClient(new ParleyHandler(client));
        var request = new HttpRequestMessage(HttpMethod.Post, server.Url) { Content = new StringContent("payload", Encoding.UTF8, "text/plain") };
        request.Headers.Add("X-Trace", "7");
        request.Content.Headers.ContentLanguage.Add("en");
        using (HttpResponseMessage response = await http.SendAsync(request, Test)) Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var chunked = new HttpRequestMessage(HttpMethod.Put, server.Url) { Content = new StreamContent(new UnknownLength("streamed"u8.ToArray())) };
        using (HttpResponseMessage response = await http.SendAsync(chunked, Test)) Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        string[] first = Lines(server.Requests[0]);
        Assert.Equal("POST / HTTP/1.1", first[0]);
        Assert.Equal(["Content-Length: 7"], first.Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)));
        Assert.Contains("X-Trace: 7", first);
        Assert.Contains("Content-Type: text/plain; charset=utf-8", first);
        Assert.Contains("Content-Language: en", first);
        Assert.DoesNotContain(first, l => l.StartsWith("Transfer-Encoding", StringComparison.OrdinalIgnoreCase));

        string[] second = Lines(server.Requests[1]);
        Assert.Equal("PUT / HTTP/1.1", second[0]);
        Assert.Contains("Transfer-Encoding: chunked", second);
        Assert.DoesNotContain(second, l => l.StartsWith("Content-Length", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_body_of_exactly_the_buffered_limit_is_sent_again_after_a_307()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.RequestOnConnection == 1
            ? "HTTP/1.1 307 Again\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var http = new HttpClient(new ParleyHandler());
        // A stream content (not a byte array) so that only the handler's buffering makes it sendable twice.
        var request = new HttpRequestMessage(HttpMethod.Post, server.Url) { Content = new StreamContent(new MemoryStream(new byte[1 << 20])) };
        using HttpResponseMessage response = await http.SendAsync(request, Test);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{server.Url}again", response.RequestMessage!.RequestUri!.ToString());
        Assert.Equal(2, server.Requests.Count);
        Assert.StartsWith("POST /again HTTP/1.1", server.Requests[1]);
    }

    [Fact]
    public async Task A_decoded_body_shows_neither_its_coding_nor_its_wire_length_but_a_plain_one_shows_its_length()
    {
        var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest)) gzip.Write("hello, decoded"u8);
        byte[] wire = gzipped.ToArray();
        await using var server = new ScriptedServer(exchange => exchange.Head.StartsWith("GET /gz", StringComparison.Ordinal)
            ? exchange.SendAsync([.. Encoding.Latin1.GetBytes($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {wire.Length}\r\nX-Kept: 1\r\n\r\n"), .. wire])
            : exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Language: en\r\n\r\nplain"));
        using var http = new HttpClient(new ParleyHandler(new ParleyClientOptions { AutomaticDecompression = true }));

        using HttpResponseMessage decoded = await http.GetAsync($"{server.Url}gz", HttpCompletionOption.ResponseHeadersRead, Test);
        Assert.Empty(decoded.Content.Headers.ContentEncoding);
        Assert.Null(decoded.Content.Headers.ContentLength);
        Assert.Equal("1", decoded.Headers.GetValues("X-Kept").Single());
        Assert.Equal("hello, decoded", await decoded.Content.ReadAsStringAsync(Test));

        using HttpResponseMessage plain = await http.GetAsync($"{server.Url}plain", HttpCompletionOption.ResponseHeadersRead, Test);
        Assert.Equal(5, plain.Content.Headers.ContentLength);
        Assert.Equal(["en"], plain.Content.Headers.ContentLanguage);
        Assert.Equal("plain", await plain.Content.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task A_ws_uri_is_requested_over_http()
    {
        await using var server = Answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var invoker = new HttpMessageInvoker(new ParleyHandler());
        using HttpResponseMessage response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"ws://127.0.0.1:{server.Port}/chat"), Test);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"http://127.0.0.1:{server.Port}/chat", response.RequestMessage!.RequestUri!.ToString());
        Assert.StartsWith("GET /chat HTTP/1.1", server.Requests[0]);
    }

    [Fact]
    public async Task Disposing_an_unread_response_closes_its_connection()
    {
        await using var server = Answering($"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n{new string('x', 200000)}");
        using var client = new ParleyClient();
        using var http = new HttpClient(new ParleyHandler(client));
        HttpResponseMessage response = await http.GetAsync(server.Url, HttpCompletionOption.ResponseHeadersRead, Test);
        Assert.Equal(1, client.ConnectionCount);
        response.Dispose();
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task A_handler_disposes_its_own_client_but_not_a_shared_one()
    {
        await using var server = Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var owning = new ParleyHandler();
        ParleyClient own = owning.Client;
        owning.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await own.GetAsync(server.Url, Test));

        using var shared = new ParleyClient();
        new ParleyHandler(shared).Dispose();
        using ParleyResponse response = await shared.GetAsync(server.Url, Test);
        Assert.Equal("ok", await response.ReadAsStringAsync(Test));
    }
}

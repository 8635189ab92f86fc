using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

public sealed record Person(string Name, int Age);

[JsonSerializable(typeof(Person))]
public sealed partial class PersonJson : JsonSerializerContext;

/// <summary>Ordinary HttpClient code running over <see cref="ParleyHandler"/>.</summary>
public class HandlerTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static async ValueTask Site(HttpRequest request, HttpResponse response)
    {
        switch (request.Path)
        {
            case "/json":
                byte[] body = await request.ReadBodyAsync(1 << 20);
                response.Headers.Set("X-Seen-Type", request.Headers["Content-Type"] ?? "");
                response.WriteJson(body);
                return;
            case "/big":
                byte[] block = new byte[32 * 1024];
                Array.Fill(block, (byte)'z');
                for (int i = 0; i < 64; i++) await response.WriteAsync(block);
                return;
            case "/moved":
                response.Redirect("/json", 307);
                return;
            case "/slow":
                // Far longer than any bound below: only the client's timeout or cancellation ends the wait.
                await Task.Delay(TimeSpan.FromSeconds(30), Test);
                return;
            default:
                response.Headers.Set("X-Custom", "yes");
                response.Headers.Set("Last-Modified", "Tue, 15 Nov 1994 08:12:31 GMT");
                response.WriteText($"hello {request.Headers["User-Agent"]} {request.Headers["Accept"]}");
                return;
        }
    }

    [Fact]
    public async Task GET_maps_status_headers_and_content_headers()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var http = new HttpClient(new ParleyHandler()) { BaseAddress = server.BaseUri };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("test/1.0");
        http.DefaultRequestHeaders.Accept.ParseAdd("text/plain");
        using HttpResponseMessage response = await http.GetAsync("/", Test);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK", response.ReasonPhrase);
        Assert.Equal(new Version(1, 1), response.Version);
        Assert.Equal("yes", response.Headers.GetValues("X-Custom").Single());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Equal("hello test/1.0 text/plain", await response.Content.ReadAsStringAsync(Test));
        Assert.Equal("hello test/1.0 text/plain", await http.GetStringAsync("/", Test));
    }

    [Fact]
    public async Task POST_JSON_round_trips_with_a_source_generated_context()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var http = new HttpClient(new ParleyHandler());
        using HttpResponseMessage response = await http.PostAsJsonAsync($"{server.BaseUri}json", new Person("Joe User", 42), PersonJson.Default.Person, Test);
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("application/json", response.Headers.GetValues("X-Seen-Type").Single());
        Person? echoed = await response.Content.ReadFromJsonAsync(PersonJson.Default.Person, Test);
        Assert.Equal(new Person("Joe User", 42), echoed);
    }

    [Fact]
    public async Task Streams_a_download_with_ResponseHeadersRead()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var http = new HttpClient(new ParleyHandler());
        using HttpResponseMessage response = await http.GetAsync($"{server.BaseUri}big", HttpCompletionOption.ResponseHeadersRead, Test);
        Assert.True(response.Headers.TransferEncodingChunked);
        await using Stream body = await response.Content.ReadAsStreamAsync(Test);
        long total = 0;
        byte[] buffer = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(buffer, Test)) > 0) total += read;
        Assert.Equal(64 * 32 * 1024, total);
    }

    [Fact]
    public async Task Follows_a_307_with_the_body_and_reports_the_final_uri()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var http = new HttpClient(new ParleyHandler());
        using HttpResponseMessage response = await http.PostAsync($"{server.BaseUri}moved", new StringContent("{\"a\":1}", Encoding.UTF8, "application/json"), Test);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{server.BaseUri}json", response.RequestMessage?.RequestUri?.ToString());
        Assert.Equal("{\"a\":1}", await response.Content.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task Cancellation_and_HttpClient_Timeout_stop_a_slow_request()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var http = new HttpClient(new ParleyHandler()) { Timeout = TimeSpan.FromMilliseconds(300) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => http.GetAsync($"{server.BaseUri}slow", Test));
        Assert.True(clock.Elapsed < http.Timeout + ServerTiming.LoadAllowance, $"HttpClient.Timeout ended it after {clock.Elapsed.TotalSeconds:F1} s");
        using var cancel = new CancellationTokenSource(200);
        using var patient = new HttpClient(new ParleyHandler());
        clock.Restart();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => patient.GetAsync($"{server.BaseUri}slow", cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(200) + ServerTiming.LoadAllowance, $"cancellation ended it after {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Failures_surface_as_HttpRequestException()
    {
        await using var hostile = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 2OO OK\r\n\r\n"));
        using var http = new HttpClient(new ParleyHandler());
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(hostile.Url, Test));
        Assert.Equal(HttpRequestError.InvalidResponse, error.HttpRequestError);
        Assert.IsType<ParleyHttpException>(error.InnerException);
    }

    [Fact]
    public async Task Trailers_of_a_chunked_body_reach_TrailingHeaders()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Digest: sha-256=x\r\n\r\n"));
        using var http = new HttpClient(new ParleyHandler());
        using HttpResponseMessage response = await http.GetAsync(server.Url, Test);
        Assert.Equal("abc", await response.Content.ReadAsStringAsync(Test));
        Assert.Equal("sha-256=x", response.TrailingHeaders.GetValues("X-Digest").Single());
    }
}

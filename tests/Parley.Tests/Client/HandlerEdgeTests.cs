using System.Net;
using Parley.Client;
using Parley.Tests.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary>
/// <see cref="ParleyHandler"/> at its edges: a request without a URI, wss://, Expect: 100-continue from
/// HttpClient, failures while the body is read, and a 101's content (the connection) through HttpClient's types.
/// </summary>
public class HandlerEdgeTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task A_request_without_a_URI_is_refused_with_the_reason()
    {
        using var invoker = new HttpMessageInvoker(new ParleyHandler());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => invoker.SendAsync(new HttpRequestMessage(), Test));
        Assert.Equal("the request has no RequestUri", error.Message);
    }

    [Fact]
    public async Task A_wss_URI_is_requested_over_https()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText($"{request.Method} {request.Path}");
            return ValueTask.CompletedTask;
        }, tls: true);
        var options = new ParleyClientOptions();
        options.ExtraTrustedRoots.ImportFromPemFile(TestCertificates.CaBundlePath);
        using var invoker = new HttpMessageInvoker(new ParleyHandler(options));
        using HttpResponseMessage response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"wss://127.0.0.1:{server.Port}/chat"), Test);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"https://127.0.0.1:{server.Port}/chat", response.RequestMessage!.RequestUri!.ToString());
        Assert.Equal("GET /chat", await response.Content.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task Expect_100_continue_from_HttpClient_holds_the_body_for_the_servers_answer()
    {
        // A final answer instead of 100 Continue: the body is never sent (RFC 9110 §10.1.1).
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            exchange.CloseAfter = true;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer, ExpectContinueTimeout = TimeSpan.FromMinutes(10) });
        using var http = new HttpClient(new ParleyHandler(client));
        var request = new HttpRequestMessage(HttpMethod.Put, server.Url) { Content = new StringContent("payload") };
        request.Headers.ExpectContinue = true;
        request.Headers.Add("X-Trace", "7");

        using HttpResponseMessage response = await http.SendAsync(request, Test);
        Assert.Equal(HttpStatusCode.ExpectationFailed, response.StatusCode);
        string[] head = server.Requests[0].Split("\r\n");
        Assert.Equal(["Expect: 100-continue"], head.Where(l => l.StartsWith("Expect:", StringComparison.OrdinalIgnoreCase)));
        Assert.Contains("X-Trace: 7", head);
        Assert.Contains(SessionEventKind.RequestHeadSent, observer.Kinds());
        Assert.DoesNotContain(SessionEventKind.RequestBodySent, observer.Kinds());
    }

    [Fact]
    public async Task A_body_that_fails_midway_surfaces_as_HttpIOException_of_the_matching_kind()
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            if (exchange.Head.StartsWith("GET /truncated", StringComparison.Ordinal))
            {
                await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this");
                exchange.CloseAfter = true;
                return;
            }
            await exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nthen nothing");
            await exchange.HangAsync();
        });
        using var http = new HttpClient(new ParleyHandler(new ParleyClientOptions { BodyIdleTimeout = TimeSpan.FromMilliseconds(300) }));

        using (HttpResponseMessage truncated = await http.GetAsync($"{server.Url}truncated", HttpCompletionOption.ResponseHeadersRead, Test))
        {
            Stream body = await truncated.Content.ReadAsStreamAsync(Test);
            var error = await Assert.ThrowsAsync<HttpIOException>(() => body.CopyToAsync(Stream.Null, Test));
            Assert.Equal(HttpRequestError.InvalidResponse, error.HttpRequestError);
            Assert.Equal(ParleyErrorKind.MalformedResponse, Assert.IsType<ParleyHttpException>(error.InnerException).Kind);
        }
        using (HttpResponseMessage stalled = await http.GetAsync($"{server.Url}stalled", HttpCompletionOption.ResponseHeadersRead, Test))
        {
            Stream body = await stalled.Content.ReadAsStreamAsync(Test);
            var error = await Assert.ThrowsAsync<HttpIOException>(() => body.CopyToAsync(Stream.Null, Test));
            Assert.Equal(HttpRequestError.Unknown, error.HttpRequestError);
            Assert.Equal(ParleyErrorKind.Timeout, Assert.IsType<ParleyHttpException>(error.InnerException).Kind);
        }
    }

    [Fact]
    public async Task A_101s_content_is_the_connection_of_unknown_length_and_disposing_the_response_closes_it()
    {
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly"));
        using var invoker = new HttpMessageInvoker(new ParleyHandler());
        HttpRequestMessage Upgrade()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, server.Url);
            request.Headers.Add("Connection", "upgrade");
            request.Headers.Add("Upgrade", "echo");
            return request;
        }

        HttpResponseMessage read = await invoker.SendAsync(Upgrade(), Test);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, read.StatusCode);
        Assert.Null(read.Content.Headers.ContentLength);
        Stream connection = await read.Content.ReadAsStreamAsync(Test);
        Assert.True(connection.CanWrite);
        byte[] early = new byte[5];
        await connection.ReadExactlyAsync(early, Test);
        Assert.Equal("early"u8.ToArray(), early);
        read.Dispose();
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Closed == 1, TimeSpan.FromSeconds(30)), "the connection stayed open");

        // Disposed without its content ever being asked for: the connection closes all the same, and is gone.
        HttpResponseMessage unread = await invoker.SendAsync(Upgrade(), Test);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, unread.StatusCode);
        unread.Dispose();
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Closed == 2, TimeSpan.FromSeconds(30)), "the unread connection stayed open");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => unread.Content.ReadAsStreamAsync(Test));
    }
}

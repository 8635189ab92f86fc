using System.Text;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>The client against Parley's own server over loopback TCP: requests, bodies, framing, pooling.</summary>
public class ClientExchangeTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static async ValueTask Echo(HttpRequest request, HttpResponse response)
    {
        byte[] body = await request.ReadBodyAsync(8 << 20);
        response.Headers.Set("Content-Type", "application/octet-stream");
        response.Headers.Set("X-Method", request.Method);
        response.Headers.Set("X-Host", request.Host);
        response.Headers.Set("X-Content-Type", request.Headers["Content-Type"] ?? "");
        response.Headers.Set("X-Transfer-Encoding", request.Headers["Transfer-Encoding"] ?? "");
        response.Headers.Set("X-Request-Number", request.RequestNumberOnConnection.ToString());
        response.Write(body);
    }

    [Fact]
    public async Task Gets_status_fields_and_body_from_Parley_server()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.Headers.Add("Set-Cookie", "a=1");
            response.Headers.Add("Set-Cookie", "b=2");
            response.WriteText("Hello, World!");
            return ValueTask.CompletedTask;
        });
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync($"{server.BaseUri}hello", Test);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("OK", response.ReasonPhrase);
        Assert.Equal(System.Net.HttpVersion.Version11, response.Version);
        Assert.Equal("text/plain; charset=utf-8", response.Headers["content-type"]);
        Assert.Equal(["a=1", "b=2"], response.Headers.GetValues("SET-COOKIE"));
        Assert.Equal(13, response.ContentLength);
        Assert.Equal("Hello, World!", await response.ReadAsStringAsync(Test));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(response.RawHead.Span));
    }

    [Fact]
    public async Task Reuses_one_keep_alive_connection_for_sequential_requests()
    {
        await using var server = await TestServer.StartAsync(Echo);
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        for (int i = 1; i <= 5; i++)
        {
            using ParleyResponse response = await client.GetAsync($"{server.BaseUri}", Test);
            Assert.Equal(i.ToString(), response.Headers["X-Request-Number"]);
        }
        Assert.Equal([false, true, true, true, true], observer.ReuseFlags());
        Assert.Equal(1, client.ConnectionCount);
    }

    [Fact]
    public async Task Sends_Host_without_the_default_port_and_with_another_port()
    {
        await using var server = await TestServer.StartAsync(Echo);
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using ParleyResponse response = await client.GetAsync($"http://127.0.0.1:{server.Port}/a?b=c", Test);
        Assert.Equal($"127.0.0.1:{server.Port}", response.Headers["X-Host"]);
        string head = observer.Single(SessionEventKind.RequestHeadSent);
        Assert.StartsWith($"GET /a?b=c HTTP/1.1\r\n", head);
        Assert.EndsWith("\r\n\r\n", head);

        var request = new ParleyRequest("GET", "http://example.test/x");
        Assert.Equal("example.test", Origin.Of(request.Uri).HostField());
        Assert.Equal("[::1]:8080", Origin.Of(new Uri("http://[::1]:8080/")).HostField());
        Assert.Equal(80, Origin.Of(new Uri("http://example.test/")).Port);
    }

    [Fact]
    public async Task Posts_form_fields_urlencoded()
    {
        await using var server = await TestServer.StartAsync(Echo);
        using var client = new ParleyClient();
        ParleyRequest request = ParleyRequest.PostForm($"{server.BaseUri}form", [new("name", "Joe User"), new("request", "a&b=c ü")]);
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal("POST", response.Headers["X-Method"]);
        Assert.Equal("application/x-www-form-urlencoded", response.Headers["X-Content-Type"]);
        Assert.Equal("name=Joe+User&request=a%26b%3Dc+%C3%BC", await response.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task Sends_a_stream_of_unknown_length_chunked()
    {
        await using var server = await TestServer.StartAsync(Echo);
        using var client = new ParleyClient();
        byte[] payload = new byte[100_000];
        new Random(1).NextBytes(payload);
        var request = new ParleyRequest("PUT", $"{server.BaseUri}up") { Content = ParleyContent.FromStream(new MemoryStream(payload)) };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal("chunked", response.Headers["X-Transfer-Encoding"]);
        Assert.Equal(payload, await response.ReadAsByteArrayAsync(Test));
    }

    [Fact]
    public async Task Streams_a_large_chunked_download_as_it_arrives()
    {
        const int Size = 8 << 20;
        var clientGotFirstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            byte[] block = new byte[64 * 1024];
            for (int i = 0; i < block.Length; i++) block[i] = (byte)i;
            await response.WriteAsync(block);
            await response.FlushAsync();
            // The rest is only sent once the client has read the start: a client that buffered the
            // whole body before handing it out would wait here until the test timeout.
            await clientGotFirstBytes.Task.WaitAsync(TimeSpan.FromSeconds(10));
            for (int sent = block.Length; sent < Size; sent += block.Length) await response.WriteAsync(block);
        });
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync($"{server.BaseUri}big", Test);
        Assert.Null(response.ContentLength);
        Assert.Equal("chunked", response.Headers["Transfer-Encoding"]);
        long total = 0;
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await response.Body.ReadAsync(buffer, Test)) > 0)
        {
            Assert.Equal((byte)(total % 256), buffer[0]);
            total += read;
            clientGotFirstBytes.TrySetResult();
        }
        Assert.Equal(Size, total);
        Assert.True(response.IsBodyComplete);
        Assert.Equal(1, client.IdleConnectionCount(server.BaseUri));
    }

    [Fact]
    public async Task Reads_no_body_for_HEAD_204_and_304_and_reuses_the_connection()
    {
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            if (request.Path == "/204") response.StatusCode = 204;
            else if (request.Path == "/304") response.StatusCode = 304;
            else response.WriteText("body that HEAD must not read");
            return ValueTask.CompletedTask;
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        using (ParleyResponse head = await client.SendAsync(new ParleyRequest("HEAD", $"{server.BaseUri}x"), Test))
        {
            Assert.Equal(200, head.StatusCode);
            Assert.Equal("", await head.ReadAsStringAsync(Test));
        }
        using (ParleyResponse noContent = await client.GetAsync($"{server.BaseUri}204", Test)) Assert.Equal(204, noContent.StatusCode);
        using (ParleyResponse notModified = await client.GetAsync($"{server.BaseUri}304", Test)) Assert.Equal(304, notModified.StatusCode);
        using (ParleyResponse get = await client.GetAsync($"{server.BaseUri}x", Test))
        {
            Assert.Equal("body that HEAD must not read", await get.ReadAsStringAsync(Test));
        }
        Assert.Equal([false, true, true, true], observer.ReuseFlags());
    }

    [Fact]
    public async Task Expect_100_continue_waits_for_the_server_then_sends_the_body()
    {
        await using var server = await TestServer.StartAsync(Echo);
        var observer = new RecordingObserver();
        // A wait for 100 Continue longer than the test's own bound: the body can only have gone on the 100.
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer, ExpectContinueTimeout = TimeSpan.FromMinutes(10) });
        var request = new ParleyRequest("POST", $"{server.BaseUri}upload")
        {
            Content = ParleyContent.FromBytes(new byte[300_000]),
            ExpectContinue = true,
        };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal(300_000, (await response.ReadAsByteArrayAsync(Test)).Length);
        List<SessionEventKind> kinds = observer.Kinds();
        Assert.Contains("Expect: 100-continue\r\n", observer.Single(SessionEventKind.RequestHeadSent));
        int interim = kinds.IndexOf(SessionEventKind.InterimResponseReceived);
        int bodySent = kinds.IndexOf(SessionEventKind.RequestBodySent);
        Assert.True(interim >= 0, $"no 100 Continue was seen: {string.Join(", ", kinds)}");
        Assert.True(bodySent >= 0, $"the body was never sent: {string.Join(", ", kinds)}");
        Assert.True(interim < bodySent, $"the body went before 100 Continue: {string.Join(", ", kinds)}");
        Assert.Equal(100, observer.Events.Single(e => e.Kind == SessionEventKind.InterimResponseReceived).Status);
    }

    [Fact]
    public async Task Session_events_come_in_walkthrough_order()
    {
        await using var server = await TestServer.StartAsync(Echo);
        var observer = new RecordingObserver();
        using var client = new ParleyClient();
        var request = new ParleyRequest("POST", $"{server.BaseUri}")
        {
            Content = ParleyContent.FromString("hi"),
            Observer = observer,
        };
        using (ParleyResponse response = await client.SendAsync(request, Test)) await response.ReadAsStringAsync(Test);
        Assert.Equal(
            [SessionEventKind.Resolving, SessionEventKind.Resolved, SessionEventKind.Connecting, SessionEventKind.Connected,
             SessionEventKind.RequestHeadSent, SessionEventKind.RequestBodySent, SessionEventKind.FirstResponseByte,
             SessionEventKind.ResponseHeadReceived, SessionEventKind.ResponseBodyDone],
            observer.Kinds());
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", observer.Single(SessionEventKind.ResponseHeadReceived));
    }

    [Fact]
    public async Task Many_concurrent_keep_alive_exchanges_all_succeed()
    {
        // Sockets complete both synchronously and asynchronously here: every path of a receive gets used.
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText(request.Path);
            return ValueTask.CompletedTask;
        });
        using var client = new ParleyClient();
        var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 150; i++)
            {
                using ParleyResponse response = await client.SendAsync(new ParleyRequest("GET", $"{server.BaseUri}{w}/{i}"), Test);
                Assert.Equal($"/{w}/{i}", await response.ReadAsStringAsync(Test));
            }
        }));
        await Task.WhenAll(workers);
        Assert.True(client.ConnectionCount <= 16);
    }
}

using System.Net.Sockets;
using System.Text;

namespace Parley.AspNetCore.Tests;

/// <summary>
/// The same requests to the same application on Kestrel and on Parley (both transports): same status,
/// same fields (Date, Server and framing aside, see <see cref="RawResponse.ComparableFields"/>), same body.
/// Each case also states what the answer must be, so Kestrel's answer is checked as well as Parley's.
/// </summary>
public sealed class CompatibilityTests(ServersFixture servers) : IClassFixture<ServersFixture>
{
    public sealed record Case(string Name, string Method, string Target, int Status, string? Fields = null, byte[]? Body = null, string? BodyContains = null);

    private static readonly byte[] Upload = MakeUpload(5 * 1024 * 1024);

    private static readonly Case[] Cases =
    [
        new("text", "GET", "/hello/world", 200, BodyContains: "Hello, world!"),
        new("text-encoded", "GET", "/hello/a%20b", 200, BodyContains: "Hello, a b!"),
        new("encoded-slash", "GET", "/hello/a%2Fb", 200, BodyContains: "Hello, a"),
        new("dot-segments", "GET", "/hello/../hello/dots", 200, BodyContains: "Hello, dots!"),
        new("json-typed", "GET", "/items/7", 200, BodyContains: "\"id\":7"),
        new("json-results", "GET", "/json/3", 200, BodyContains: "\"Name\":\"json\""),
        new("json-post", "POST", "/items", 201, "Content-Type: application/json\r\n", "{\"id\":5,\"name\":\"five\",\"tags\":[\"x\"]}"u8.ToArray(), "\"FIVE\""),
        new("json-post-invalid", "POST", "/items", 400, "Content-Type: application/json\r\n", "{\"id\":"u8.ToArray()),
        new("form", "POST", "/form", 200, "Content-Type: application/x-www-form-urlencoded\r\n", "name=bob&count=3"u8.ToArray(), "bob x3"),
        new("form-file", "POST", "/form-file", 200, "Content-Type: multipart/form-data; boundary=XyZ\r\n",
            Encoding.ASCII.GetBytes("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--XyZ--\r\n"), "a.txt:9:file body"),
        new("file", "GET", "/file", 200),
        new("file-range", "GET", "/file", 206, "Range: bytes=100-199\r\n"),
        new("file-head", "HEAD", "/file", 405),
        new("stream", "GET", "/stream", 200, BodyContains: "streamed line"),
        new("static-html", "GET", "/index.html", 200, BodyContains: "static page"),
        new("static-css", "GET", "/css/site.css", 200, BodyContains: "#123456"),
        new("static-missing", "GET", "/css/none.css", 404),
        new("compressed", "GET", "/compressible", 200, "Accept-Encoding: gzip\r\n"),
        new("uncompressed", "GET", "/compressible", 200, BodyContains: "compress me please"),
        new("exception-handler", "GET", "/throw", 500, BodyContains: "handled: boom"),
        new("unhandled-exception", "GET", "/raw/throw", 500),
        new("sse", "GET", "/sse", 200, "Accept: text/event-stream\r\n", BodyContains: "event: tick\ndata: event 3\n\n"),
        new("query", "GET", "/query?q=x%20y&page=2", 200, BodyContains: "q=x y;page=2"),
        new("headers", "GET", "/headers", 200, "User-Agent: compat/1\r\nX-Multi: a\r\nX-Multi: b\r\n", BodyContains: "ua=compat/1;x=a|b"),
        new("status-418", "GET", "/status/418", 418),
        new("status-204", "GET", "/status/204", 204),
        new("redirect", "GET", "/redirect", 302),
        new("put-no-content", "PUT", "/items/1", 204, Body: []),
        new("not-found", "GET", "/nope", 404),
        new("method-not-allowed", "DELETE", "/hello/x", 405),
        new("head", "HEAD", "/hello/world", 405),
        new("static-head", "HEAD", "/css/site.css", 200),
        new("sync-io-refused", "GET", "/raw/sync-write", 200, BodyContains: "refused"),
        new("sync-io-allowed", "GET", "/raw/sync-write-allowed", 200, BodyContains: "sync!"),
        new("headers-read-only", "GET", "/raw/readonly-headers", 200, BodyContains: "started;read-only"),
        new("callbacks", "GET", "/raw/callbacks", 200, BodyContains: "before=False;after=True"),
        new("one-go", "GET", "/raw/content-length-one-go", 200, BodyContains: "one go"),
        new("flushed", "GET", "/raw/flushed", 200, BodyContains: "first,second"),
        new("body-limit", "POST", "/raw/upload-limit", 413, Body: new byte[2000]),
        new("body-limit-chunked", "POST", "/raw/upload-limit", 413, "Transfer-Encoding: chunked\r\n", Chunk(new byte[2000])),
        new("body-within-limit", "POST", "/raw/upload-limit", 200, Body: new byte[500], BodyContains: "read 500"),
        new("upload", "POST", "/upload", 200, Body: Upload, BodyContains: $"{Upload.Length}:"),
        new("upload-chunked", "POST", "/upload", 200, "Transfer-Encoding: chunked\r\n", Chunk(Upload), $"{Upload.Length}:"),
        new("trailers-head", "HEAD", "/raw/trailers", 200),
        new("trailers-then-throw", "GET", "/raw/trailers-then-throw", 500),
        new("trailers-refused", "GET", "/raw/trailers-refused", 200, BodyContains: "refused,threw"),
        new("connection", "GET", "/raw/connection?x=1", 200, BodyContains: "127.0.0.1|True|True|True|False|HTTP/1.1|http|/connection|?x=1"),
    ];

    public static TheoryData<ServerKind, string> ParleyCases()
    {
        var data = new TheoryData<ServerKind, string>();
        foreach (ServerKind kind in new[] { ServerKind.ParleyEpoll, ServerKind.ParleySockets })
        {
            foreach (Case c in Cases) data.Add(kind, c.Name);
        }
        return data;
    }

    public static TheoryData<ServerKind> AllKinds() => [ServerKind.Kestrel, ServerKind.ParleyEpoll, ServerKind.ParleySockets];

    [Theory]
    [MemberData(nameof(ParleyCases))]
    public async Task SameAnswerAsKestrel(ServerKind parley, string name)
    {
        Case c = Cases.Single(x => x.Name == name);
        RawResponse kestrel = await SendAsync(ServerKind.Kestrel, c);
        RawResponse ours = await SendAsync(parley, c);

        Assert.Equal(c.Status, kestrel.Status);
        if (c.BodyContains is not null) Assert.Contains(c.BodyContains, kestrel.BodyText);
        Assert.Equal(kestrel.Status, ours.Status);
        Assert.Equal(kestrel.ComparableFields, ours.ComparableFields);
        Assert.Equal(kestrel.Body, ours.Body);
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task ContentLengthForABodyOfKnownLengthChunkedWhenFlushed(ServerKind kind)
    {
        int port = servers[kind].Port;
        RawResponse text = await RawHttp.SendAsync(port, "GET", "/hello/world");
        Assert.Equal("length", text.Framing);
        Assert.Equal("13", text.Field("Content-Length"));
        RawResponse flushed = await RawHttp.SendAsync(port, "GET", "/raw/flushed");
        Assert.Equal("chunked", flushed.Framing);
        RawResponse file = await RawHttp.SendAsync(port, "GET", "/file");
        Assert.Equal("length", file.Framing);
        Assert.Equal(servers.DataFile, file.Body);
    }

    // Kestrel sends what a synchronous Body.Flush() holds at the flush. Parley joins a flush made before the
    // application's task returns with the rest of the response, but not a synchronous one: the application
    // may block its thread after it, as this one does until the client has seen the flushed bytes.
    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task A_synchronous_flush_is_sent_before_the_application_blocks(ServerKind kind)
    {
        CompatApp app = servers[kind];
        app.Signals.Reset();
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, app.Port);
        System.Net.Sockets.NetworkStream stream = client.GetStream();
        await stream.WriteAsync("GET /raw/sync-flush-then-block HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
        var received = new System.Text.StringBuilder();
        byte[] buffer = new byte[4096];
        async Task ReadUntilAsync(string marker)
        {
            while (!received.ToString().Contains(marker, StringComparison.Ordinal))
            {
                int read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.True(read > 0, $"the connection closed after: {received}");
                received.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        await ReadUntilAsync("first;");
        app.Signals.Release.TrySetResult();
        await ReadUntilAsync("\r\n0\r\n\r\n");
        // "timed-out" instead: the flushed bytes arrived only once the application stopped blocking.
        Assert.Contains("second", received.ToString(), StringComparison.Ordinal);
    }

    // docs/aspnetcore.md: Kestrel starts chunked coding at an application's first write; Parley holds a
    // body written without a flush (up to a buffer) and sends it with a Content-Length (RFC 9112 §6.2).
    [Theory]
    [InlineData(ServerKind.Kestrel, "chunked")]
    [InlineData(ServerKind.ParleyEpoll, "length")]
    [InlineData(ServerKind.ParleySockets, "length")]
    public async Task BodyWrittenInOneGoWithoutALength(ServerKind kind, string framing)
    {
        RawResponse response = await RawHttp.SendAsync(servers[kind].Port, "GET", "/raw/content-length-one-go");
        Assert.Equal(framing, response.Framing);
        Assert.Equal("one go", response.BodyText);
    }

    // docs/aspnetcore.md: Kestrel offers no IHttpResponseTrailersFeature over HTTP/1.1, so an application
    // that checks SupportsTrailers() sends none there; Parley sends them in the chunked trailer section.
    // Everything else of the response is the same.
    [Theory]
    [InlineData(ServerKind.ParleyEpoll)]
    [InlineData(ServerKind.ParleySockets)]
    public async Task TrailersDeclaredAndAppendedAreSentByParleyAndSkippedOnKestrel(ServerKind parley)
    {
        RawResponse kestrel = await RawHttp.SendAsync(servers[ServerKind.Kestrel].Port, "GET", "/raw/trailers");
        RawResponse ours = await RawHttp.SendAsync(servers[parley].Port, "GET", "/raw/trailers");
        string checksum = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(kestrel.Body));

        Assert.Equal("trailed body, then its checksum", kestrel.BodyText);
        Assert.Equal(kestrel.Body, ours.Body);
        Assert.Equal("chunked", kestrel.Framing);
        Assert.Equal("chunked", ours.Framing);
        Assert.Null(kestrel.Field("Trailer"));
        Assert.Equal("", kestrel.TrailerSection);
        Assert.Equal("x-checksum", ours.Field("Trailer"));
        Assert.Equal($"x-checksum: {checksum}\r\n", ours.TrailerSection);
        Assert.Equal(kestrel.ComparableFields, string.Join("\n", ours.ComparableFields.Split('\n').Where(line => line != "trailer: x-checksum")));
    }

    [Theory]
    [InlineData(ServerKind.Kestrel, "no trailers", "")]
    [InlineData(ServerKind.ParleyEpoll, "content-type trailer refused", "x-replaced: a\r\nx-replaced: b\r\n")]
    [InlineData(ServerKind.ParleySockets, "content-type trailer refused", "x-replaced: a\r\nx-replaced: b\r\n")]
    public async Task AForbiddenTrailerIsRefusedAtOnceAndAReplacedCollectionIsSent(ServerKind kind, string body, string trailerSection)
    {
        RawResponse response = await RawHttp.SendAsync(servers[kind].Port, "GET", "/raw/trailers-checked");
        Assert.Equal(200, response.Status);
        Assert.Equal(body, response.BodyText);
        Assert.Equal(trailerSection, response.TrailerSection);
    }

    // HTTP/1.0 has no chunked coding (RFC 9112 §7.1): SupportsTrailers() is false on both servers.
    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task AnHttp10RequestGetsNoTrailers(ServerKind kind)
    {
        using Socket socket = await ConnectAsync(kind);
        await socket.SendAsync("GET /raw/trailers HTTP/1.0\r\nHost: x\r\n\r\n"u8.ToArray());
        RawResponse response = RawHttp.Parse(await RawHttp.ReadToEndAsync(socket));
        Assert.Equal("trailed body, then its checksum", response.BodyText);
        Assert.Equal("close", response.Framing);
        Assert.Null(response.Field("Trailer"));
    }

    [Theory]
    [InlineData(ServerKind.ParleyEpoll)]
    [InlineData(ServerKind.ParleySockets)]
    public async Task HttpClientReadsParleysTrailersIntoTrailingHeaders(ServerKind parley)
    {
        using var http = new HttpClient();
        using HttpResponseMessage response = await http.GetAsync($"{servers[parley].BaseAddress}raw/trailers");
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)), response.TrailingHeaders.GetValues("x-checksum").Single());
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task ExceptionAfterTheResponseStartedAbortsIt(ServerKind kind)
    {
        using var socket = await ConnectAsync(kind);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /raw/throw-after-start HTTP/1.1\r\nHost: x\r\n\r\n"));
        byte[] all = await RawHttp.ReadToEndAsync(socket);
        string text = Encoding.ASCII.GetString(all);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", text);
        Assert.Contains("partial ", text);
        // The connection closed without the last chunk: the client can tell the response is incomplete.
        Assert.Throws<InvalidDataException>(() => RawHttp.Parse(all));
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task OnStartingRunsLastRegisteredFirstAndOnCompletedAfterTheResponse(ServerKind kind)
    {
        CompatApp app = servers[kind];
        app.Signals.Reset();
        RawResponse response = await RawHttp.SendAsync(app.Port, "GET", "/raw/callbacks");
        Assert.Equal("yes", response.Field("X-Started-First"));
        Assert.Equal("after-first", response.Field("X-Started-Second"));
        Assert.True(await app.Signals.Completed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task RequestServicesAreOneScopePerRequestDisposedAfterTheCompletionCallbacks(ServerKind kind)
    {
        CompatApp app = servers[kind];
        var ids = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            app.Signals.Reset();
            RawResponse response = await RawHttp.SendAsync(app.Port, "GET", "/raw/scoped");
            Assert.StartsWith("same=True;id=", response.BodyText);
            ids.Add(response.BodyText);
            Assert.False(await app.Signals.ProbeDisposedAtCompletion.Task.WaitAsync(TimeSpan.FromSeconds(30)));
            await app.Signals.Probe!.Disposed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.NotEqual(ids[0], ids[1]);
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task RequestAbortedFiresWhenTheClientGoesAway(ServerKind kind)
    {
        CompatApp app = servers[kind];
        app.Signals.Reset();
        using (Socket socket = await ConnectAsync(kind))
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /raw/wait-for-abort HTTP/1.1\r\nHost: x\r\n\r\n"));
            await app.Signals.WaitEntered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            socket.Shutdown(SocketShutdown.Both);
        }
        await app.Signals.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The server keeps serving.
        RawResponse after = await RawHttp.SendAsync(app.Port, "GET", "/hello/after");
        Assert.Equal("Hello, after!", after.BodyText);
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task KeepAliveConnectionServesManyRequestsAndPipelines(ServerKind kind)
    {
        using Socket socket = await ConnectAsync(kind);
        var requests = new StringBuilder();
        for (int i = 0; i < 5; i++) requests.Append($"GET /hello/n{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        requests.Append("GET /hello/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(requests.ToString()));
        string all = Encoding.ASCII.GetString(await RawHttp.ReadToEndAsync(socket));
        for (int i = 0; i < 5; i++) Assert.Contains($"Hello, n{i}!", all);
        Assert.EndsWith("Hello, last!", all);
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void AddressIsReportedWithTheRealPort(ServerKind kind)
    {
        Uri address = servers[kind].BaseAddress;
        Assert.Equal("127.0.0.1", address.Host);
        Assert.NotEqual(0, address.Port);
    }

    private async Task<Socket> ConnectAsync(ServerKind kind)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", servers[kind].Port);
        return socket;
    }

    private Task<RawResponse> SendAsync(ServerKind kind, Case c) =>
        RawHttp.SendAsync(servers[kind].Port, c.Method, c.Target, c.Fields, c.Body);

    private static byte[] MakeUpload(int length)
    {
        byte[] data = new byte[length];
        new Random(7).NextBytes(data);
        return data;
    }

    private static byte[] Chunk(byte[] body)
    {
        using var chunked = new MemoryStream();
        for (int at = 0; at < body.Length; at += 100_000)
        {
            int n = Math.Min(100_000, body.Length - at);
            chunked.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            chunked.Write(body, at, n);
            chunked.Write("\r\n"u8);
        }
        chunked.Write("0\r\n\r\n"u8);
        return chunked.ToArray();
    }
}

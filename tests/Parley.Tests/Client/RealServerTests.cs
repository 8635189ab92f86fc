using System.Text;
using Parley.Client;
using Parley.Tests.Interop;

namespace Parley.Tests.Client;

/// <summary>An nginx of the test's own (temp config, free port) serving static files, redirects and gzip.</summary>
public sealed class NginxFixture : IAsyncLifetime
{
    private RunningTool? _nginx;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"parley-nginx-{Guid.NewGuid():N}");
    public int Port { get; } = Loopback.FreePort();
    public string Url => $"http://127.0.0.1:{Port}/";
    public byte[] Big { get; } = new byte[2 << 20];
    public string Text { get; } = string.Concat(Enumerable.Range(0, 4000).Select(i => $"line {i} of a compressible text\n"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "www"));
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        new Random(7).NextBytes(Big);
        await File.WriteAllTextAsync(Path.Combine(Root, "www", "small.txt"), "small file\n");
        await File.WriteAllBytesAsync(Path.Combine(Root, "www", "big.bin"), Big);
        await File.WriteAllTextAsync(Path.Combine(Root, "www", "text.txt"), Text);
        string tmp = Path.Combine(Root, "tmp");
        string config = $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{Root}}/nginx.pid;
            error_log {{Root}}/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{tmp}}/body;
                proxy_temp_path {{tmp}}/proxy;
                fastcgi_temp_path {{tmp}}/fastcgi;
                uwsgi_temp_path {{tmp}}/uwsgi;
                scgi_temp_path {{tmp}}/scgi;
                types { text/plain txt; application/octet-stream bin; }
                default_type application/octet-stream;
                gzip on;
                gzip_types text/plain;
                gzip_min_length 100;
                keepalive_requests 4;
                server {
                    listen 127.0.0.1:{{Port}};
                    root {{Root}}/www;
                    location = /old { return 301 /small.txt; }
                    location = /see-other { return 303 /small.txt; }
                    location = /loop { return 302 /loop; }
                }
            }
            """;
        string configPath = Path.Combine(Root, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        _nginx = ExternalTool.Start("/usr/sbin/nginx", ["-p", Root, "-c", configPath, "-e", Path.Combine(Root, "error.log")]);
        await _nginx.WaitForPortAsync(Port, TimeSpan.FromSeconds(15));
    }

    public Task DisposeAsync()
    {
        _nginx?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}

/// <summary>The client against nginx: static files, big downloads, HEAD, 304, redirects, gzip, keepalive_requests.</summary>
public class NginxTests(NginxFixture nginx) : IClassFixture<NginxFixture>
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Gets_files_over_one_connection_until_keepalive_requests_runs_out()
    {
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        for (int i = 1; i <= 5; i++)
        {
            using ParleyResponse response = await client.GetAsync($"{nginx.Url}small.txt", Test);
            Assert.Equal(200, response.StatusCode);
            Assert.StartsWith("nginx", response.Headers["Server"]);
            Assert.Equal("small file\n", await response.ReadAsStringAsync(Test));
            if (i == 4) Assert.Equal("close", response.Headers["Connection"]);
        }
        // keepalive_requests 4: nginx closes after the fourth response and says so.
        Assert.Equal([false, true, true, true, false], observer.ReuseFlags());
    }

    [Fact]
    public async Task Streams_a_2_MiB_file_exactly()
    {
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync($"{nginx.Url}big.bin", Test);
        Assert.Equal(2 << 20, response.ContentLength);
        Assert.True(response.IsStreaming);
        Assert.Equal(nginx.Big, await response.ReadAsByteArrayAsync(Test));
        Assert.Equal(1, client.IdleConnectionCount(new Uri(nginx.Url)));
    }

    [Fact]
    public async Task HEAD_and_304_have_no_body_and_keep_the_connection()
    {
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        string etag;
        using (ParleyResponse head = await client.SendAsync(new ParleyRequest("HEAD", $"{nginx.Url}big.bin"), Test))
        {
            Assert.Equal(0, head.ContentLength); // no body follows a HEAD response...
            Assert.Equal((2 << 20).ToString(), head.Headers["Content-Length"]); // ...though the field describes the GET one
            etag = head.Headers["ETag"]!;
        }
        var conditional = ParleyRequest.Get($"{nginx.Url}big.bin");
        conditional.Headers.Add("If-None-Match", etag);
        using (ParleyResponse notModified = await client.SendAsync(conditional, Test)) Assert.Equal(304, notModified.StatusCode);
        using (ParleyResponse small = await client.GetAsync($"{nginx.Url}small.txt", Test)) Assert.Equal("small file\n", await small.ReadAsStringAsync(Test));
        Assert.Equal([false, true, true], observer.ReuseFlags());
    }

    [Fact]
    public async Task Follows_nginx_redirects_and_stops_its_loop()
    {
        using var client = new ParleyClient(new ParleyClientOptions { FollowRedirects = true });
        using (ParleyResponse moved = await client.GetAsync($"{nginx.Url}old", Test))
        {
            Assert.Equal("small file\n", await moved.ReadAsStringAsync(Test));
        }
        using (ParleyResponse seeOther = await client.SendAsync(new ParleyRequest("POST", $"{nginx.Url}see-other") { Content = ParleyContent.FromString("x") }, Test))
        {
            Assert.Equal(200, seeOther.StatusCode);
        }
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"{nginx.Url}loop", Test));
        Assert.Equal(ParleyErrorKind.RedirectLoop, error.Kind);
    }

    [Fact]
    public async Task Decodes_nginx_gzip_which_comes_chunked()
    {
        using var client = new ParleyClient(new ParleyClientOptions { AutomaticDecompression = true });
        using ParleyResponse response = await client.GetAsync($"{nginx.Url}text.txt", Test);
        Assert.Equal("gzip", response.Headers["Content-Encoding"]);
        Assert.Equal("chunked", response.Headers["Transfer-Encoding"]);
        Assert.Equal(nginx.Text, await response.ReadAsStringAsync(Test));
        Assert.Equal(1, client.IdleConnectionCount(new Uri(nginx.Url)));
    }

    [Fact]
    public async Task HttpClient_over_ParleyHandler_downloads_from_nginx()
    {
        using var http = new HttpClient(new ParleyHandler(new ParleyClientOptions { AutomaticDecompression = true, FollowRedirects = true }));
        Assert.Equal(nginx.Big, await http.GetByteArrayAsync($"{nginx.Url}big.bin", Test));
        Assert.Equal(nginx.Text, await http.GetStringAsync($"{nginx.Url}text.txt", Test));
        Assert.Equal("small file\n", await http.GetStringAsync($"{nginx.Url}old", Test));
    }
}

/// <summary>The client against Python's http.server: HTTP/1.0, one response per connection, close-delimited bodies.</summary>
public class PythonServerTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Reads_HTTP10_responses_and_never_reuses_their_connections()
    {
        string root = Directory.CreateTempSubdirectory("parley-python-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "hello.txt"), "hello from python\n");
            await using RunningTool python = ExternalTool.Start("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root]);
            int port = await python.WaitForListeningPortAsync(TimeSpan.FromSeconds(30));
            var observer = new RecordingObserver();
            using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
            for (int i = 0; i < 3; i++)
            {
                using ParleyResponse response = await client.GetAsync($"http://127.0.0.1:{port}/hello.txt", Test);
                Assert.Equal(System.Net.HttpVersion.Version10, response.Version);
                Assert.Equal("hello from python\n", await response.ReadAsStringAsync(Test));
            }
            using (ParleyResponse missing = await client.GetAsync($"http://127.0.0.1:{port}/nope", Test))
            {
                Assert.Equal(404, missing.StatusCode);
                Assert.Contains("404", await missing.ReadAsStringAsync(Test));
            }
            Assert.Equal([false, false, false, false], observer.ReuseFlags());
            Assert.Equal(0, client.ConnectionCount);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Reads_a_close_delimited_body_without_Content_Length()
    {
        const string Script = """
            import sys
            from http.server import BaseHTTPRequestHandler, HTTPServer
            class H(BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    for i in range(2000):
                        self.wfile.write(b"line %d until the server closes\n" % i)
                def log_message(self, *args):
                    pass
            server = HTTPServer(("127.0.0.1", 0), H)
            print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
            server.serve_forever()
            """;
        await using RunningTool python = ExternalTool.Start("python3", ["-c", Script]);
        int port = await python.WaitForListeningPortAsync(TimeSpan.FromSeconds(30));
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync($"http://127.0.0.1:{port}/", Test);
        Assert.Null(response.ContentLength);
        Assert.Null(response.Headers["Content-Length"]);
        string body = await response.ReadAsStringAsync(Test);
        string expected = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} until the server closes\n"));
        Assert.Equal(expected, body);
        Assert.Equal(0, client.ConnectionCount);
    }
}

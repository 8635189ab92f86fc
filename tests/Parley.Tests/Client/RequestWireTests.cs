using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// The exact bytes the client puts on the wire for a request: which caller fields pass, which it owns
/// (framing, RFC 9112 §6), which defaults it adds, and how a streamed body is framed.
/// </summary>
public class RequestWireTests
{
    /// <summary>
    /// Accepts one connection, takes everything the client sends until <paramref name="complete"/> says the
    /// request is whole, answers 200 with an empty body and closes. Returns what was received.
    /// </summary>
    private static async Task<string> CaptureAsync(ParleyClientOptions options, Func<string, ParleyRequest> makeRequest, Func<string, bool> complete)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task<string> serve = Task.Run(async () =>
        {
            using TcpClient peer = await listener.AcceptTcpClientAsync();
            NetworkStream stream = peer.GetStream();
            var received = new StringBuilder();
            byte[] chunk = new byte[8192];
            while (!complete(received.ToString()))
            {
                int read = await stream.ReadAsync(chunk);
                if (read == 0) break;
                received.Append(Encoding.Latin1.GetString(chunk, 0, read));
            }
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            return received.ToString();
        });
        using var client = new ParleyClient(options);
        using (ParleyResponse response = await client.SendAsync(makeRequest($"http://127.0.0.1:{port}")))
        {
            Assert.Equal(200, response.StatusCode);
        }
        return await serve;
    }

    private static bool HeadDone(string text) => text.Contains("\r\n\r\n", StringComparison.Ordinal);

    [Fact]
    public async Task A_plain_GET_carries_Host_and_the_default_User_Agent_and_nothing_else()
    {
        string sent = await CaptureAsync(new ParleyClientOptions(), url => ParleyRequest.Get(url + "/a/b?c=d"), HeadDone);
        int port = int.Parse(sent.Split("Host: 127.0.0.1:")[1].Split("\r\n")[0]);
        Assert.Equal($"GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: parley\r\n\r\n", sent);
    }

    [Fact]
    public async Task Caller_fields_pass_in_order_but_the_framing_fields_are_the_clients_own()
    {
        var options = new ParleyClientOptions { AutomaticDecompression = true };
        string sent = await CaptureAsync(options, url =>
        {
            var request = ParleyRequest.Get(url + "/");
            request.Headers.Add("X-First", "1");
            request.Headers.Add("Host", "example.test");
            request.Headers.Add("Content-Length", "99");
            request.Headers.Add("User-Agent", "mine/2");
            request.Headers.Add("Transfer-Encoding", "chunked");
            request.Headers.Add("Accept-Encoding", "gzip");
            request.Headers.Add("Accept-Encoding", "br");
            request.Headers.Add("Expect", "something-else");
            request.Headers.Add("Content-Type", "text/x-caller");
            return request;
        }, HeadDone);
        // No Expect was asked for by the request, so the caller's Expect is an ordinary field.
        Assert.Equal("GET / HTTP/1.1\r\nX-First: 1\r\nHost: example.test\r\nUser-Agent: mine/2\r\n"
            + "Accept-Encoding: gzip\r\nAccept-Encoding: br\r\nExpect: something-else\r\nContent-Type: text/x-caller\r\n\r\n", sent);
    }

    [Fact]
    public async Task Automatic_decompression_adds_Accept_Encoding_and_a_GET_has_no_Content_Length()
    {
        var options = new ParleyClientOptions { AutomaticDecompression = true, UserAgent = null };
        string sent = await CaptureAsync(options, url => ParleyRequest.Get(url + "/"), HeadDone);
        Assert.EndsWith("\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n", sent);
        Assert.DoesNotContain("User-Agent", sent);
        Assert.DoesNotContain("Content-Length", sent);
    }

    [Theory]
    [InlineData("POST", true)]
    [InlineData("PUT", true)]
    [InlineData("PATCH", true)]
    [InlineData("DELETE", false)]
    [InlineData("OPTIONS", false)]
    public async Task Methods_that_define_content_send_Content_Length_0_without_a_body(string method, bool zeroLength)
    {
        string sent = await CaptureAsync(new ParleyClientOptions(), url => new ParleyRequest(method, url + "/x"), HeadDone);
        Assert.StartsWith($"{method} /x HTTP/1.1\r\n", sent);
        Assert.Equal(zeroLength, sent.Contains("\r\nContent-Length: 0\r\n", StringComparison.Ordinal));
        Assert.EndsWith("\r\n\r\n", sent);
    }

    [Fact]
    public async Task A_body_replaces_the_callers_framing_fields_and_its_type_yields_to_the_callers()
    {
        string sent = await CaptureAsync(new ParleyClientOptions(), url =>
        {
            var request = new ParleyRequest("POST", url + "/");
            request.Headers.Add("Content-Type", "application/x-mine");
            request.Headers.Add("Content-Length", "1");
            request.Content = ParleyContent.FromString("hello");
            return request;
        }, text => text.EndsWith("hello", StringComparison.Ordinal));
        int port = int.Parse(sent.Split("Host: 127.0.0.1:")[1].Split("\r\n")[0]);
        Assert.Equal($"POST / HTTP/1.1\r\nContent-Type: application/x-mine\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: parley\r\n"
            + "Content-Length: 5\r\n\r\nhello", sent);
    }

    /// <summary>Reads a few bytes per call, so that the body goes out in several chunks.</summary>
    private sealed class TrickleStream(byte[] data, int step) : ReadOnlyBodyStream
    {
        private int _position;
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(step, count), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset, n));
            _position += n;
            return n;
        }
    }

    [Fact]
    public async Task A_stream_of_unknown_length_goes_chunked_one_chunk_per_read()
    {
        var observer = new RecordingObserver();
        string sent = await CaptureAsync(new ParleyClientOptions { Observer = observer }, url => new ParleyRequest("PUT", url + "/")
        {
            Content = ParleyContent.FromStream(new TrickleStream("abcdefghij"u8.ToArray(), 4), contentType: null),
        }, text => text.EndsWith("0\r\n\r\n", StringComparison.Ordinal));
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n\r\n", sent);
        Assert.DoesNotContain("Content-Length", sent);
        Assert.DoesNotContain("Content-Type", sent);
        Assert.EndsWith("\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n2\r\nij\r\n0\r\n\r\n", sent);
        lock (observer.Events) Assert.Equal(10, observer.Events.Single(e => e.Kind == SessionEventKind.RequestBodySent).Size);
    }

    [Fact]
    public async Task A_stream_of_known_length_goes_as_is_with_its_Content_Length()
    {
        var observer = new RecordingObserver();
        string sent = await CaptureAsync(new ParleyClientOptions { Observer = observer }, url => new ParleyRequest("PUT", url + "/")
        {
            Content = ParleyContent.FromStream(new TrickleStream("abcdefghij"u8.ToArray(), 3), length: 10),
        }, text => text.EndsWith("ij", StringComparison.Ordinal));
        Assert.Contains("\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\nabcdefghij", sent);
        Assert.EndsWith("\r\n\r\nabcdefghij", sent);
        lock (observer.Events) Assert.Equal(10, observer.Events.Single(e => e.Kind == SessionEventKind.RequestBodySent).Size);
    }

    [Theory]
    [InlineData(4, "the request body stream ended after 10 of its declared 12 bytes")]
    [InlineData(4, "the request body stream produced more than its declared length of 7 bytes")]
    public async Task A_stream_that_breaks_its_declared_length_fails_with_both_numbers(int step, string message)
    {
        long declared = message.Contains("12") ? 12 : 7;
        await using var server = new ScriptedServer(async exchange => await exchange.HangAsync());
        using var client = new ParleyClient();
        var request = new ParleyRequest("PUT", server.Url)
        {
            Content = ParleyContent.FromStream(new TrickleStream("abcdefghij"u8.ToArray(), step), length: declared),
        };
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.SendAsync(request));
        Assert.Equal(message, error.Message);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task After_a_POST_with_a_small_body_the_connection_is_reused()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        // A timer for Expect must play no part in a request that did not ask for it.
        using var client = new ParleyClient(new ParleyClientOptions { ExpectContinueTimeout = TimeSpan.FromMinutes(10) });
        for (int i = 0; i < 2; i++)
        {
            using ParleyResponse response = await client.SendAsync(new ParleyRequest("POST", server.Url) { Content = ParleyContent.FromString("hi") });
            Assert.Equal("ok", await response.ReadAsStringAsync());
        }
        Assert.Equal(1, server.Accepted);
        Assert.Equal(2, server.Requests.Count);
    }
}

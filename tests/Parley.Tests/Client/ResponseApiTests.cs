using System.IO.Compression;
using System.Text;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// ParleyResponse as its users see it: the body stream's shape and reads (empty, synchronous, after a
/// partial read), which codings are decoded, and how disposing the response or its body frees the connection.
/// </summary>
public class ResponseApiTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>A server whose every answer is <paramref name="response"/>; its connection stays open.</summary>
    private static ScriptedServer Answering(string response) => new(exchange => exchange.SendAsync(response));

    /// <summary>A head announcing more body than is sent: the response streams and its connection stays busy.</summary>
    private const string Unfinished = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nthe start";

    [Fact]
    public async Task The_body_is_a_read_only_stream_that_an_empty_read_does_not_end()
    {
        await using var server = Answering("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcdefghij");
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync(server.Url, Test);
        Stream body = response.Body;
        Assert.True(body.CanRead);
        Assert.False(body.CanWrite);
        Assert.False(body.CanSeek);

        Assert.Equal(0, await body.ReadAsync(Memory<byte>.Empty, Test));
        Assert.Equal("abcdefghij", await new StreamReader(body).ReadToEndAsync(Test));
    }

    [Fact]
    public async Task Synchronous_reads_return_the_bytes_of_a_held_and_of_a_streamed_body()
    {
        string large = string.Concat(Enumerable.Range(0, 5000).Select(i => $"{i:D5}"));
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Head.StartsWith("GET /small", StringComparison.Ordinal)
            ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall"
            : $"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{large.Length:x}\r\n{large}\r\n0\r\n\r\n"));
        using var client = new ParleyClient();

        using (ParleyResponse small = await client.GetAsync($"{server.Url}small", Test))
        {
            Assert.Equal("small", new StreamReader(small.Body).ReadToEnd());
        }
        using (ParleyResponse streamed = await client.GetAsync($"{server.Url}large", Test))
        {
            Assert.True(streamed.ContentLength is null);
            Assert.Equal(large, new StreamReader(streamed.Body).ReadToEnd());
        }
    }

    [Fact]
    public async Task Reading_the_whole_body_after_part_of_the_stream_gives_the_rest_and_a_held_body_reads_whole_again()
    {
        await using var server = Answering("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcdefghij");
        using var client = new ParleyClient();

        using (ParleyResponse whole = await client.GetAsync(server.Url, Test))
        {
            // Held with its head, the body stays readable whole, as HttpContent's buffered reads do.
            Assert.Equal("abcdefghij", Encoding.ASCII.GetString(await whole.ReadAsByteArrayAsync(Test)));
            Assert.Equal("abcdefghij", Encoding.ASCII.GetString(await whole.ReadAsByteArrayAsync(Test)));
            Assert.Equal("abcdefghij", await whole.ReadAsStringAsync(Test));
        }
        using (ParleyResponse bytes = await client.GetAsync(server.Url, Test))
        {
            await bytes.Body.ReadExactlyAsync(new byte[3], Test);
            Assert.Equal("defghij", Encoding.ASCII.GetString(await bytes.ReadAsByteArrayAsync(Test)));
        }
        using (ParleyResponse text = await client.GetAsync(server.Url, Test))
        {
            await text.Body.ReadExactlyAsync(new byte[4], Test);
            Assert.Equal("efghij", await text.ReadAsStringAsync(Test));
        }
    }

    [Fact]
    public async Task Disposing_asynchronously_or_disposing_the_body_closes_an_unread_connection()
    {
        await using var server = Answering(Unfinished);
        using var client = new ParleyClient();

        ParleyResponse first = await client.GetAsync(server.Url, Test);
        Assert.Equal(1, client.ConnectionCount);
        await first.DisposeAsync();
        Assert.Equal(0, client.ConnectionCount);

        ParleyResponse second = await client.GetAsync(server.Url, Test);
        Assert.Equal(1, client.ConnectionCount);
        second.Body.Dispose();
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Reading_the_body_of_a_response_disposed_unread_is_refused_with_the_reason()
    {
        await using var server = Answering(Unfinished);
        using var client = new ParleyClient();
        ParleyResponse response = await client.GetAsync(server.Url, Test);
        Assert.False(response.IsBodyComplete);
        response.Dispose();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await response.Body.ReadExactlyAsync(new byte[16], Test));
        Assert.StartsWith("the response was disposed before its body was read", error.Message);
        Assert.Equal(nameof(ParleyResponse), error.ObjectName);
    }

    [Theory]
    [InlineData(204, "No Content")]
    [InlineData(304, "Not Modified")]
    public async Task A_response_without_a_body_is_not_decoded_whatever_its_Content_Encoding(int status, string reason)
    {
        await using var server = Answering($"HTTP/1.1 {status} {reason}\r\nContent-Encoding: gzip\r\nETag: \"v1\"\r\n\r\n");
        using var client = new ParleyClient(new ParleyClientOptions { AutomaticDecompression = true });
        using ParleyResponse response = await client.GetAsync(server.Url, Test);
        Assert.Equal(status, response.StatusCode);
        Assert.Null(response.DecodedContentEncoding);
        Assert.Empty(await response.ReadAsByteArrayAsync(Test));
    }

    [Fact]
    public async Task The_x_gzip_alias_is_decoded_as_gzip()
    {
        var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest)) gzip.Write("aliased"u8);
        byte[] wire = gzipped.ToArray();
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync([.. Encoding.Latin1.GetBytes($"HTTP/1.1 200 OK\r\nContent-Encoding: X-Gzip\r\nContent-Length: {wire.Length}\r\n\r\n"), .. wire]));
        using var client = new ParleyClient(new ParleyClientOptions { AutomaticDecompression = true });
        using ParleyResponse response = await client.GetAsync(server.Url, Test);
        Assert.Equal("gzip", response.DecodedContentEncoding);
        Assert.Equal("aliased", await response.ReadAsStringAsync(Test));
    }

    [Fact]
    public async Task A_101_is_complete_as_an_HTTP_message_and_its_body_is_the_connection()
    {
        await using var server = Answering("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly");
        using var client = new ParleyClient();
        var request = new ParleyRequest("GET", server.Url);
        request.Headers.Add("Connection", "upgrade");
        request.Headers.Add("Upgrade", "echo");
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal(101, response.StatusCode);
        Assert.True(response.IsBodyComplete);
        Assert.Null(response.ContentLength);
        byte[] early = new byte[5];
        await response.Body.ReadExactlyAsync(early, Test);
        Assert.Equal("early", Encoding.ASCII.GetString(early));
    }
}

using System.IO.Compression;
using System.Text;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>Content codings (RFC 9110 §8.4): decoded only when the client itself asked for them.</summary>
public class DecompressionTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
    private static readonly string Text = string.Concat(Enumerable.Repeat("Parley speaks HTTP/1.1. ", 400));

    private static ValueTask Compressing(HttpRequest request, HttpResponse response)
    {
        string coding = request.Path.Trim('/');
        response.Headers.Set("X-Accept-Encoding", request.Headers["Accept-Encoding"] ?? "");
        var output = new MemoryStream();
        using (Stream compressor = coding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
        })
        {
            compressor.Write(Encoding.UTF8.GetBytes(Text));
        }
        response.Headers.Set("Content-Encoding", coding);
        response.Headers.Set("Content-Type", "text/plain; charset=utf-8");
        response.Write(output.ToArray());
        return ValueTask.CompletedTask;
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Decodes_what_it_asked_for(string coding)
    {
        await using var server = await TestServer.StartAsync(Compressing);
        using var client = new ParleyClient(new ParleyClientOptions { AutomaticDecompression = true });
        using ParleyResponse response = await client.GetAsync($"{server.BaseUri}{coding}", Test);
        Assert.Equal("gzip, deflate, br", response.Headers["X-Accept-Encoding"]);
        Assert.Equal(coding, response.DecodedContentEncoding);
        Assert.Equal(Text, await response.ReadAsStringAsync(Test));
        Assert.Equal(1, client.IdleConnectionCount(server.BaseUri));
    }

    [Fact]
    public async Task Leaves_the_body_alone_when_decompression_is_off_or_the_caller_chose_the_encoding()
    {
        await using var server = await TestServer.StartAsync(Compressing);
        using (var plain = new ParleyClient())
        using (ParleyResponse response = await plain.GetAsync($"{server.BaseUri}gzip", Test))
        {
            Assert.Equal("", response.Headers["X-Accept-Encoding"]);
            Assert.Null(response.DecodedContentEncoding);
            byte[] raw = await response.ReadAsByteArrayAsync(Test);
            Assert.Equal(0x1f, raw[0]);
        }
        using var client = new ParleyClient(new ParleyClientOptions { AutomaticDecompression = true });
        var request = ParleyRequest.Get($"{server.BaseUri}gzip");
        request.Headers.Add("Accept-Encoding", "gzip");
        using ParleyResponse own = await client.SendAsync(request, Test);
        Assert.Null(own.DecodedContentEncoding);
        Assert.Equal(0x1f, (await own.ReadAsByteArrayAsync(Test))[0]);
    }
}

using Microsoft.Win32.SafeHandles;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>The engine's internal HttpResponse.SendFileAsync hook, through each of its paths.</summary>
public sealed class SendFileHookTests : IDisposable
{
    private readonly StaticSite _site = new();
    private readonly byte[] _data = StaticSite.RandomBytes(200_000, seed: 9);
    private readonly string _path;

    public SendFileHookTests() => _path = _site.Write("data.bin", _data);

    public void Dispose() => _site.Dispose();

    private RequestHandler Send(long offset, long length, long? contentLength, FileOptions fileOptions = FileOptions.Asynchronous) => async (request, response) =>
    {
        using SafeFileHandle file = File.OpenHandle(_path, options: fileOptions);
        response.ContentLength = contentLength;
        await response.SendFileAsync(file, offset, length);
    };

    [Fact]
    public async Task With_a_content_length_a_large_region_is_sent_exactly()
    {
        await using var server = await TestServer.StartAsync(Send(1000, 150_000, 150_000));
        RawResponse response = await server.GetAsync("/");
        Assert.Equal("150000", response.Header("Content-Length"));
        Assert.Equal(_data.AsSpan(1000, 150_000).ToArray(), response.Body);
    }

    [Fact]
    public async Task A_synchronous_handle_falls_back_to_copying()
    {
        await using var server = await TestServer.StartAsync(Send(0, 200_000, 200_000, FileOptions.None));
        Assert.Equal(_data, (await server.GetAsync("/")).Body);
    }

    [Fact]
    public async Task Without_a_content_length_the_region_goes_out_chunked()
    {
        await using var server = await TestServer.StartAsync(Send(0, 200_000, null));
        RawResponse response = await server.GetAsync("/");
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Equal(_data, response.Body);
    }

    [Fact]
    public async Task HEAD_counts_the_region_but_sends_no_body()
    {
        await using var server = await TestServer.StartAsync(Send(0, 200_000, null));
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse head = await connection.RequestAsync("/", method: "HEAD");
        Assert.Equal("200000", head.Header("Content-Length"));
        Assert.Equal(200_000, (await connection.RequestAsync("/")).Body.Length); // nothing stray before it
    }

    [Fact]
    public async Task A_file_shorter_than_the_announced_region_ends_the_connection()
    {
        await using var server = await TestServer.StartAsync(Send(0, 300_000, 300_000));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 200 OK", all);
        Assert.Contains("Content-Length: 300000", all);
        Assert.True(all.Length < 300_000, "the client must see a short body and a close, never a full one");
    }
}

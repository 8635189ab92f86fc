using System.Text;
using System.Text.RegularExpressions;
using Parley.Content;
using Parley.Tests.Server;

namespace Parley.Tests.Content.StaticFiles;

/// <summary>Conditional requests (RFC 9110 §13) and byte ranges (RFC 9110 §14) against static files.</summary>
public sealed class StaticFileValidatorRangeTests : IDisposable
{
    private readonly StaticSite _site = new();
    private readonly byte[] _data = Encoding.ASCII.GetBytes("0123456789abcdefghijklmnopqrstuvwxyz");

    public StaticFileValidatorRangeTests()
    {
        string path = _site.Write("data.bin", _data);
        File.SetLastWriteTimeUtc(path, new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
    }

    public void Dispose() => _site.Dispose();

    private async Task<(TestServer Server, string ETag, string LastModified)> StartAsync()
    {
        TestServer server = await _site.StartAsync();
        RawResponse first = await server.GetAsync("/data.bin");
        return (server, first.Header("ETag")!, first.Header("Last-Modified")!);
    }

    [Fact]
    public async Task If_None_Match_with_the_current_tag_gets_304_with_validators_and_no_body()
    {
        var (server, etag, _) = await StartAsync();
        await using var _ = server;
        await using RawConnection connection = await server.ConnectAsync();
        RawResponse response = await connection.RequestAsync("/data.bin", $"If-None-Match: \"other\", {etag}\r\n");
        Assert.Equal(304, response.StatusCode); // RFC 9110 §13.1.2, §15.4.5
        Assert.Equal(etag, response.Header("ETag"));
        Assert.Null(response.Header("Content-Length"));
        // The connection carries on: nothing of a body was sent.
        Assert.Equal(200, (await connection.RequestAsync("/data.bin")).StatusCode);
    }

    [Fact]
    public async Task If_None_Match_star_and_weak_tags_match()
    {
        var (server, etag, _) = await StartAsync();
        await using var _ = server;
        Assert.Equal(304, (await server.GetAsync("/data.bin", "If-None-Match: *\r\n")).StatusCode);
        Assert.Equal(304, (await server.GetAsync("/data.bin", $"If-None-Match: W/{etag}\r\n")).StatusCode); // weak comparison
        Assert.Equal(200, (await server.GetAsync("/data.bin", "If-None-Match: \"stale\"\r\n")).StatusCode);
    }

    [Fact]
    public async Task If_Modified_Since_gets_304_unless_the_file_is_newer()
    {
        var (server, _, lastModified) = await StartAsync();
        await using var _ = server;
        Assert.Equal(304, (await server.GetAsync("/data.bin", $"If-Modified-Since: {lastModified}\r\n")).StatusCode); // RFC 9110 §13.1.3
        Assert.Equal(200, (await server.GetAsync("/data.bin", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n")).StatusCode);
        Assert.Equal(200, (await server.GetAsync("/data.bin", "If-Modified-Since: not a date\r\n")).StatusCode);
    }

    [Fact]
    public async Task If_None_Match_takes_precedence_over_If_Modified_Since()
    {
        var (server, _, lastModified) = await StartAsync();
        await using var _ = server;
        // RFC 9110 §13.2.2 step 3-4: If-Modified-Since is ignored when If-None-Match is present.
        RawResponse response = await server.GetAsync("/data.bin", $"If-None-Match: \"stale\"\r\nIf-Modified-Since: {lastModified}\r\n");
        Assert.Equal(200, response.StatusCode);
    }

    [Fact]
    public async Task If_Match_with_another_tag_gets_412()
    {
        var (server, etag, _) = await StartAsync();
        await using var _ = server;
        Assert.Equal(412, (await server.GetAsync("/data.bin", "If-Match: \"stale\"\r\n")).StatusCode); // RFC 9110 §13.1.1
        Assert.Equal(412, (await server.GetAsync("/data.bin", $"If-Match: W/{etag}\r\n")).StatusCode); // strong comparison
        Assert.Equal(200, (await server.GetAsync("/data.bin", $"If-Match: {etag}\r\n")).StatusCode);
        Assert.Equal(200, (await server.GetAsync("/data.bin", "If-Match: *\r\n")).StatusCode);
    }

    [Fact]
    public async Task If_Unmodified_Since_before_the_change_gets_412()
    {
        var (server, _, lastModified) = await StartAsync();
        await using var _ = server;
        Assert.Equal(412, (await server.GetAsync("/data.bin", "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n")).StatusCode); // §13.1.4
        Assert.Equal(200, (await server.GetAsync("/data.bin", $"If-Unmodified-Since: {lastModified}\r\n")).StatusCode);
    }

    [Fact]
    public async Task If_Match_takes_precedence_over_If_Unmodified_Since_and_412_over_304()
    {
        var (server, etag, lastModified) = await StartAsync();
        await using var _ = server;
        // §13.2.2 step 1-2: a true If-Match makes If-Unmodified-Since irrelevant.
        Assert.Equal(200, (await server.GetAsync("/data.bin", $"If-Match: {etag}\r\nIf-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n")).StatusCode);
        // Step 1 before step 3: a failed If-Match answers 412 even when If-None-Match would give 304.
        Assert.Equal(412, (await server.GetAsync("/data.bin", $"If-Match: \"stale\"\r\nIf-None-Match: {etag}\r\n")).StatusCode);
    }

    [Fact]
    public async Task A_single_range_gets_206_with_Content_Range()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/data.bin", "Range: bytes=10-15\r\n");
        Assert.Equal(206, response.StatusCode); // RFC 9110 §15.3.7
        Assert.Equal("bytes 10-15/36", response.Header("Content-Range"));
        Assert.Equal("abcdef", response.BodyText);
        Assert.Equal("6", response.Header("Content-Length"));
        Assert.Equal("wxyz", (await server.GetAsync("/data.bin", "Range: bytes=-4\r\n")).BodyText);
        Assert.Equal("yz", (await server.GetAsync("/data.bin", "Range: bytes=34-\r\n")).BodyText);
        Assert.Equal("bytes 30-35/36", (await server.GetAsync("/data.bin", "Range: bytes=30-999\r\n")).Header("Content-Range"));
    }

    [Fact]
    public async Task Several_ranges_get_multipart_byteranges_with_a_random_boundary()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/data.bin", "Range: bytes=0-1, 10-12, -2\r\n");
        Assert.Equal(206, response.StatusCode);
        string contentType = response.Header("Content-Type")!;
        Match match = Regex.Match(contentType, "^multipart/byteranges; boundary=([0-9a-f]{32})$"); // RFC 9110 §14.6
        Assert.True(match.Success, contentType);
        string boundary = match.Groups[1].Value;
        Assert.Equal(response.Body.Length.ToString(), response.Header("Content-Length"));
        string expected =
            $"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/36\r\n\r\n01" +
            $"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-12/36\r\n\r\nabc" +
            $"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 34-35/36\r\n\r\nyz" +
            $"\r\n--{boundary}--\r\n";
        Assert.Equal(expected, response.BodyText);
        string other = (await server.GetAsync("/data.bin", "Range: bytes=0-1,3-4\r\n")).Header("Content-Type")!;
        Assert.NotEqual(contentType, other);
    }

    [Fact]
    public async Task Multipart_ranges_of_a_large_file_use_the_file_path_and_stay_exact()
    {
        byte[] big = StaticSite.RandomBytes(1024 * 1024, seed: 3);
        _site.Write("big.bin", big);
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/big.bin", "Range: bytes=0-99999, 500000-999999\r\n");
        Assert.Equal(206, response.StatusCode);
        string body = Encoding.Latin1.GetString(response.Body);
        Assert.Contains(Encoding.Latin1.GetString(big, 0, 100000), body);
        Assert.Contains(Encoding.Latin1.GetString(big, 500000, 500000), body);
        Assert.Equal(response.Body.Length.ToString(), response.Header("Content-Length"));
    }

    [Fact]
    public async Task An_unsatisfiable_range_gets_416_with_the_length()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/data.bin", "Range: bytes=36-40\r\n");
        Assert.Equal(416, response.StatusCode); // RFC 9110 §15.5.17
        Assert.Equal("bytes */36", response.Header("Content-Range"));
    }

    [Theory]
    [InlineData("bytes=5-2")]
    [InlineData("items=0-1")]
    [InlineData("bytes=abc")]
    [InlineData("bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12,13-13,14-14,15-15,16-16")]
    [InlineData("bytes=0-5,1-6,2-7")]
    public async Task Invalid_or_abusive_ranges_are_ignored_with_200(string range)
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/data.bin", $"Range: {range}\r\n");
        Assert.Equal(200, response.StatusCode); // RFC 9110 §14.2: MAY ignore
        Assert.Equal(_data, response.Body);
    }

    [Fact]
    public async Task If_Range_with_the_current_validator_gets_the_range_otherwise_the_whole_file()
    {
        var (server, etag, lastModified) = await StartAsync();
        await using var _ = server;
        // RFC 9110 §13.1.5
        Assert.Equal(206, (await server.GetAsync("/data.bin", $"Range: bytes=0-1\r\nIf-Range: {etag}\r\n")).StatusCode);
        Assert.Equal(206, (await server.GetAsync("/data.bin", $"Range: bytes=0-1\r\nIf-Range: {lastModified}\r\n")).StatusCode);
        RawResponse stale = await server.GetAsync("/data.bin", "Range: bytes=0-1\r\nIf-Range: \"stale\"\r\n");
        Assert.Equal(200, stale.StatusCode);
        Assert.Equal(_data, stale.Body);
        Assert.Equal(200, (await server.GetAsync("/data.bin", $"Range: bytes=0-1\r\nIf-Range: W/{etag}\r\n")).StatusCode);
    }

    [Fact]
    public async Task HEAD_ignores_Range()
    {
        await using var server = await _site.StartAsync();
        RawResponse response = await server.GetAsync("/data.bin", "Range: bytes=0-1\r\n", "HEAD");
        Assert.Equal(200, response.StatusCode); // RFC 9110 §14.2: Range is for GET
        Assert.Equal("36", response.Header("Content-Length"));
    }
}

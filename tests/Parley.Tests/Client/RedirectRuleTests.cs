using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// The request a redirect leads to (RFC 9110 §15.4), field by field: which fields a body-less follow-up drops,
/// which credentials stay with their origin, where the fragment goes, and which Location is not followed.
/// </summary>
public class RedirectRuleTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>A real redirect response, as the server sent it: the status and Location the test asks for.</summary>
    private static async Task<ParleyResponse> RedirectAsync(int status, string location)
    {
        await using var server = new ScriptedServer(async exchange =>
        {
            await exchange.SendAsync($"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
            exchange.CloseAfter = true;
        });
        using var client = new ParleyClient();
        ParleyResponse response = await client.GetAsync(server.Url, Test);
        Assert.Equal(status, response.StatusCode);
        return response;
    }

    private static ParleyRequest PostWithEveryField(string url)
    {
        var request = new ParleyRequest("POST", url) { Content = ParleyContent.FromString("payload"), ExpectContinue = true };
        request.Headers.Add("Content-Type", "text/plain");
        request.Headers.Add("Content-Encoding", "identity");
        request.Headers.Add("Content-Language", "en");
        request.Headers.Add("Content-Location", "/draft");
        request.Headers.Add("Authorization", "Bearer x");
        request.Headers.Add("Cookie", "c=1");
        request.Headers.Add("Proxy-Authorization", "Basic cA==");
        request.Headers.Add("Host", "a.example");
        request.Headers.Add("X-Trace", "7");
        return request;
    }

    private static string[] Names(ParleyRequest request) => request.Headers.Select(f => f.Key).ToArray();

    [Fact]
    public async Task A_303_drops_the_body_its_content_fields_Expect_and_Host_but_keeps_the_rest_on_the_same_origin()
    {
        using ParleyResponse response = await RedirectAsync(303, "/done");
        ParleyRequest? next = Redirects.Next(PostWithEveryField("http://a.example/form"), response);
        Assert.NotNull(next);
        Assert.Equal("GET", next.Method);
        Assert.Equal("http://a.example/done", next.Uri.AbsoluteUri);
        Assert.Null(next.Content);
        Assert.False(next.ExpectContinue);
        Assert.Equal(["Authorization", "Cookie", "Proxy-Authorization", "X-Trace"], Names(next));
    }

    [Fact]
    public async Task A_307_keeps_method_body_content_fields_and_Expect()
    {
        using ParleyResponse response = await RedirectAsync(307, "/done");
        ParleyRequest current = PostWithEveryField("http://a.example/form");
        ParleyRequest? next = Redirects.Next(current, response);
        Assert.NotNull(next);
        Assert.Equal("POST", next.Method);
        Assert.Same(current.Content, next.Content);
        Assert.True(next.ExpectContinue);
        Assert.Equal(["Content-Type", "Content-Encoding", "Content-Language", "Content-Location", "Authorization", "Cookie", "Proxy-Authorization", "X-Trace"], Names(next));
    }

    [Fact]
    public async Task Another_origin_gets_no_credentials()
    {
        using ParleyResponse response = await RedirectAsync(307, "https://a.example/done");
        ParleyRequest? next = Redirects.Next(PostWithEveryField("http://a.example/form"), response);
        Assert.NotNull(next);
        Assert.Equal("https://a.example/done", next.Uri.AbsoluteUri);
        Assert.Equal(["Content-Type", "Content-Encoding", "Content-Language", "Content-Location", "X-Trace"], Names(next));
    }

    [Theory]
    [InlineData("http://a.example/page#part", "/next", "http://a.example/next#part")]
    [InlineData("http://a.example/page#part", "/next#own", "http://a.example/next#own")]
    [InlineData("http://a.example/page", "/next", "http://a.example/next")]
    public async Task The_fragment_of_the_request_carries_over_unless_Location_has_its_own(string from, string location, string expected)
    {
        using ParleyResponse response = await RedirectAsync(302, location);
        ParleyRequest? next = Redirects.Next(ParleyRequest.Get(from), response);
        Assert.NotNull(next);
        Assert.Equal(expected, next.Uri.AbsoluteUri);
    }

    [Theory]
    [InlineData("ftp://a.example/file")]
    [InlineData("mailto:someone@a.example")]
    public async Task A_Location_that_is_not_http_is_not_followed(string location)
    {
        using ParleyResponse response = await RedirectAsync(302, location);
        Assert.Null(Redirects.Next(ParleyRequest.Get("http://a.example/page"), response));
    }

    [Fact]
    public async Task An_empty_Location_is_not_followed()
    {
        using ParleyResponse response = await RedirectAsync(302, "  ");
        Assert.Null(Redirects.Next(ParleyRequest.Get("http://a.example/page"), response));
    }
}

using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Client;

/// <summary>Redirects (RFC 9110 §15.4): opt-in, method and body rules, credentials across origins, loops.</summary>
public class RedirectTests
{
    // A fresh minute for each operation: a bound on hangs, not on speed (a static token would run out
    // for the class as a whole on a busy machine).
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static async ValueTask Site(HttpRequest request, HttpResponse response)
    {
        string path = request.Path;
        if (path.StartsWith("/r/", StringComparison.Ordinal))
        {
            // /r/{status}/{target...}
            string[] parts = path.Split('/', 4);
            response.Redirect("/" + parts[3], int.Parse(parts[2]));
            return;
        }
        if (path.StartsWith("/n/", StringComparison.Ordinal))
        {
            response.Redirect($"/n/{int.Parse(path[3..]) + 1}", 302);
            return;
        }
        if (path == "/a") { response.Redirect("/b", 302); return; }
        if (path == "/b") { response.Redirect("/a", 302); return; }
        byte[] body = await request.ReadBodyAsync(1 << 20);
        response.WriteText($"{request.Method} {path} body={System.Text.Encoding.UTF8.GetString(body)} auth={request.Headers["Authorization"]} cookie={request.Headers["Cookie"]} type={request.Headers["Content-Type"]}");
    }

    private static ParleyClient Following(RecordingObserver? observer = null) =>
        new(new ParleyClientOptions { FollowRedirects = true, Observer = observer });

    [Fact]
    public async Task Redirects_are_not_followed_unless_asked()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var client = new ParleyClient();
        using ParleyResponse response = await client.GetAsync($"{server.BaseUri}r/302/end", Test);
        Assert.Equal(302, response.StatusCode);
        Assert.Equal("/end", response.Headers["Location"]);
    }

    [Theory]
    [InlineData(301, "POST", "GET /end body= ")]
    [InlineData(302, "POST", "GET /end body= ")]
    [InlineData(303, "POST", "GET /end body= ")]
    [InlineData(303, "PUT", "GET /end body= ")]
    [InlineData(307, "POST", "POST /end body=payload ")]
    [InlineData(308, "PUT", "PUT /end body=payload ")]
    [InlineData(301, "PUT", "PUT /end body=payload ")]
    public async Task Method_and_body_follow_RFC9110_section_15_4(int status, string method, string expected)
    {
        await using var server = await TestServer.StartAsync(Site);
        using var client = Following();
        var request = new ParleyRequest(method, $"{server.BaseUri}r/{status}/end") { Content = ParleyContent.FromString("payload") };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(1, response.RedirectCount);
        Assert.Equal($"{server.BaseUri}end", response.RequestUri.ToString());
        string body = await response.ReadAsStringAsync(Test);
        Assert.StartsWith(expected, body);
        if (expected.Contains("body= ")) Assert.EndsWith("type=", body);
    }

    [Fact]
    public async Task A_307_with_a_stream_body_is_returned_not_followed()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var client = Following();
        var request = new ParleyRequest("POST", $"{server.BaseUri}r/307/end") { Content = ParleyContent.FromStream(new MemoryStream([1, 2, 3])) };
        using ParleyResponse response = await client.SendAsync(request, Test);
        Assert.Equal(307, response.StatusCode);
    }

    [Fact]
    public async Task Credentials_go_to_the_same_origin_but_not_to_another()
    {
        await using var other = await TestServer.StartAsync(Site);
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            if (request.Path == "/away") response.Redirect($"{other.BaseUri}end", 302);
            else if (request.Path == "/here") response.Redirect("/end", 302);
            else return Site(request, response);
            return ValueTask.CompletedTask;
        });
        using var client = Following();
        foreach ((string path, string expected) in new[] { ("here", "auth=Bearer x cookie=c=1"), ("away", "auth= cookie=") })
        {
            var request = ParleyRequest.Get($"{server.BaseUri}{path}");
            request.Headers.Add("Authorization", "Bearer x");
            request.Headers.Add("Cookie", "c=1");
            using ParleyResponse response = await client.SendAsync(request, Test);
            Assert.Contains(expected, await response.ReadAsStringAsync(Test));
        }
    }

    [Fact]
    public async Task A_loop_ends_with_a_clear_error()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var client = Following();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"{server.BaseUri}a", Test));
        Assert.Equal(ParleyErrorKind.RedirectLoop, error.Kind);
        Assert.Contains("redirect loop", error.Message);
        Assert.Contains("/a", error.Message);
    }

    [Fact]
    public async Task Too_many_hops_end_with_a_clear_error()
    {
        await using var server = await TestServer.StartAsync(Site);
        using var client = new ParleyClient(new ParleyClientOptions { FollowRedirects = true, MaxRedirects = 3 });
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"{server.BaseUri}n/0", Test));
        Assert.Equal(ParleyErrorKind.TooManyRedirects, error.Kind);
        Assert.Contains("more than 3", error.Message);

        using ParleyResponse within = await client.GetAsync($"{server.BaseUri}r/301/r/302/r/307/end", Test);
        Assert.Equal(200, within.StatusCode);
        Assert.Equal(3, within.RedirectCount);
    }

    [Fact]
    public async Task Every_hop_is_traced_and_reuses_the_connection()
    {
        await using var server = await TestServer.StartAsync(Site);
        var observer = new RecordingObserver();
        using var client = Following(observer);
        using ParleyResponse response = await client.GetAsync($"{server.BaseUri}r/302/r/303/end", Test);
        Assert.Equal(2, observer.Kinds().Count(k => k == SessionEventKind.Redirecting));
        Assert.Equal(3, observer.Kinds().Count(k => k == SessionEventKind.ResponseHeadReceived));
        Assert.Equal([false, true, true], observer.ReuseFlags());
    }
}

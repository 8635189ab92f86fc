using System.Diagnostics;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>
/// ParleyClient's own policy around one exchange: argument checks, the convenience GET, which observer and
/// redirect setting wins, the request timeout's start, redirect bodies drained or dropped, loops caught at
/// the first repeat, and where a retry goes.
/// </summary>
public class ClientPolicyTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static string Response(int status, string reason, string fields, string body) =>
        $"HTTP/1.1 {status} {reason}\r\n{fields}Content-Length: {body.Length}\r\n\r\n{body}";

    [Fact]
    public async Task Invalid_arguments_are_refused_naming_what_was_wrong()
    {
        using var client = new ParleyClient();
        await Assert.ThrowsAsync<ArgumentNullException>("request", async () => await client.SendAsync(null!, Test));
        Assert.Throws<ArgumentNullException>("uri", () => new ParleyRequest("GET", (Uri)null!));
        var method = Assert.Throws<ArgumentException>("method", () => new ParleyRequest("GET /x", new Uri("http://a.example/")));
        Assert.StartsWith("invalid method 'GET /x'", method.Message);
        Assert.Throws<ArgumentNullException>("stream", () => ParleyContent.FromStream(null!));
        Assert.Throws<ArgumentOutOfRangeException>("length", () => ParleyContent.FromStream(new MemoryStream(), -1));
        Assert.Throws<ArgumentNullException>("client", () => new ParleyHandler((ParleyClient)null!));
    }

    [Fact]
    public async Task A_stream_body_of_declared_length_zero_goes_out_as_Content_Length_0()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 204 No Content\r\n\r\n"));
        using var client = new ParleyClient();
        var request = new ParleyRequest("PUT", server.Url) { Content = ParleyContent.FromStream(new MemoryStream(), length: 0) };
        using (ParleyResponse response = await client.SendAsync(request, Test)) Assert.Equal(204, response.StatusCode);
        Assert.Contains("\r\nContent-Length: 0\r\n", server.Requests[0]);
    }

    [Fact]
    public async Task GetStringAsync_throws_from_400_on_naming_the_request_and_the_status()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Head.StartsWith("GET /bad", StringComparison.Ordinal)
            ? Response(400, "Bad Request", "", "nope")
            : Response(399, "Unusual", "", "fine")));
        using var client = new ParleyClient();

        Assert.Equal("fine", await client.GetStringAsync($"{server.Url}ok", Test));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.GetStringAsync($"{server.Url}bad", Test));
        Assert.Equal($"GET {server.Url}bad answered 400 Bad Request", error.Message);
    }

    [Fact]
    public async Task A_requests_own_observer_and_redirect_setting_win_over_the_clients()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Head.StartsWith("GET /old", StringComparison.Ordinal)
            ? Response(302, "Found", "Location: /new\r\n", "")
            : Response(200, "OK", "", "new")));
        var clientObserver = new RecordingObserver();
        var requestObserver = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = clientObserver, FollowRedirects = false });

        var follow = new ParleyRequest("GET", $"{server.Url}old") { Observer = requestObserver, FollowRedirects = true };
        using (ParleyResponse response = await client.SendAsync(follow, Test)) Assert.Equal("new", await response.ReadAsStringAsync(Test));
        Assert.Empty(clientObserver.Kinds());
        Assert.Contains(SessionEventKind.Redirecting, requestObserver.Kinds());

        using var following = new ParleyClient(new ParleyClientOptions { FollowRedirects = true });
        var stay = new ParleyRequest("GET", $"{server.Url}old") { FollowRedirects = false };
        using (ParleyResponse response = await following.SendAsync(stay, Test)) Assert.Equal(302, response.StatusCode);
    }

    [Fact]
    public async Task The_request_timeout_runs_from_the_call_and_not_before()
    {
        await using var server = new ScriptedServer(exchange => exchange.HangAsync());
        using var client = new ParleyClient(new ParleyClientOptions { RequestTimeout = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync(server.Url, Test));
        clock.Stop();
        Assert.Equal(ParleyErrorKind.Timeout, error.Kind);
        // A lower bound only (any machine meets it): the deadline is the call's time plus the timeout.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"timed out after {clock.Elapsed.TotalMilliseconds:F0} ms of a 1000 ms timeout");
    }

    [Fact]
    public async Task A_redirect_body_up_to_64_KiB_is_read_to_reuse_the_connection_and_a_longer_one_closes_it()
    {
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Head.StartsWith("GET /drained", StringComparison.Ordinal)
            ? Response(302, "Found", "Location: /end\r\n", new string('d', 64 * 1024))
            : exchange.Head.StartsWith("GET /dropped", StringComparison.Ordinal)
                ? Response(302, "Found", "Location: /end\r\n", new string('d', 64 * 1024 + 1))
                : Response(200, "OK", "", "end")));
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { FollowRedirects = true, Observer = observer });

        using (ParleyResponse response = await client.GetAsync($"{server.Url}drained", Test)) Assert.Equal("end", await response.ReadAsStringAsync(Test));
        Assert.Equal([false, true], observer.ReuseFlags());
        Assert.Equal(1, server.Accepted);

        using (ParleyResponse response = await client.GetAsync($"{server.Url}dropped", Test)) Assert.Equal("end", await response.ReadAsStringAsync(Test));
        // The pooled connection carried the 302; closed unread, the /end request needed a new one.
        Assert.Equal([false, true, true, false], observer.ReuseFlags());
        Assert.Equal(2, server.Accepted);
        Assert.Equal(1, client.ConnectionCount);
    }

    [Fact]
    public async Task A_redirect_body_is_drained_as_sent_even_in_a_coding_that_does_not_decode()
    {
        // "Content-Encoding: gzip" over bytes that are not gzip: nobody reads this body, so it must not matter.
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Head.StartsWith("GET /old", StringComparison.Ordinal)
            ? Response(302, "Found", "Location: /new\r\nContent-Encoding: gzip\r\n", "moved, not gzip")
            : Response(200, "OK", "", "new")));
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { FollowRedirects = true, AutomaticDecompression = true, Observer = observer });

        Assert.Equal("new", await client.GetStringAsync($"{server.Url}old", Test));
        Assert.Equal([false, true], observer.ReuseFlags());
    }

    [Fact]
    public async Task A_loop_is_caught_at_the_first_repeated_request_and_its_connection_closed()
    {
        // Bodies longer than the client keeps with the head, so the last 302 is still on its connection.
        string body = new('x', 20_000);
        await using var server = new ScriptedServer(exchange => exchange.SendAsync(exchange.Head.StartsWith("GET /a", StringComparison.Ordinal)
            ? Response(302, "Found", "Location: /b\r\n", body)
            : Response(302, "Found", "Location: /a\r\n", body)));
        using var client = new ParleyClient(new ParleyClientOptions { FollowRedirects = true });

        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"{server.Url}a", Test));
        Assert.Equal(ParleyErrorKind.RedirectLoop, error.Kind);
        Assert.Equal($"redirect loop: {server.Url}b answered 302 to {server.Url}a, which was already requested", error.Message);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task Too_many_redirects_name_the_start_and_the_last_hop_and_close_the_connection()
    {
        string body = new('x', 20_000);
        await using var server = new ScriptedServer(exchange =>
        {
            int hop = int.Parse(exchange.Head["GET /n".Length..exchange.Head.IndexOf(' ', 4)]);
            return exchange.SendAsync(Response(302, "Found", $"Location: /n{hop + 1}\r\n", body));
        });
        using var client = new ParleyClient(new ParleyClientOptions { FollowRedirects = true, MaxRedirects = 1 });

        var error = await Assert.ThrowsAsync<ParleyHttpException>(async () => await client.GetAsync($"{server.Url}n0", Test));
        Assert.Equal(ParleyErrorKind.TooManyRedirects, error.Kind);
        Assert.Equal($"too many redirects: more than 1 starting from {server.Url}n0 (last: {server.Url}n1 -> {server.Url}n2)", error.Message);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task A_retry_goes_to_a_new_connection_not_to_another_idle_one()
    {
        // Two connections, each answering its first request (held until both arrived, so that they are two)
        // and closing on its second without a word: the race of RFC 9112 §9.3.1 on every reused connection.
        int arrived = 0;
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new ScriptedServer(async exchange =>
        {
            if (exchange.RequestOnConnection > 1)
            {
                exchange.CloseAfter = true;
                return;
            }
            if (Interlocked.Increment(ref arrived) == 2) both.TrySetResult();
            await both.Task.WaitAsync(exchange.Stopping);
            await exchange.SendAsync(Response(200, "OK", "", "ok"));
        });
        var observer = new RecordingObserver();
        using var client = new ParleyClient(new ParleyClientOptions { Observer = observer });
        Task<string>[] first = [client.GetStringAsync(server.Url, Test).AsTask(), client.GetStringAsync(server.Url, Test).AsTask()];
        Assert.Equal(["ok", "ok"], await Task.WhenAll(first));
        Assert.Equal(2, client.IdleConnectionCount(new Uri(server.Url)));

        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        Assert.Equal([false, false, true, false], observer.ReuseFlags());
        Assert.Equal(3, server.Accepted);
    }
}

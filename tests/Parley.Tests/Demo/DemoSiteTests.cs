using System.Net;
using System.Text;
using Parley.Cli.Demo;
using Parley.Tests.Server;

namespace Parley.Tests.Demo;

/// <summary>The embedded demo site replays the walkthrough's session: raw bytes over TCP.</summary>
public class DemoSiteTests
{
    private static Task<TestServer> StartDemoAsync() => TestServer.StartAsync(DemoSite.Create());

    [Fact]
    public async Task Home_page_in_English_carries_every_field_of_the_walkthrough()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("text/html; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal(response.Body.Length.ToString(), response.Header("Content-Length"));
        Assert.NotNull(response.Header("Date"));
        Assert.Matches("^\"[0-9a-f]{16}\"$", response.Header("ETag"));
        Assert.Equal("no-cache", response.Header("Cache-Control"));
        Assert.Equal("Parley", response.Header("Server"));
        Assert.Equal("en", response.Header("Content-Language"));
        Assert.Equal("Accept-Language", response.Header("Vary"));
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Equal("DENY", response.Header("X-Frame-Options"));
        Assert.Contains("<html lang=\"en\">", response.BodyText);
        Assert.Contains("<h1>A basic web page</h1>", response.BodyText);
    }

    [Theory]
    [InlineData("fr", "fr")]
    [InlineData("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr")]
    [InlineData("en;q=0.5, fr", "fr")]
    [InlineData("fr;q=0.1, en", "en")]
    [InlineData("de, ja", "en")]
    [InlineData("fr;q=0", "en")]
    public async Task Home_page_language_follows_Accept_Language_q_values(string acceptLanguage, string expected)
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"GET / HTTP/1.1\r\nHost: x\r\nAccept-Language: {acceptLanguage}\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(expected, response.Header("Content-Language"));
        Assert.Contains($"<html lang=\"{expected}\">", response.BodyText);
        Assert.Contains(expected == "fr" ? "Une page web simple" : "A basic web page", response.BodyText);
    }

    [Fact]
    public async Task Every_page_shows_the_raw_request_and_counts_requests_on_the_connection()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nX-Probe: <b>&\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Contains("GET / HTTP/1.1\r\nHost: x\r\nX-Probe: &lt;b&gt;&amp;\r\n", first.BodyText);
        Assert.Contains("Request #1 on this TCP connection.", first.BodyText);
        await connection.SendAsync("GET /contact HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Contains("Request #2 on this TCP connection: the connection was reused (keep-alive).", second.BodyText);
    }

    [Fact]
    public async Task Contact_page_has_a_form_that_posts_urlencoded_data_to_contact_form_php()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /contact HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Contains("<form method=\"post\" action=\"/contact_form.php\">", response.BodyText);
        Assert.Contains("name=\"name\"", response.BodyText);
        Assert.Contains("name=\"request\"", response.BodyText);
    }

    [Fact]
    public async Task Posting_the_walkthrough_form_shows_the_decoded_fields()
    {
        const string body = "name=Joe%20User&request=Send%20me%20one%20of%20your%20catalogue";
        // The walkthrough calls this a 64-byte body; counted, it is 63 bytes.
        Assert.Equal(63, Encoding.ASCII.GetByteCount(body));
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 63\r\n\r\n{body}");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(200, response.StatusCode);
        Assert.Contains("<dd id=\"field-name\">Joe User</dd>", response.BodyText);
        Assert.Contains("<dd id=\"field-request\">Send me one of your catalogue</dd>", response.BodyText);
        Assert.Contains("63-byte body", response.BodyText);
    }

    [Fact]
    public async Task Posted_fields_are_HTML_escaped_and_plus_is_a_space()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        string body = "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&request=a+b%26c";
        await connection.SendAsync($"POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Contains("<dd id=\"field-name\">&lt;script&gt;alert(1)&lt;/script&gt;</dd>", response.BodyText);
        Assert.Contains("<dd id=\"field-request\">a b&amp;c</dd>", response.BodyText);
        Assert.DoesNotContain("<script>", response.BodyText);
    }

    [Theory]
    [InlineData("name=%zz", 400)]
    [InlineData("name=%E9t%E9", 400)] // Latin-1 bytes are not UTF-8
    public async Task A_malformed_form_gets_400_with_a_clear_message(string body, int status)
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync($"POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Contains("could not be decoded", response.BodyText);
    }

    [Fact]
    public async Task An_oversized_form_gets_413()
    {
        await using var server = await StartDemoAsync();
        string body = "name=" + new string('a', DemoSite.MaxFormBytes);
        string all = await server.ExchangeUntilCloseAsync($"POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        Assert.StartsWith("HTTP/1.1 413 Content Too Large\r\n", all);
        Assert.Contains("The form was refused", all);
    }

    [Fact]
    public async Task A_form_of_another_media_type_gets_415()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(415, response.StatusCode);
    }

    [Fact]
    public async Task Moved_answers_301_with_Location_and_a_small_body()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 301 Moved Permanently", response.StatusLine);
        Assert.Equal("/", response.Header("Location"));
        Assert.Contains("301 Moved Permanently", response.BodyText);
    }

    [Fact]
    public async Task Unknown_paths_get_a_404_page_that_caches_must_not_keep()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /no/such/<page> HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 404 Not Found", response.StatusLine);
        Assert.Equal("no-cache, no-store, must-revalidate", response.Header("Cache-Control"));
        Assert.Equal("text/html; charset=utf-8", response.Header("Content-Type"));
        Assert.Contains("<code>/no/such/&lt;page&gt;</code>", response.BodyText);
    }

    [Fact]
    public async Task The_stylesheet_revalidates_with_its_ETag_to_304()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        RawResponse first = await connection.ReadResponseAsync();
        Assert.Equal("text/css; charset=utf-8", first.Header("Content-Type"));
        string etag = first.Header("ETag")!;
        await connection.SendAsync($"GET /style.css HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n");
        RawResponse second = await connection.ReadResponseAsync();
        Assert.Equal(304, second.StatusCode);
        Assert.Equal(etag, second.Header("ETag"));
        Assert.Empty(second.Body);
    }

    [Fact]
    public async Task POST_to_a_page_gets_405_with_Allow()
    {
        await using var server = await StartDemoAsync();
        await using var connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal(405, response.StatusCode);
        Assert.Equal("GET, HEAD, OPTIONS", response.Header("Allow"));
    }
}

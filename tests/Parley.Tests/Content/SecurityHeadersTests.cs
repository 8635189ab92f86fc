using Parley.Content;
using Parley.Server;
using Parley.Tests.Content.StaticFiles;
using Parley.Tests.Server;

namespace Parley.Tests.Content;

/// <summary>SecurityHeaders.Wrap: the fields it adds, and HSTS only over a secure transport (RFC 6797 §7.2).</summary>
public class SecurityHeadersTests
{
    private static ValueTask Page(HttpRequest request, HttpResponse response)
    {
        response.WriteHtml("<p>hi</p>");
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Adds_the_default_fields_and_never_HSTS_on_plain_HTTP()
    {
        await using var server = await TestServer.StartAsync(SecurityHeaders.Wrap(Page));
        RawResponse response = await server.GetAsync("/");
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Equal("DENY", response.Header("X-Frame-Options"));
        Assert.Equal("no-referrer", response.Header("Referrer-Policy"));
        Assert.StartsWith("default-src 'self'", response.Header("Content-Security-Policy"));
        Assert.Null(response.Header("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Sends_HSTS_only_when_the_transport_is_secure()
    {
        var options = new SecurityHeadersOptions { IsSecureTransport = request => request.Headers["X-Test-Tls"] == "1" };
        await using var server = await TestServer.StartAsync(SecurityHeaders.Wrap(Page, options));
        Assert.Equal("max-age=31536000; includeSubDomains", (await server.GetAsync("/", "X-Test-Tls: 1\r\n")).Header("Strict-Transport-Security"));
        Assert.Null((await server.GetAsync("/")).Header("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Each_field_is_configurable_and_can_be_left_out()
    {
        var options = new SecurityHeadersOptions { NoSniff = false, FrameOptions = "SAMEORIGIN", ReferrerPolicy = null, ContentSecurityPolicy = "default-src 'none'" };
        await using var server = await TestServer.StartAsync(SecurityHeaders.Wrap(Page, options));
        RawResponse response = await server.GetAsync("/");
        Assert.Null(response.Header("X-Content-Type-Options"));
        Assert.Equal("SAMEORIGIN", response.Header("X-Frame-Options"));
        Assert.Null(response.Header("Referrer-Policy"));
        Assert.Equal("default-src 'none'", response.Header("Content-Security-Policy"));
    }

    [Fact]
    public async Task The_inner_handler_can_override_a_field()
    {
        RequestHandler inner = (request, response) =>
        {
            response.Headers.Set("X-Frame-Options", "SAMEORIGIN");
            return Page(request, response);
        };
        await using var server = await TestServer.StartAsync(SecurityHeaders.Wrap(inner));
        RawResponse response = await server.GetAsync("/");
        Assert.Equal("SAMEORIGIN", response.Header("X-Frame-Options"));
        Assert.Single(response.Headers, h => h.Key == "X-Frame-Options");
    }

    [Fact]
    public void A_value_that_could_split_the_response_is_refused_up_front()
    {
        Assert.ThrowsAny<ArgumentException>(() => SecurityHeaders.Wrap(Page, new SecurityHeadersOptions { ContentSecurityPolicy = "a\r\nSet-Cookie: x=1" }));
    }
}

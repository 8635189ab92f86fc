using System.Net;
using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// What the server refuses before it serves anything, and the message it gives: options that contradict
/// HTTP or themselves (checked when the server is created), listeners that cannot work (checked by the
/// start, before anything is bound), and calls made too early or twice. Also the values at the edge of
/// each range, which must be taken.
/// </summary>
public class ServerOptionChecksTests
{
    private static readonly RequestHandler Hello = (request, response) =>
    {
        response.WriteText("hello");
        return ValueTask.CompletedTask;
    };

    private static ArgumentException Refusal(HttpServerOptions options) =>
        Assert.Throws<ArgumentException>(() => new HttpServer(options, Hello));

    [Fact]
    public void A_server_field_with_a_line_break_is_refused_when_the_server_is_created() // RFC 9110 §5.5
    {
        ArgumentException error = Refusal(new HttpServerOptions { ServerHeader = "parley\r\nX-Injected: 1" });
        Assert.Equal("invalid character U+000D in the value of field 'Server' (Parameter 'value')", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("x:port")]
    [InlineData("b\u00fccher.test")]
    public void An_invalid_default_host_is_refused_with_a_message_naming_it(string defaultHost) => // RFC 9112 §3.3
        Assert.Equal($"DefaultHost '{defaultHost}' is not a valid host[:port] (Parameter 'options')",
            Refusal(new HttpServerOptions { DefaultHost = defaultHost }).Message);

    [Fact]
    public async Task A_default_host_without_a_port_is_taken() // RFC 9112 §3.3: uri-host [ ":" port ]
    {
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText($"host={request.Host}");
            return ValueTask.CompletedTask;
        }, options => options.DefaultHost = "example.test");
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.0\r\n\r\n");
        Assert.Equal("host=example.test", (await connection.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public void A_negative_drain_delay_is_refused_and_none_is_taken()
    {
        Assert.Equal("DrainDelay must not be negative (Parameter 'options')",
            Refusal(new HttpServerOptions { DrainDelay = TimeSpan.FromSeconds(-1) }).Message);
        Assert.Null(Record.Exception(() => new HttpServer(new HttpServerOptions { DrainDelay = TimeSpan.Zero }, Hello)));
    }

    [Fact]
    public void A_negative_HSTS_max_age_is_refused_and_zero_is_taken() // RFC 6797 §6.1.1: max-age=0 withdraws the policy
    {
        var negative = new HttpServerOptions { StrictTransportSecurity = new StrictTransportSecurityOptions { MaxAge = TimeSpan.FromSeconds(-1) } };
        Assert.Equal("StrictTransportSecurity.MaxAge must not be negative (Parameter 'options')", Refusal(negative).Message);
        var zero = new HttpServerOptions { StrictTransportSecurity = new StrictTransportSecurityOptions { MaxAge = TimeSpan.Zero } };
        Assert.Equal("Strict-Transport-Security: max-age=0\r\n", Encoding.ASCII.GetString(new HttpServer(zero, Hello).StrictTransportSecurityFieldLine!));
    }

    [Fact]
    public void Before_its_start_a_server_has_no_address_and_is_not_ready()
    {
        var server = new HttpServer(new HttpServerOptions { Host = "127.0.0.1", Port = 0 }, Hello);
        Assert.Equal("the server is not started", Assert.Throws<InvalidOperationException>(() => server.LocalEndPoint).Message);
        Assert.Equal("the server is not started", Assert.Throws<InvalidOperationException>(() => server.LocalEndPoints).Message);
        Assert.False(server.IsReady);
    }

    [Fact]
    public async Task A_server_stopped_before_its_start_does_not_wait_out_its_drain_delay()
    {
        // The delay is there for a load balancer to notice the readiness change; nothing listens yet.
        var server = new HttpServer(new HttpServerOptions { DrainDelay = TimeSpan.FromHours(1) }, Hello);
        await server.StopAsync().WaitAsync(ServerTiming.HangBound);
        Assert.True(server.IsStopping);
        Assert.False(server.IsReady);
    }

    [Fact]
    public async Task A_second_start_is_refused_and_the_first_goes_on_serving()
    {
        await using TestServer server = await TestServer.StartAsync(Hello);
        IPEndPoint bound = server.Server.LocalEndPoint;
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => server.Server.StartAsync());
        Assert.Equal("the server is already started", error.Message);
        Assert.Equal(bound, server.Server.LocalEndPoint);
        Assert.True(server.Server.IsReady);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("hello", (await connection.ReadResponseAsync()).BodyText);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public async Task A_redirect_to_a_port_out_of_range_is_refused_by_the_start(int httpsPort)
    {
        var server = new HttpServer(new HttpServerOptions { Listeners = { ListenerOptions.RedirectToHttps("127.0.0.1", 0, httpsPort) } }, Hello);
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => server.StartAsync());
        Assert.Equal($"RedirectToHttpsPort must be 0-65535, not {httpsPort}", error.Message);
        Assert.False(server.IsReady);
    }

    [Fact]
    public async Task A_listener_that_speaks_TLS_and_redirects_to_HTTPS_is_refused_by_the_start()
    {
        ListenerOptions both = ListenerOptions.Https("127.0.0.1", 0, TestServer.TestTlsOptions());
        both.RedirectToHttpsPort = 8443;
        var server = new HttpServer(new HttpServerOptions { Listeners = { both } }, Hello);
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => server.StartAsync());
        Assert.Equal("a listener redirects to HTTPS or speaks TLS, not both", error.Message);
    }

    [Fact]
    public async Task A_redirect_to_port_0_without_an_HTTPS_listener_is_refused_by_the_start()
    {
        var server = new HttpServer(new HttpServerOptions { Listeners = { ListenerOptions.RedirectToHttps("127.0.0.1", 0, 0) } }, Hello);
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => server.StartAsync());
        Assert.Equal("RedirectToHttpsPort 0 names the first HTTPS listener, and there is none", error.Message);
    }

    [Fact]
    public async Task The_highest_port_is_a_redirect_target_like_any_other()
    {
        await using TestServer server = await TestServer.StartAsync(Hello, options => options.Listeners.Add(ListenerOptions.RedirectToHttps("127.0.0.1", 0, 65535)));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /p HTTP/1.1\r\nHost: example.com\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync();
        Assert.Equal((301, "https://example.com:65535/p"), (response.StatusCode, response.Header("Location")));
    }

    [Theory]
    [InlineData("*", "::")]
    [InlineData("", "::")]
    [InlineData("[::1]", "::1")]
    [InlineData("localhost", "127.0.0.1")]
    public async Task A_listener_host_binds_the_address_it_names(string host, string address)
    {
        await using var server = new HttpServer(new HttpServerOptions { Host = host, Port = 0 }, Hello);
        await server.StartAsync();
        Assert.Equal(IPAddress.Parse(address), server.LocalEndPoint.Address);
        Assert.NotEqual(0, server.LocalEndPoint.Port);
    }
}

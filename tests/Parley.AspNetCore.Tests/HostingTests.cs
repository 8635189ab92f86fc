using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.AspNetCore.Tests;

/// <summary>Addresses from the host's usual places, and the graceful stop through IHostApplicationLifetime.</summary>
public sealed class HostingTests
{
    [Theory]
    [InlineData(ServerKind.Kestrel)]
    [InlineData(ServerKind.ParleyEpoll)]
    [InlineData(ServerKind.ParleySockets)]
    public async Task StopApplication_finishes_the_request_in_flight_and_stops_accepting(ServerKind kind)
    {
        string root = Directory.CreateTempSubdirectory("parley-aspnet-stop").FullName;
        await using CompatApp app = await CompatApp.StartAsync(kind, root, run: true);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", app.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /raw/slow HTTP/1.1\r\nHost: x\r\n\r\n"));
        await app.Signals.WaitEntered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        app.Lifetime.StopApplication();
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await WaitUntilRefusedAsync(app.Port);

        app.Signals.Release.TrySetResult();
        RawResponse response = RawHttp.Parse(await RawHttp.ReadToEndAsync(socket));
        Assert.Equal(200, response.Status);
        Assert.Equal("done", response.BodyText);
        // Parley tells the client the connection ends with this response (RFC 9112 §9.6); Kestrel just closes.
        if (kind != ServerKind.Kestrel) Assert.Equal("close", response.Field("Connection"));
        await app.Running.WaitAsync(TimeSpan.FromSeconds(30));
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task Urls_setting_is_used_and_port_zero_is_reported_with_the_real_port()
    {
        await using WebApplication app = Build(builder => builder.WebHost.UseSetting("urls", "http://127.0.0.1:0;http://localhost:0"));
        await app.StartAsync();
        ICollection<string> addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Assert.Equal(2, addresses.Count);
        foreach (string address in addresses)
        {
            var uri = new Uri(address);
            Assert.NotEqual(0, uri.Port);
            RawResponse response = await RawHttp.SendAsync(uri.Port, "GET", "/");
            Assert.Equal("root", response.BodyText);
        }
        Assert.Contains(addresses, a => a.StartsWith("http://localhost:", StringComparison.Ordinal));
        await app.StopAsync();
    }

    [Fact]
    public async Task Options_urls_apply_when_the_host_has_none()
    {
        await using WebApplication app = Build(builder => builder.WebHost.UseParley(options => options.Urls.Add("http://127.0.0.1:0")));
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Assert.StartsWith("http://127.0.0.1:", address);
        Assert.Equal("root", (await RawHttp.SendAsync(new Uri(address).Port, "GET", "/")).BodyText);
        await app.StopAsync();
    }

    [Theory]
    [InlineData("http://localhost:5000", "localhost", 5000)]
    [InlineData("http://*:8080", "*", 8080)]
    [InlineData("http://+:80/base", "+", 80)]
    [InlineData("http://[::1]:0", "[::1]", 0)]
    [InlineData("http://127.0.0.1", "127.0.0.1", 80)]
    [InlineData("HTTP://example.test:81", "example.test", 81)]
    public void Addresses_are_parsed_as_the_host_writes_them(string text, string host, int port)
    {
        ListenAddress address = ListenAddress.Parse(text);
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("127.0.0.1:80")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://127.0.0.1:x")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("http://[::1:80")]
    public void Malformed_addresses_are_refused(string text) => Assert.Throws<FormatException>(() => ListenAddress.Parse(text));

    private static WebApplication Build(Action<WebApplicationBuilder> configure)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseParley();
        configure(builder);
        WebApplication app = builder.Build();
        app.MapGet("/", () => "root");
        return app;
    }

    // A stopping server closes its listener; until then a connection may still be accepted (and closed).
    private static async Task WaitUntilRefusedAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync("127.0.0.1", port);
            }
            catch (SocketException)
            {
                return;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException("the server kept accepting connections after StopApplication");
    }
}

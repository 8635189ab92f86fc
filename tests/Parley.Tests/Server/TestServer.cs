using System.Net;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>A Parley server on a free loopback port for one test; disposing stops it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(HttpServer server) => Server = server;

    public HttpServer Server { get; }

    public int Port => Server.LocalEndPoint.Port;

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public List<string> Errors { get; } = [];

    public static async Task<TestServer> StartAsync(RequestHandler handler, Action<HttpServerOptions>? configure = null)
    {
        var options = new HttpServerOptions { Host = "127.0.0.1", Port = 0 };
        // PARLEY_TEST_TRANSPORT=epoll runs every server-backed test on the epoll transport.
        if (Environment.GetEnvironmentVariable("PARLEY_TEST_TRANSPORT") == "epoll") options.Transport = TransportKind.Epoll;
        TestServer? created = null;
        var errors = new List<string>();
        options.ErrorLog = (message, exception) =>
        {
            lock (errors) errors.Add(exception is null ? message : $"{message}: {exception.GetType().Name}: {exception.Message}");
        };
        configure?.Invoke(options);
        var server = new HttpServer(options, handler);
        await server.StartAsync();
        created = new TestServer(server);
        created.Errors.AddRange(errors);
        options.ErrorLog = (message, exception) =>
        {
            lock (created.Errors) created.Errors.Add(exception is null ? message : $"{message}: {exception.GetType().Name}: {exception.Message}");
        };
        return created;
    }

    public Task<RawConnection> ConnectAsync() => RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, Port));

    /// <summary>Sends <paramref name="request"/> on a new connection and returns everything until the server closes it.</summary>
    public async Task<string> ExchangeUntilCloseAsync(string request)
    {
        await using RawConnection connection = await ConnectAsync();
        await connection.SendAsync(request);
        return await connection.ReadUntilCloseAsync();
    }

    public async ValueTask DisposeAsync() => await Server.StopAsync(TimeSpan.FromSeconds(2));
}

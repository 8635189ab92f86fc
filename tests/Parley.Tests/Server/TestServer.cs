using System.Net;
using System.Net.Sockets;
using Parley.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Server;

/// <summary>A Parley server on a free loopback port for one test; disposing stops it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(HttpServer server, bool tls)
    {
        Server = server;
        IsTls = tls;
    }

    public HttpServer Server { get; }

    /// <summary>Whether the server's (first) listener speaks TLS: <see cref="ConnectAsync"/> then handshakes.</summary>
    public bool IsTls { get; }

    public int Port => Server.LocalEndPoint.Port;

    public Uri BaseUri => new($"{(IsTls ? "https" : "http")}://127.0.0.1:{Port}");

    /// <summary>TLS options presenting <see cref="TestCertificates.Server"/> (localhost, 127.0.0.1, ::1; signed by the test CA).</summary>
    public static ServerTlsOptions TestTlsOptions() => new() { Certificate = ServerCertificate.FromCertificate(TestCertificates.Server.Certificate) };

    public List<string> Errors { get; } = [];

    /// <summary>
    /// Starts a server; with <paramref name="tls"/>, its one listener is HTTPS with <see cref="TestTlsOptions"/>
    /// (set before <paramref name="configure"/> runs, which may change them).
    /// </summary>
    public static async Task<TestServer> StartAsync(RequestHandler handler, Action<HttpServerOptions>? configure = null, bool tls = false)
    {
        TestServerUsers.Record();
        var options = new HttpServerOptions { Host = "127.0.0.1", Port = 0 };
        if (tls) options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, TestTlsOptions()));
        // PARLEY_TEST_TRANSPORT=epoll runs every server-backed test on the epoll transport.
        if (Environment.GetEnvironmentVariable("PARLEY_TEST_TRANSPORT") == "epoll") options.Transport = TransportKind.Epoll;
        TestServer? created = null;
        var errors = new List<string>();
        options.ErrorLog = (message, exception) =>
        {
            lock (errors) errors.Add(exception is null ? message : $"{message}: {exception.GetType().Name}: {exception.Message}");
        };
        configure?.Invoke(options);
        // A test that asks for an address or a fixed port means the listener's.
        if (tls)
        {
            options.Listeners[0].Host = options.Host;
            if (options.Port != 0) options.Listeners[0].Port = options.Port;
        }
        var server = new HttpServer(options, handler);
        await server.StartAsync();
        created = new TestServer(server, tls);
        created.Errors.AddRange(errors);
        options.ErrorLog = (message, exception) =>
        {
            lock (created.Errors) created.Errors.Add(exception is null ? message : $"{message}: {exception.GetType().Name}: {exception.Message}");
        };
        return created;
    }

    public Task<RawConnection> ConnectAsync() => ConnectAsync(IPAddress.Loopback);

    /// <summary>Connects to the server's port at <paramref name="address"/> (handshaking when <see cref="IsTls"/>).</summary>
    public Task<RawConnection> ConnectAsync(IPAddress address) => IsTls
        ? RawConnection.OpenTlsAsync(new IPEndPoint(address, Port))
        : RawConnection.OpenAsync(new IPEndPoint(address, Port));

    /// <summary>
    /// Sends <paramref name="request"/> on a new connection and returns everything until the server closes it.
    /// A server that rejects a request may answer and close before it has read all of it (its lingering close
    /// discards only so much), so a send cut short by a reset or broken pipe is not a failure: the answer that
    /// came before the reset is still read and returned.
    /// </summary>
    public async Task<string> ExchangeUntilCloseAsync(string request)
    {
        await using RawConnection connection = await ConnectAsync();
        try
        {
            await connection.SendAsync(request);
        }
        catch (Exception ex) when (ex is SocketException || ex is IOException { InnerException: SocketException })
        {
        }
        return await connection.ReadUntilCloseAsync();
    }

    public async ValueTask DisposeAsync() => await Server.StopAsync(TimeSpan.FromSeconds(2));

    /// <summary>How many failures of <paramref name="kind"/> (a status page name) the server has counted.</summary>
    public long FailureCount(string kind)
    {
        var written = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(written))
        {
            writer.WriteStartObject();
            Server.Status.WriteErrors(writer);
            writer.WriteEndObject();
        }
        using var document = System.Text.Json.JsonDocument.Parse(written.WrittenMemory);
        return document.RootElement.GetProperty("errors").GetProperty("byKind").GetProperty(kind).GetInt64();
    }
}

using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// Tests that run on every transport: each suite derives from this, and an Epoll subclass runs the
/// whole suite again on <see cref="TransportKind.Epoll"/>.
/// </summary>
public abstract class TransportTests
{
    /// <summary>The transport these tests run on.</summary>
    protected virtual TransportKind Transport => TransportKind.Sockets;

    /// <summary>Whether the suite runs over TLS: a Tls subclass runs the whole suite again through an HTTPS listener.</summary>
    protected virtual bool OverTls => false;

    /// <summary>Starts a test server on <see cref="Transport"/>, over TLS when <see cref="OverTls"/>.</summary>
    protected Task<TestServer> StartAsync(RequestHandler handler, Action<HttpServerOptions>? configure = null) =>
        TestServer.StartAsync(handler, options =>
        {
            options.Transport = Transport;
            configure?.Invoke(options);
        }, OverTls);
}

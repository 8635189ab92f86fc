using Parley.Server;
using System.Runtime.InteropServices;

namespace Parley.AspNetCore;

/// <summary>
/// How <see cref="ParleyServer"/> runs an ASP.NET Core application: the addresses to listen on when the
/// host gives none, the transport, and the engine's limits and timeouts.
/// </summary>
public sealed class ParleyServerOptions
{
    /// <summary>
    /// Addresses such as <c>http://127.0.0.1:8080</c> or <c>http://*:0</c>. Used when the host's own
    /// (<c>urls</c>, <c>ASPNETCORE_URLS</c>, <c>--urls</c>) are absent, or always when
    /// <see cref="PreferOptionsUrls"/> is set. With none anywhere the server listens on <c>http://localhost:5000</c>.
    /// </summary>
    public IList<string> Urls { get; } = new List<string>();

    /// <summary>Use <see cref="Urls"/> even when the host configured addresses. Default false (the host's win, as with Kestrel's PreferHostingUrls).</summary>
    public bool PreferOptionsUrls { get; set; }

    /// <summary>
    /// The I/O layer. Default: epoll event loops where they run (Linux x64), as <c>parley serve</c>; the
    /// application then runs on the loop threads and must not block them (synchronous I/O, <c>.Result</c>).
    /// Choose <see cref="TransportKind.Sockets"/> for applications that block.
    /// </summary>
    public TransportKind Transport { get; set; } = EpollRuns ? TransportKind.Epoll : TransportKind.Sockets;

    private static bool EpollRuns => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>
    /// TLS for <c>https://</c> addresses: the certificate (or certificates by host name), client
    /// certificates, versions. Without it an <c>https://</c> address is refused when the server starts.
    /// </summary>
    public ServerTlsOptions? Https { get; set; }

    /// <summary>Whether synchronous reads and writes of the request and response bodies are allowed. Default false, as Kestrel.</summary>
    public bool AllowSynchronousIO { get; set; }

    /// <summary>Whether responses carry <c>Server: Parley</c> when the application set no Server field. Default true.</summary>
    public bool AddServerHeader { get; set; } = true;

    /// <summary>
    /// Largest request body an application may read, in bytes; null for no limit. Each request may change
    /// it through <c>IHttpMaxRequestBodySizeFeature</c> before it starts reading. Default 30,000,000 bytes, as Kestrel.
    /// </summary>
    public long? MaxRequestBodySize { get; set; } = 30_000_000;

    /// <summary>
    /// The engine's options: head limits, timeouts, connection limits, buffer sizes, logging. Their host,
    /// port, transport, Server field and body size limit are set from this object's own settings.
    /// </summary>
    public HttpServerOptions Engine { get; } = new();
}

using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// Where the server listens and the limits it enforces. Plain properties with documented defaults;
/// read once when the server starts.
/// </summary>
public sealed class HttpServerOptions
{
    /// <summary>The address to listen on: an IP literal, <c>localhost</c>, or <c>*</c> / <c>::</c> for all. Default 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (see <see cref="HttpServer.LocalEndPoint"/>). Default 8080.</summary>
    public int Port { get; set; } = 8080;

    /// <summary>
    /// Lets several processes listen on the same address and port at once (SO_REUSEPORT, Linux only), the
    /// kernel spreading new connections between them: for running one server as several worker
    /// processes. Every one of them must set it (and run as the same user); a server without it fails to
    /// start on a port another socket listens on, with "address already in use". Default false: a port in
    /// use is never shared by accident. <see cref="HttpServer.StartAsync"/> throws
    /// <see cref="PlatformNotSupportedException"/> when it is set on another system.
    /// </summary>
    public bool ReusePort { get; set; }

    /// <summary>
    /// Where to listen, each address plain, HTTPS or redirecting to HTTPS. When empty (the default), the
    /// server listens with plain HTTP on <see cref="Host"/> and <see cref="Port"/>.
    /// </summary>
    public IList<ListenerOptions> Listeners { get; } = new List<ListenerOptions>();

    /// <summary>
    /// Adds <c>Strict-Transport-Security</c> to every response sent over TLS (never over plain HTTP,
    /// RFC 6797 §7.2), unless the handler set the field itself; null (the default) adds none.
    /// </summary>
    public StrictTransportSecurityOptions? StrictTransportSecurity { get; set; }

    /// <summary>
    /// The host (<c>name[:port]</c>) a request is taken to be for when its Host field is empty or, in
    /// HTTP/1.0, absent (RFC 9112 §3.3); <see cref="HttpRequest.Host"/> then returns it. Null (default):
    /// a request with an empty Host gets 400 and the connection closes. A value that is not a valid host
    /// makes the <see cref="HttpServer"/> constructor throw.
    /// </summary>
    public string? DefaultHost { get; set; }

    /// <summary>
    /// The proxies (addresses as <c>/32</c> or <c>/128</c> networks, or CIDR ranges) whose forwarding fields
    /// are believed: a request from one of them has its <see cref="HttpRequest.RemoteEndPoint"/>,
    /// <see cref="HttpRequest.Scheme"/> and <see cref="HttpRequest.Host"/> taken from the fields chosen by
    /// <see cref="ForwardedHeaders"/>, walking the chain of proxies from the right and stopping at the first
    /// address not listed here (the client). <see cref="HttpRequest.PeerEndPoint"/> stays the TCP peer.
    /// Empty (the default): forwarding fields are ignored from everyone.
    /// </summary>
    public IList<System.Net.IPNetwork> TrustedProxies { get; } = new List<System.Net.IPNetwork>();

    /// <summary>
    /// Which forwarding fields a trusted proxy's request is read with. Default
    /// <c>XForwardedFor | XForwardedProto</c>, what nginx and HAProxy are usually set up to send (as in
    /// ASP.NET Core); add <see cref="Server.ForwardedHeaders.XForwardedHost"/> only when the proxy overwrites
    /// that field, or choose <see cref="Server.ForwardedHeaders.Forwarded"/> alone for RFC 7239's field.
    /// </summary>
    public ForwardedHeaders ForwardedHeaders { get; set; } = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;

    /// <summary>Request-line and header limits (414 / 431 beyond them).</summary>
    public HeadLimits HeadLimits { get; set; } = HeadLimits.Default;

    /// <summary>Largest request body accepted, in bytes (413 beyond). Default 30 MiB.</summary>
    public long MaxRequestBodySize { get; set; } = 30L * 1024 * 1024;

    /// <summary>How long a client may take to send a whole request head once it started one (408 after). Default 30 s.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle keep-alive connection is kept open waiting for the next request. Default 75 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(75);

    /// <summary>Longest wait for the next piece of a request body, or for the client to accept response bytes. Default 30 s.</summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Slowest request body accepted, in bytes per second, once <see cref="MinDataRateGracePeriod"/> has
    /// passed since the body started; a slower sender is disconnected (a trickle just inside
    /// <see cref="DataTimeout"/> cannot hold a connection forever). 0 turns the check off. Default 240, as Kestrel.
    /// </summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>How long a request body may start slowly before <see cref="MinRequestBodyDataRate"/> applies. Default 5 s.</summary>
    public TimeSpan MinDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests served on one connection before it is closed; 0 for no limit. Default 1000 (as nginx).</summary>
    public int MaxRequestsPerConnection { get; set; } = 1000;

    /// <summary>Connections served at once; further ones get 503 and are closed. Default 16384.</summary>
    public int MaxConcurrentConnections { get; set; } = 16384;

    /// <summary>How long a graceful stop waits for requests in flight before closing what is left. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a graceful stop keeps accepting and serving, with readiness off and every response closing
    /// its connection, before it stops accepting and closes idle connections: the time a load balancer
    /// needs to notice (Kubernetes' preStop habit). Behind a balancer that keeps idle connections to the
    /// server (nginx <c>keepalive</c>), make it longer than the balancer's idle timeout for them (nginx
    /// <c>keepalive_timeout</c> in the upstream block): every connection is then either closed after a
    /// response or already dropped by the balancer, and none is closed just as a request is sent on it.
    /// Default zero.
    /// </summary>
    public TimeSpan DrainDelay { get; set; }

    /// <summary>
    /// Liveness and readiness endpoints answered by the server itself (see <see cref="HealthCheckOptions"/>);
    /// null (the default) for none.
    /// </summary>
    public HealthCheckOptions? HealthChecks { get; set; }

    /// <summary>
    /// The live status page (see <see cref="StatusPageOptions"/>): open connections, request rate, errors
    /// by kind, as HTML and JSON; null (the default) for none.
    /// </summary>
    public StatusPageOptions? StatusPage { get; set; }

    /// <summary>Value of the <c>Server</c> field; null or empty sends none. Default "Parley".</summary>
    public string? ServerHeader { get; set; } = "Parley";

    /// <summary>Response bytes a handler may write before the engine starts sending (with chunked coding when no length was set). Default 64 KiB.</summary>
    public int ResponseBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// How connections do I/O. <see cref="TransportKind.Sockets"/> (default) is portable;
    /// <see cref="TransportKind.Epoll"/> (Linux x64) runs each connection on an event-loop thread and
    /// continues handlers inline there, saving a thread hop per request: handlers must then not block.
    /// </summary>
    public TransportKind Transport { get; set; } = TransportKind.Sockets;

    /// <summary>Event-loop threads of the epoll transport; 0 for one per processor.</summary>
    public int EpollThreadCount { get; set; }

    /// <summary>
    /// Called after each response with what an access log needs; null for none. It runs on the request
    /// path: for a log file, <see cref="AccessLogWriter"/> is the one that never holds a request up. An
    /// exception it throws goes to <see cref="ErrorLog"/>; the response is sent all the same.
    /// </summary>
    public Action<AccessLogEntry>? AccessLog { get; set; }

    /// <summary>
    /// Writes a line per response in the Common, Combined or JSON-lines format, off the request path with
    /// bounded buffering (see <see cref="Server.AccessLogWriter"/>); null (the default) for none. The server
    /// does not dispose it.
    /// </summary>
    public AccessLogWriter? AccessLogWriter { get; set; }

    /// <summary>
    /// Called when a handler throws or a connection fails unexpectedly; default writes to standard error. For a
    /// failure of a request (its handler threw, or its response fell short of its Content-Length) it runs with
    /// the request's span as <see cref="System.Diagnostics.Activity.Current"/> when spans are listened to. It also
    /// runs on the epoll loops' and the heartbeat's threads: an exception it throws costs no response, connection
    /// or thread, and is written to standard error with the line it was given.
    /// </summary>
    public Action<string, Exception?>? ErrorLog { get; set; } = static (message, exception) =>
        Console.Error.WriteLine(exception is null ? message : $"{message}{Environment.NewLine}{exception}");
}

/// <summary>One line of an access log: what was asked, what was answered, how long it took.</summary>
public readonly record struct AccessLogEntry(string Method, string Target, int StatusCode, long BodyBytes, TimeSpan Duration, int RequestOnConnection);

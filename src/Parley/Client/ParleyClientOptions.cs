using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Parley.Http1;

namespace Parley.Client;

/// <summary>Settings of a <see cref="ParleyClient"/>: plain properties with documented defaults.</summary>
public sealed class ParleyClientOptions
{
    /// <summary>Time to resolve the host and establish a TCP connection. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Time for the TLS handshake of an <c>https://</c> connection, from the end of the TCP connect until the
    /// session is established. A server that accepts the connection but stalls the handshake fails the
    /// request with <see cref="ParleyErrorKind.TlsHandshakeTimeout"/>. Default 10 s.
    /// </summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Root certificates trusted for <c>https://</c> servers in addition to the system's trust store, e.g. a
    /// private CA: <c>options.ExtraTrustedRoots.ImportFromPemFile("ca.pem")</c>. A server certificate is
    /// accepted when its chain ends in a system root or in one of these. Empty by default.
    /// </summary>
    public X509Certificate2Collection ExtraTrustedRoots { get; } = [];

    /// <summary>
    /// Decides whether to accept a server's certificate, in place of the built-in rule (accept only when
    /// <see cref="SslPolicyErrors"/> is <see cref="SslPolicyErrors.None"/>). It is called with the errors
    /// found against the system store and <see cref="ExtraTrustedRoots"/>, and host-name verification
    /// already applied. Returning true for every certificate (as <c>parley -k</c> does) gives up the
    /// protection TLS offers against an impostor. Null (default) uses the built-in rule.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidationCallback { get; set; }

    /// <summary>
    /// A certificate with its private key, sent when a server asks the client to authenticate (TLS client
    /// certificates). Null (default) sends none.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// The TLS versions offered. <see cref="SslProtocols.None"/> (default) lets the operating system choose,
    /// which on current systems means TLS 1.2 and 1.3.
    /// </summary>
    public SslProtocols TlsProtocols { get; set; } = SslProtocols.None;

    /// <summary>Time from the end of sending the request head until the whole response head arrived. Default 30 s.</summary>
    public TimeSpan ResponseHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest silence allowed between two reads of the response body. Default 30 s.</summary>
    public TimeSpan BodyIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Limit for the whole exchange, redirects included, up to the end of the response head; body reads
    /// are also cut off when it expires. Default <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>How long to wait for <c>100 Continue</c> before sending the body anyway (RFC 9110 §10.1.1). Default 1 s.</summary>
    public TimeSpan ExpectContinueTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an idle pooled connection is kept (a server's <c>Keep-Alive: timeout</c> may shorten it). Default 60 s.</summary>
    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Most connections open at once to one origin (scheme, host, port); further requests wait. Default 100.</summary>
    public int MaxConnectionsPerOrigin { get; set; } = 100;

    /// <summary>Follow 301, 302, 303, 307 and 308 redirects. Default false (opt-in).</summary>
    public bool FollowRedirects { get; set; }

    /// <summary>Most redirects followed for one request. Default 10.</summary>
    public int MaxRedirects { get; set; } = 10;

    /// <summary>
    /// Send <c>Accept-Encoding: gzip, deflate, br</c> (unless the request sets its own) and decode such
    /// responses transparently. Only responses to our own Accept-Encoding are decoded. Default false.
    /// </summary>
    public bool AutomaticDecompression { get; set; }

    /// <summary>Limits on the response head (<see cref="HeadLimits.MaxHeadBytes"/> and <see cref="HeadLimits.MaxFieldCount"/>).</summary>
    public HeadLimits HeadLimits { get; set; } = HeadLimits.Default;

    /// <summary>Longest status line accepted, in bytes. Default 8 KiB.</summary>
    public int MaxStatusLineLength { get; set; } = 8 * 1024;

    /// <summary>Sent as <c>User-Agent</c> unless the request sets one; null sends none. Default "parley".</summary>
    public string? UserAgent { get; set; } = "parley";

    /// <summary>Receives the phases of every exchange (a request's own observer takes precedence).</summary>
    public ISessionObserver? Observer { get; set; }

    /// <summary>
    /// How connections do I/O. <see cref="TransportKind.Sockets"/> (default) is portable: awaits on
    /// the client resume on the thread pool. <see cref="TransportKind.Epoll"/> (Linux x64; elsewhere
    /// the portable transport is used) gives the client one event-loop thread, and a response that arrives
    /// completes the caller's await right there, with no hand-off to another thread and fewer system
    /// calls. The caller's code after the await then runs on the loop thread: it must not block there
    /// (no <c>.Result</c>, <c>Wait()</c> or synchronous body reads of this client), or every connection of
    /// the client stalls. Default <see cref="TransportKind.Sockets"/>.
    /// </summary>
    public TransportKind Transport { get; set; } = TransportKind.Sockets;
}


using System.Net.Sockets;

namespace Parley.Server;

/// <summary>
/// One address the server listens on and what it speaks there: plain HTTP, HTTPS (with <see cref="Tls"/>),
/// or plain HTTP that only redirects to HTTPS (with <see cref="RedirectToHttpsPort"/>).
/// </summary>
public sealed class ListenerOptions
{
    /// <summary>The address to listen on: an IP literal, <c>localhost</c>, or <c>*</c> / <c>::</c> for all. Default 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (see <see cref="HttpServer.LocalEndPoints"/>).</summary>
    public int Port { get; set; }

    /// <summary>TLS for this listener (HTTPS); null for plain HTTP.</summary>
    public ServerTlsOptions? Tls { get; set; }

    /// <summary>
    /// When set (on a plain listener), every request is answered with a redirect to the same host, path
    /// and query on this HTTPS port: <c>301 Moved Permanently</c> for GET and HEAD, <c>308 Permanent
    /// Redirect</c> for other methods so that they are repeated unchanged (RFC 9110 §15.4.2, §15.4.9).
    /// The handler never sees them. 0 stands for the port the server's first HTTPS listener is bound to
    /// (useful when that one is bound to port 0).
    /// </summary>
    public int? RedirectToHttpsPort { get; set; }

    /// <summary>
    /// Expects every connection to open with a PROXY protocol header (version 1 or 2, HAProxy's
    /// <c>send-proxy</c> / <c>send-proxy-v2</c>, nginx's <c>proxy_protocol on</c>), before TLS when the
    /// listener has it. The client address it carries becomes <see cref="HttpRequest.RemoteEndPoint"/>
    /// (the balancer's own stays in <see cref="HttpRequest.PeerEndPoint"/>, the whole header in
    /// <see cref="HttpRequest.ProxyProtocol"/>). A connection without a valid header within
    /// <see cref="HttpServerOptions.RequestHeadersTimeout"/> is closed without a response. Only for ports
    /// that nothing but the balancer can reach: whoever connects can claim any address. Default false.
    /// </summary>
    public bool ProxyProtocol { get; set; }

    /// <summary>
    /// A socket that is already bound and listening, to accept on instead of binding <see cref="Host"/> and
    /// <see cref="Port"/> (which are then ignored): one passed by systemd socket activation
    /// (<see cref="SocketActivation.TakeListenSockets()"/>) or by a supervising parent process. The server
    /// closes its own descriptor when it stops, but never shuts the socket down, so connections that arrive
    /// meanwhile wait in its queue for whoever else holds it (systemd, or the next worker). Default null.
    /// </summary>
    public Socket? ListenSocket { get; set; }

    /// <summary>A plain HTTP listener.</summary>
    public static ListenerOptions Http(string host, int port) => new() { Host = host, Port = port };

    /// <summary>An HTTPS listener.</summary>
    public static ListenerOptions Https(string host, int port, ServerTlsOptions tls) => new() { Host = host, Port = port, Tls = tls };

    /// <summary>A listener on a socket that is already listening (see <see cref="ListenSocket"/>); HTTPS when <paramref name="tls"/> is given.</summary>
    public static ListenerOptions FromSocket(Socket socket, ServerTlsOptions? tls = null) => new() { ListenSocket = socket, Tls = tls };

    /// <summary>A plain HTTP listener that redirects every request to HTTPS on <paramref name="httpsPort"/>.</summary>
    public static ListenerOptions RedirectToHttps(string host, int port, int httpsPort) => new() { Host = host, Port = port, RedirectToHttpsPort = httpsPort };
}

/// <summary>
/// HTTP Strict Transport Security (RFC 6797): tells browsers to use only HTTPS for this host for
/// <see cref="MaxAge"/>. Sent on responses over TLS only, never over plain HTTP (RFC 6797 §7.2).
/// </summary>
public sealed class StrictTransportSecurityOptions
{
    /// <summary>How long browsers remember to use HTTPS only (<c>max-age</c>). Default one year.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Whether the rule covers subdomains too (<c>includeSubDomains</c>). Default false.</summary>
    public bool IncludeSubDomains { get; set; }

    /// <summary>Whether the host asks to be on browsers' preload lists (<c>preload</c>). Default false.</summary>
    public bool Preload { get; set; }

    /// <summary>The field value, e.g. <c>max-age=31536000; includeSubDomains</c>.</summary>
    public string FieldValue =>
        $"max-age={(long)MaxAge.TotalSeconds}{(IncludeSubDomains ? "; includeSubDomains" : "")}{(Preload ? "; preload" : "")}";
}

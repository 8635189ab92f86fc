namespace Parley.Server;

/// <summary>
/// Which forwarding fields a request from a trusted proxy (<see cref="HttpServerOptions.TrustedProxies"/>)
/// may change the request with. Each field the proxies in front do not set (or overwrite) must stay off:
/// a client could otherwise send its own, which the proxy passes on.
/// </summary>
[Flags]
public enum ForwardedHeaders
{
    /// <summary>No field is read.</summary>
    None = 0,

    /// <summary><c>X-Forwarded-For</c> gives <see cref="HttpRequest.RemoteEndPoint"/>.</summary>
    XForwardedFor = 1,

    /// <summary><c>X-Forwarded-Proto</c> gives <see cref="HttpRequest.Scheme"/>.</summary>
    XForwardedProto = 2,

    /// <summary><c>X-Forwarded-Host</c> gives <see cref="HttpRequest.Host"/>.</summary>
    XForwardedHost = 4,

    /// <summary>
    /// <c>Forwarded</c> (RFC 7239): its <c>for</c>, <c>proto</c> and <c>host</c> parameters give the remote
    /// address, scheme and host. Replaces the <c>X-Forwarded-*</c> fields; it cannot be combined with them.
    /// </summary>
    Forwarded = 8,
}

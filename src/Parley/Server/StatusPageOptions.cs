using System.Net;

namespace Parley.Server;

/// <summary>
/// The live status page the server answers itself, before the handler, in the manner of nginx's
/// <c>stub_status</c> and Apache's <c>mod_status</c>: the open connections (state, age, requests carried,
/// bytes, addresses), the request rate and the errors by kind. <c>GET</c> <see cref="Path"/> answers an
/// HTML page that refreshes itself every second; <c>?format=json</c> (or <c>Accept: application/json</c>)
/// answers the same figures as JSON. It shows client addresses, so only the clients in
/// <see cref="AllowedNetworks"/> get it (loopback by default); the others get 403.
/// </summary>
public sealed class StatusPageOptions
{
    /// <summary>The path (exact, query aside) of the page. Default <c>/server-status</c>.</summary>
    public string Path { get; set; } = "/server-status";

    /// <summary>
    /// The clients served the page: both the TCP peer and the client address the request names through a
    /// PROXY protocol header or a trusted proxy's forwarding fields must be in one of these networks.
    /// Default: loopback only (127.0.0.0/8 and ::1). Behind a proxy on the same machine, do not route the
    /// path to the server unless the proxy passes the client's address (X-Forwarded-For with
    /// <see cref="HttpServerOptions.TrustedProxies"/>): otherwise every client looks like loopback.
    /// </summary>
    public IList<IPNetwork> AllowedNetworks { get; } = [new IPNetwork(IPAddress.Loopback, 8), new IPNetwork(IPAddress.IPv6Loopback, 128)];
}

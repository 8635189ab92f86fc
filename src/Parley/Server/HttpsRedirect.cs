using System.Net;
using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// The handler of a listener that sends every request to HTTPS (<see cref="ListenerOptions.RedirectToHttpsPort"/>):
/// same host, path and query, on the HTTPS port.
/// </summary>
internal static class HttpsRedirect
{
    public static RequestHandler Create(int httpsPort) => (request, response) =>
    {
        // RFC 9110 §15.4.2: a 301 lets clients turn a POST into a GET; §15.4.9: a 308 does not.
        int status = request.Method is "GET" or "HEAD" ? 301 : 308;
        response.Redirect(Location(request, httpsPort), status);
        return default;
    };

    /// <summary>The https URL of the request: its host without the port, the HTTPS port unless 443, then path and query.</summary>
    internal static string Location(HttpRequest request, int httpsPort)
    {
        string host = HostWithoutPort(request.Host);
        if (host.Length == 0)
        {
            // HTTP/1.0 may come without Host: name the address the request came to.
            IPAddress? local = request.LocalEndPoint?.Address;
            host = local is null ? "localhost" : local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{local}]" : local.ToString();
        }
        var location = new StringBuilder("https://").Append(host);
        if (httpsPort != 443) location.Append(':').Append(httpsPort);
        // RFC 9112 §3.2: an absolute-form target carries its own scheme and authority; only its path and
        // query move over. The asterisk-form (OPTIONS *) names no resource: the root stands in.
        string target = request.TargetForm switch
        {
            RequestTargetForm.Origin => request.Target,
            RequestTargetForm.Absolute => Encoding.ASCII.GetString(request.RawPath) + (request.RawQuery.Length > 0 ? "?" + request.RawQuery : ""),
            _ => "/",
        };
        return location.Append(target.Length == 0 ? "/" : target).ToString();
    }

    // RFC 9110 §7.2: Host is uri-host [ ":" port ]; an IPv6 literal is bracketed (RFC 3986 §3.2.2).
    private static string HostWithoutPort(string host)
    {
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']');
            return close > 0 ? host[..(close + 1)] : host;
        }
        int colon = host.LastIndexOf(':');
        return colon >= 0 ? host[..colon] : host;
    }
}

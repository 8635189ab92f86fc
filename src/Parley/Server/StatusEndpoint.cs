using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Parley.Server;

/// <summary>
/// Answers the path of <see cref="StatusPageOptions"/> ahead of the handler: the page (<see cref="StatusPageDocument"/>)
/// or its figures as JSON, to the allowed clients only. Everything here runs when the page is asked for;
/// the request path of other requests pays one path comparison.
/// </summary>
internal static class StatusEndpoint
{
    public static RequestHandler Wrap(RequestHandler inner, HttpServer server, StatusPageOptions options)
    {
        string path = options.Path;
        if (path is null || !path.StartsWith('/') || !Ascii.IsValid(path) || path.AsSpan().IndexOfAny("?# \t\r\n") >= 0)
        {
            throw new ArgumentException($"StatusPage.Path must be an absolute path such as /server-status, not '{path}'");
        }
        byte[] pathBytes = Encoding.ASCII.GetBytes(path);
        IPNetwork[] allowed = [.. options.AllowedNetworks];
        // With trusted proxies, every request's forwarded client is worked out (it is cached for the handler),
        // so that the page can show whom each connection carries.
        bool showForwarded = server.Forwarding is not null;
        return (request, response) =>
        {
            if (showForwarded) _ = request.RemoteEndPoint;
            if (!request.RawPath.SequenceEqual(pathBytes)) return inner(request, response);
            Answer(request, response, server, allowed);
            return ValueTask.CompletedTask;
        };
    }

    private static void Answer(HttpRequest request, HttpResponse response, HttpServer server, IPNetwork[] allowed)
    {
        response.Headers.Set("Cache-Control", "no-store");
        response.Headers.Set("X-Content-Type-Options", "nosniff");
        if (!IsAllowed(request.PeerEndPoint, allowed) || !IsAllowed(request.RemoteEndPoint, allowed))
        {
            // It lists client addresses: a client outside the allowed networks learns nothing of it.
            response.StatusCode = 403;
            response.WriteText("the status page is served only to the networks in StatusPage.AllowedNetworks\n");
            return;
        }
        if (request.Method is not ("GET" or "HEAD"))
        {
            // RFC 9110 §15.5.6: 405 names the methods the resource has.
            response.StatusCode = 405;
            response.Headers.Set("Allow", "GET, HEAD");
            response.WriteText("the status page answers GET and HEAD\n");
            return;
        }
        // RFC 9110 §12.5.5: the representation depends on Accept when no format is asked for in the query.
        response.Headers.Set("Vary", "Accept");
        if (WantsJson(request))
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            using (var writer = new Utf8JsonWriter(buffer)) WriteJson(writer, server, request.Connection);
            response.WriteJson(buffer.WrittenSpan);
            return;
        }
        response.Headers.Set("Content-Security-Policy", StatusPageDocument.ContentSecurityPolicy);
        response.Headers.Set("Referrer-Policy", "no-referrer");
        response.Headers.Set("X-Frame-Options", "DENY");
        response.WriteHtml(StatusPageDocument.Html);
    }

    private static bool WantsJson(HttpRequest request)
    {
        if (request.RawQuery.Length > 0 && request.Query["format"] is { } format) return format.Equals("json", StringComparison.OrdinalIgnoreCase);
        string? accept = request.Headers["Accept"];
        return accept is not null && accept.Contains("application/json", StringComparison.OrdinalIgnoreCase)
            && !accept.Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsAllowed(IPEndPoint? endPoint, IPNetwork[] allowed)
    {
        if (endPoint is null) return false;
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        foreach (IPNetwork network in allowed)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    /// <summary>The JSON document: the server, its totals and rates, its errors, and every open connection by id.</summary>
    internal static void WriteJson(Utf8JsonWriter writer, HttpServer server, HttpConnection? asking)
    {
        ServerStatus status = server.Status;
        long nowTicks = Environment.TickCount64;
        var connections = new List<HttpConnection>();
        foreach (HttpConnection? connection in server.OpenConnections)
        {
            // A connection the registry still lists a moment after its close is left out.
            if (connection is not null && connection.RegistrySlot >= 0) connections.Add(connection);
        }
        connections.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        string transport = server.Options.Transport == TransportKind.Epoll ? "epoll" : "sockets";

        writer.WriteStartObject();
        writer.WriteString("server", "Parley");
        writer.WriteString("version", typeof(HttpServer).Assembly.GetName().Version?.ToString(3));
        writer.WriteString("startedAt", status.StartedAt);
        writer.WriteString("now", DateTimeOffset.UtcNow);
        writer.WriteNumber("uptimeSeconds", Math.Round((nowTicks - status.StartedTicks) / 1000.0, 3));
        writer.WriteString("state", server.IsStopping ? "draining" : "running");
        writer.WriteString("transport", transport);
        if (asking is not null) writer.WriteNumber("yourConnection", asking.Id);
        writer.WriteStartObject("totals");
        writer.WriteNumber("openConnections", connections.Count);
        writer.WriteNumber("acceptedConnections", server.AcceptedConnections);
        writer.WriteNumber("requests", server.TotalRequests());
        writer.WriteEndObject();
        writer.WriteStartObject("requestsPerSecond");
        writer.WriteNumber("last1s", status.RequestsPerSecond(1));
        writer.WriteNumber("last10s", status.RequestsPerSecond(10));
        writer.WriteNumber("last60s", status.RequestsPerSecond(60));
        writer.WriteEndObject();
        status.WriteErrors(writer);
        writer.WriteStartArray("connections");
        foreach (HttpConnection connection in connections) connection.WriteStatus(writer, nowTicks, transport);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// Routes requests by method and path. An exact path (<c>/contact</c>) or a prefix (<c>/static/*</c>)
/// maps each method to a handler. A known path asked with another method gets 405 with <c>Allow</c>
/// (RFC 9110 §15.5.6); OPTIONS is answered from the same table (§9.3.7); GET routes answer HEAD too
/// (§9.3.2); an unknown path goes to <see cref="NotFound"/>.
/// </summary>
public sealed class Router
{
    private sealed class Route(string path, bool isPrefix)
    {
        public readonly string Path = path;
        public readonly byte[] PathBytes = Encoding.UTF8.GetBytes(path);
        public readonly bool IsPrefix = isPrefix;
        public readonly List<KeyValuePair<string, RequestHandler>> Methods = [];
        public string Allow = "";
    }

    private readonly List<Route> _routes = [];
    private readonly HashSet<string> _knownMethods = new(StringComparer.Ordinal) { HttpMethods.Options };

    /// <summary>Creates an empty router.</summary>
    public Router() => Handler = HandleAsync;

    /// <summary>This router as a <see cref="RequestHandler"/> (a cached delegate).</summary>
    public RequestHandler Handler { get; }

    /// <summary>What answers an unknown path; by default a plain 404.</summary>
    public RequestHandler NotFound { get; set; } = static (request, response) =>
    {
        response.StatusCode = 404;
        response.WriteText("404 Not Found\n");
        return ValueTask.CompletedTask;
    };

    /// <summary>Maps <paramref name="method"/> on <paramref name="path"/>; a path ending in <c>/*</c> matches everything below it.</summary>
    public Router Map(string method, string path, RequestHandler handler)
    {
        if (!HttpSyntax.IsToken(method)) throw new ArgumentException($"invalid method '{method}'", nameof(method));
        if (!path.StartsWith('/')) throw new ArgumentException("paths start with '/'", nameof(path));
        bool isPrefix = path.EndsWith("/*", StringComparison.Ordinal);
        string key = isPrefix ? path[..^1] : path;
        Route? route = _routes.Find(r => r.Path == key && r.IsPrefix == isPrefix);
        if (route is null)
        {
            route = new Route(key, isPrefix);
            _routes.Add(route);
            // Exact routes first, then longer prefixes before shorter ones.
            _routes.Sort(static (a, b) => a.IsPrefix != b.IsPrefix ? (a.IsPrefix ? 1 : -1) : b.Path.Length.CompareTo(a.Path.Length));
        }
        route.Methods.RemoveAll(m => m.Key == method);
        route.Methods.Add(new(method, handler));
        _knownMethods.Add(method);
        if (method == HttpMethods.Get) _knownMethods.Add(HttpMethods.Head);
        route.Allow = BuildAllow(route);
        return this;
    }

    /// <summary>Maps GET (and so HEAD).</summary>
    public Router MapGet(string path, RequestHandler handler) => Map(HttpMethods.Get, path, handler);

    /// <summary>Maps POST.</summary>
    public Router MapPost(string path, RequestHandler handler) => Map(HttpMethods.Post, path, handler);

    private ValueTask HandleAsync(HttpRequest request, HttpResponse response)
    {
        Route? route = FindRoute(request);
        string method = request.Method;
        if (route is null)
        {
            if (!_knownMethods.Contains(method) && !HttpMethods.IsStandard(method)) return NotImplemented(response);
            return NotFound(request, response);
        }
        List<KeyValuePair<string, RequestHandler>> methods = route.Methods;
        for (int i = 0; i < methods.Count; i++)
        {
            if (ReferenceEquals(methods[i].Key, method) || methods[i].Key == method) return methods[i].Value(request, response);
        }
        if (ReferenceEquals(method, HttpMethods.Head))
        {
            for (int i = 0; i < methods.Count; i++)
            {
                if (methods[i].Key == HttpMethods.Get) return methods[i].Value(request, response);
            }
        }
        if (ReferenceEquals(method, HttpMethods.Options))
        {
            response.StatusCode = 204;
            response.Headers.Set("Allow", route.Allow);
            return ValueTask.CompletedTask;
        }
        if (!_knownMethods.Contains(method) && !HttpMethods.IsStandard(method)) return NotImplemented(response);
        response.StatusCode = 405;
        response.Headers.Set("Allow", route.Allow);
        response.WriteText($"405 Method Not Allowed: {method} is not allowed here; try {route.Allow}\n");
        return ValueTask.CompletedTask;
    }

    private Route? FindRoute(HttpRequest request)
    {
        ReadOnlySpan<byte> raw = request.RawPath;
        bool encoded = raw.IndexOf((byte)'%') >= 0;
        string? decoded = encoded ? request.Path : null;
        foreach (Route route in _routes)
        {
            bool match = encoded
                ? (route.IsPrefix ? decoded!.StartsWith(route.Path, StringComparison.Ordinal) : decoded == route.Path)
                : (route.IsPrefix ? raw.StartsWith(route.PathBytes) : raw.SequenceEqual(route.PathBytes));
            if (match) return route;
        }
        return null;
    }

    // RFC 9110 §15.6.2: 501 when the method is not recognised for any resource.
    private static ValueTask NotImplemented(HttpResponse response)
    {
        response.StatusCode = 501;
        response.WriteText("501 Not Implemented: unknown method\n");
        return ValueTask.CompletedTask;
    }

    private static string BuildAllow(Route route)
    {
        var methods = new List<string>();
        foreach (var pair in route.Methods) methods.Add(pair.Key);
        if (methods.Contains(HttpMethods.Get) && !methods.Contains(HttpMethods.Head)) methods.Add(HttpMethods.Head);
        if (!methods.Contains(HttpMethods.Options)) methods.Add(HttpMethods.Options);
        return string.Join(", ", methods);
    }
}

using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// Routes requests by method and path. A route is a path template: literal (<c>/contact</c>), with
/// parameters (<c>/users/{id}</c>, <c>/users/{id:int}</c>), ending in a catch-all (<c>/files/{*rest}</c>)
/// or in <c>/*</c> (everything below). Captured values are on <see cref="HttpRequest.RouteValues"/>.
/// Of several templates matching one path, the more specific wins, segment by segment from the left:
/// a literal beats a constrained parameter, which beats a parameter, which beats a catch-all; among equals,
/// the first mapped. A path some route matches, asked with a method none of them serves, gets 405 with
/// <c>Allow</c> (RFC 9110 §15.5.6); OPTIONS is answered from the same table (§9.3.7); GET routes answer
/// HEAD too (§9.3.2); an unknown path goes to <see cref="NotFound"/>. <c>OPTIONS *</c> and CONNECT target
/// the server as a whole, mapped as <c>*</c> (see <see cref="Map"/>): unmapped, <c>OPTIONS *</c> gets 204
/// with every method the router serves, and CONNECT gets 501 (§9.3.6, §15.6.2).
/// </summary>
public sealed class Router
{
    /// <summary>The path under which <c>OPTIONS *</c> and CONNECT are mapped: the server as a whole.</summary>
    public const string ServerWide = "*";

    private sealed class Route(RouteTemplate template)
    {
        public readonly RouteTemplate Template = template;
        public readonly List<KeyValuePair<string, RequestHandler>> Methods = [];
        public RequestHandler? AnyMethod;
        public string Allow = "";

        public RequestHandler? Find(string method)
        {
            for (int i = 0; i < Methods.Count; i++)
            {
                if (ReferenceEquals(Methods[i].Key, method) || Methods[i].Key == method) return Methods[i].Value;
            }
            return null;
        }

        // The handler for a request's method: by name, HEAD by GET's (RFC 9110 §9.3.2), else the catch-all.
        public RequestHandler? HandlerFor(string method)
        {
            RequestHandler? handler = Find(method);
            if (handler is null && ReferenceEquals(method, HttpMethods.Head)) handler = Find(HttpMethods.Get);
            return handler ?? AnyMethod;
        }
    }

    // Literal templates (one path each), then the others in order of precedence.
    private readonly List<Route> _literals = [];
    private readonly List<Route> _patterns = [];
    private readonly Route _serverWide = new(RouteTemplate.Parse("/"));
    private readonly List<KeyValuePair<byte[], RequestHandler>> _connectAuthorities = [];
    private readonly HashSet<string> _knownMethods = new(StringComparer.Ordinal) { HttpMethods.Options };
    private string _allMethods = HttpMethods.Options;
    private bool _anyMethodMapped;

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

    /// <summary>
    /// Maps <paramref name="method"/> on the path template <paramref name="path"/>, replacing an earlier
    /// mapping of the same pair. Templates: literal segments match themselves (percent-decoded,
    /// case-sensitive); <c>{name}</c> matches one non-empty segment; <c>{name:int}</c>, <c>:long</c>,
    /// <c>:guid</c>, <c>:alpha</c> (ASCII letters) and <c>:bool</c> constrain it; a last <c>{*name}</c>
    /// matches the rest of the path, '/' included, possibly empty (<c>/files/{*rest}</c> matches
    /// <c>/files</c> too); a last <c>*</c> matches everything below (<c>/static/*</c>, not <c>/static</c>).
    /// A parameter takes a whole segment; a trailing slash is significant. <see cref="ServerWide"/> (<c>*</c>)
    /// takes <c>OPTIONS *</c> (replacing the router's own answer) or every CONNECT; CONNECT may also be
    /// mapped on one authority (<c>host:port</c>, RFC 9112 §3.2.3), matched with the host case-insensitive.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The method is not a token; the path is none of the above (the message names the mistake); or it
    /// matches the same paths as another template mapped before (<c>/users/{id}</c> and <c>/users/{name}</c>).
    /// </exception>
    public Router Map(string method, string path, RequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (method is null || !HttpSyntax.IsToken(method)) throw new ArgumentException($"invalid method '{method}'", nameof(method));
        ArgumentNullException.ThrowIfNull(path);
        method = HttpMethods.Intern(Encoding.ASCII.GetBytes(method)) ?? method;
        if (path == ServerWide)
        {
            if (method != HttpMethods.Options && method != HttpMethods.Connect)
            {
                throw new ArgumentException($"'*' is the target of OPTIONS * and CONNECT only (RFC 9112 §3.2.3-§3.2.4), not of {method}", nameof(path));
            }
            SetMethod(_serverWide, method, handler);
        }
        else if (method == HttpMethods.Connect)
        {
            byte[] authority = Encoding.ASCII.GetBytes(path);
            if (path.Length == 0 || !Ascii.IsValid(path) || !HostSyntax.IsValidAuthority(authority, requirePort: true))
            {
                throw new ArgumentException($"CONNECT names an authority (host:port, RFC 9112 §3.2.3) or '*', not '{path}'", nameof(path));
            }
            _connectAuthorities.RemoveAll(pair => Ascii.EqualsIgnoreCase(pair.Key, authority));
            _connectAuthorities.Add(new(authority, handler));
        }
        else
        {
            SetMethod(FindOrAddRoute(path), method, handler);
        }
        _knownMethods.Add(method);
        if (method == HttpMethods.Get) _knownMethods.Add(HttpMethods.Head);
        _allMethods = BuildAllow(_knownMethods);
        return this;
    }

    /// <summary>
    /// Maps every method on <paramref name="path"/> to one handler (an echo or a proxy): it gets HEAD and
    /// OPTIONS too, and methods the router does not know. A method mapped by name on the same path wins.
    /// </summary>
    /// <exception cref="ArgumentException">The path is not a valid template (see <see cref="Map"/>).</exception>
    public Router MapAnyMethod(string path, RequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(path);
        FindOrAddRoute(path).AnyMethod = handler;
        _anyMethodMapped = true;
        return this;
    }

    /// <summary>Maps GET (and so HEAD).</summary>
    public Router MapGet(string path, RequestHandler handler) => Map(HttpMethods.Get, path, handler);

    /// <summary>Maps POST.</summary>
    public Router MapPost(string path, RequestHandler handler) => Map(HttpMethods.Post, path, handler);

    /// <summary>Maps PUT.</summary>
    public Router MapPut(string path, RequestHandler handler) => Map(HttpMethods.Put, path, handler);

    /// <summary>Maps DELETE.</summary>
    public Router MapDelete(string path, RequestHandler handler) => Map(HttpMethods.Delete, path, handler);

    /// <summary>Maps PATCH (RFC 5789).</summary>
    public Router MapPatch(string path, RequestHandler handler) => Map(HttpMethods.Patch, path, handler);

    private Route FindOrAddRoute(string path)
    {
        if (path == ServerWide) throw new ArgumentException("'*' is the target of OPTIONS * and CONNECT only (RFC 9112 §3.2.3-§3.2.4); map them by name", nameof(path));
        RouteTemplate template = RouteTemplate.Parse(path);
        List<Route> routes = template.IsLiteral ? _literals : _patterns;
        foreach (Route existing in routes)
        {
            if (existing.Template.Text == path) return existing;
            if (existing.Template.Shape == template.Shape)
            {
                throw new ArgumentException($"route template '{path}' matches the same paths as '{existing.Template.Text}'", nameof(path));
            }
        }
        var route = new Route(template);
        // Stable: after every route of equal or higher precedence.
        int at = routes.FindIndex(r => RouteTemplate.ComparePrecedence(template, r.Template) < 0);
        if (at < 0) at = routes.Count;
        routes.Insert(at, route);
        return route;
    }

    private static void SetMethod(Route route, string method, RequestHandler handler)
    {
        route.Methods.RemoveAll(m => m.Key == method);
        route.Methods.Add(new(method, handler));
        var methods = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in route.Methods) methods.Add(pair.Key);
        if (methods.Contains(HttpMethods.Get)) methods.Add(HttpMethods.Head);
        methods.Add(HttpMethods.Options);
        route.Allow = BuildAllow(methods);
    }

    private ValueTask HandleAsync(HttpRequest request, HttpResponse response)
    {
        RequestTargetForm form = request.TargetForm;
        if (form == RequestTargetForm.Asterisk) return HandleAsterisk(request, response);
        if (form == RequestTargetForm.Authority) return HandleConnect(request, response);
        string method = request.Method;
        ReadOnlySpan<byte> path = request.RawPath;
        Span<Range> values = stackalloc Range[RouteTemplate.MaxParameters];
        // Routes that match the path but not the method, for 405 and OPTIONS.
        Route? matched = null;
        List<Route>? alsoMatched = null;
        // Without an escape, a literal route matches exactly its bytes (an empty path is "/", RFC 9110 §4.2.3).
        bool escaped = path.IndexOf((byte)'%') >= 0;
        ReadOnlySpan<byte> literalPath = path.IsEmpty ? "/"u8 : path;
        foreach (Route route in _literals)
        {
            if (escaped ? !route.Template.TryMatch(path, values) : !literalPath.SequenceEqual(route.Template.LiteralPath)) continue;
            RequestHandler? handler = route.HandlerFor(method);
            if (handler is not null) return Dispatch(route, handler, values, request, response);
            matched = route;
            break;
        }
        foreach (Route route in _patterns)
        {
            if (!route.Template.TryMatch(path, values)) continue;
            RequestHandler? handler = route.HandlerFor(method);
            if (handler is not null) return Dispatch(route, handler, values, request, response);
            if (matched is null) matched = route;
            else (alsoMatched ??= []).Add(route);
        }
        if (matched is null)
        {
            if (!IsRecognised(method)) return NotImplemented(response, method);
            return NotFound(request, response);
        }
        string allow = alsoMatched is null ? matched.Allow : AllowOfAll(matched, alsoMatched);
        if (ReferenceEquals(method, HttpMethods.Options))
        {
            response.StatusCode = 204;
            response.Headers.Set("Allow", allow);
            return ValueTask.CompletedTask;
        }
        if (!IsRecognised(method)) return NotImplemented(response, method);
        return MethodNotAllowed(response, method, allow);
    }

    private static ValueTask Dispatch(Route route, RequestHandler handler, Span<Range> values, HttpRequest request, HttpResponse response)
    {
        request.RouteValues.Set(route.Template, values);
        return handler(request, response);
    }

    private static string AllowOfAll(Route first, List<Route> others)
    {
        var methods = new HashSet<string>(StringComparer.Ordinal);
        foreach (Route route in others.Prepend(first))
        {
            foreach (string method in route.Allow.Split(", ")) methods.Add(method);
        }
        return BuildAllow(methods);
    }

    // RFC 9110 §9.3.7: "OPTIONS *" asks about the server as a whole; unmapped, it lists every method served.
    private ValueTask HandleAsterisk(HttpRequest request, HttpResponse response)
    {
        RequestHandler? handler = _serverWide.Find(HttpMethods.Options);
        if (handler is not null) return handler(request, response);
        response.StatusCode = 204;
        response.Headers.Set("Allow", _allMethods);
        return ValueTask.CompletedTask;
    }

    // RFC 9110 §9.3.6: CONNECT asks for a tunnel to the authority; 501 (§15.6.2) when no route can give one.
    private ValueTask HandleConnect(HttpRequest request, HttpResponse response)
    {
        ReadOnlySpan<byte> authority = request.TargetBytes;
        foreach (var pair in _connectAuthorities)
        {
            if (Ascii.EqualsIgnoreCase(pair.Key, authority)) return pair.Value(request, response);
        }
        RequestHandler? handler = _serverWide.Find(HttpMethods.Connect);
        if (handler is not null) return handler(request, response);
        if (_connectAuthorities.Count == 0) return NotImplemented(response, HttpMethods.Connect);
        // CONNECT is served for other authorities: this one supports no method (an empty Allow, RFC 9110 §10.2.1).
        return MethodNotAllowed(response, HttpMethods.Connect, "");
    }

    private bool IsRecognised(string method) => _anyMethodMapped || _knownMethods.Contains(method) || HttpMethods.IsStandard(method);

    // RFC 9110 §15.6.2: 501 when the method is not recognised for any resource.
    private static ValueTask NotImplemented(HttpResponse response, string method)
    {
        response.StatusCode = 501;
        response.WriteText(ReferenceEquals(method, HttpMethods.Connect)
            ? "501 Not Implemented: this server does not open CONNECT tunnels\n"
            : "501 Not Implemented: unknown method\n");
        return ValueTask.CompletedTask;
    }

    // RFC 9110 §15.5.6: 405 carries Allow with the target resource's methods.
    private static ValueTask MethodNotAllowed(HttpResponse response, string method, string allow)
    {
        response.StatusCode = 405;
        response.Headers.Set("Allow", allow);
        response.WriteText(allow.Length == 0
            ? $"405 Method Not Allowed: {method} is not allowed here\n"
            : $"405 Method Not Allowed: {method} is not allowed here; try {allow}\n");
        return ValueTask.CompletedTask;
    }

    // Standard methods in RFC 9110 §9 order, then extension methods in ordinal order.
    private static string BuildAllow(IEnumerable<string> methods)
    {
        string[] order = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Connect, HttpMethods.Options, HttpMethods.Trace, HttpMethods.Patch];
        var list = new List<string>(methods);
        list.Sort((a, b) =>
        {
            int ia = Array.IndexOf(order, a), ib = Array.IndexOf(order, b);
            if (ia < 0) ia = order.Length;
            if (ib < 0) ib = order.Length;
            return ia != ib ? ia.CompareTo(ib) : string.CompareOrdinal(a, b);
        });
        return string.Join(", ", list);
    }
}

using System.CommandLine;
using System.Net;
using Parley.Server;

namespace Parley.Cli;

/// <summary>
/// The options of <c>parley serve</c> for running behind a load balancer: which proxies' forwarding
/// fields to believe, whether connections open with a PROXY protocol header, the health endpoints, the
/// status page, and how a stop drains. Applied once the listeners are set up.
/// </summary>
internal sealed class UpstreamOptions
{
    private readonly Option<string[]> _trustedProxies = OptionValues.Texts("--trusted-proxy",
        "Believe X-Forwarded-For and X-Forwarded-Proto (or Forwarded, see --forwarded-headers) from this proxy: an address or a CIDR range such as 10.0.0.0/8; repeatable",
        TrustedProxyProblem);

    private readonly Option<ForwardedFields> _forwardedHeaders = OptionValues.Choice("--forwarded-headers",
        "With --trusted-proxy: XForwarded (X-Forwarded-For and -Proto, as nginx and HAProxy send them; the default), XForwardedWithHost (also X-Forwarded-Host) or Forwarded (RFC 7239 alone)",
        ForwardedFields.XForwarded);

    private readonly Option<bool> _proxyProtocol = OptionValues.Flag("--proxy-protocol",
        "Every connection opens with a PROXY protocol header (v1 or v2, as HAProxy's send-proxy and send-proxy-v2 write it) naming the client; one without it is closed");

    private readonly Option<bool> _health = OptionValues.Flag("--health",
        "Answer liveness on /healthz (200 while the process serves) and readiness on /readyz (200, or 503 once a stop begins)");

    private readonly Option<string> _livenessPath = OptionValues.Text("--liveness-path",
        "Answer liveness on this path instead of /healthz (implies --health)", null, PathProblem);

    private readonly Option<string> _readinessPath = OptionValues.Text("--readiness-path",
        "Answer readiness on this path instead of /readyz (implies --health)", null, PathProblem);

    private readonly Option<bool> _status = OptionValues.Flag("--status",
        "Answer a live status page on /server-status: open connections (state, age, requests, bytes, client), requests per second, errors by kind; HTML that updates itself, or JSON with ?format=json. Served to loopback clients only (see --status-allow)");

    private readonly Option<string> _statusPath = OptionValues.Text("--status-path",
        "Answer the status page on this path instead of /server-status (implies --status)", null, PathProblem);

    private readonly Option<string[]> _statusAllow = OptionValues.Texts("--status-allow",
        "Also serve the status page to clients from this address or CIDR range, besides loopback (implies --status); repeatable. The page shows client addresses",
        NetworkProblem);

    private readonly Option<double> _drainDelay = OptionValues.Seconds("--drain-delay",
        "Seconds a stop (SIGTERM) keeps accepting and serving with readiness off, each response closing its connection, before it stops accepting and closes idle connections; behind nginx make it longer than the upstream keepalive_timeout",
        0, 3600, 0);

    /// <summary>The forwarding fields to read, as the option names them.</summary>
    public enum ForwardedFields { XForwarded, XForwardedWithHost, Forwarded }

    public IEnumerable<Option> Options => [_trustedProxies, _forwardedHeaders, _proxyProtocol, _health, _livenessPath, _readinessPath, _status, _statusPath, _statusAllow, _drainDelay];

    /// <summary>Sets the server options these command-line options ask for.</summary>
    public void Apply(ParseResult parse, HttpServerOptions options)
    {
        foreach (string text in parse.GetValue(_trustedProxies) ?? []) options.TrustedProxies.Add(ParseNetwork(text)!.Value);
        options.ForwardedHeaders = parse.GetValue(_forwardedHeaders) switch
        {
            ForwardedFields.Forwarded => ForwardedHeaders.Forwarded,
            ForwardedFields.XForwardedWithHost => ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            _ => ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
        };
        string? liveness = parse.GetValue(_livenessPath), readiness = parse.GetValue(_readinessPath);
        if (parse.GetValue(_health) || liveness is not null || readiness is not null)
        {
            options.HealthChecks = new HealthCheckOptions { LivenessPath = liveness ?? "/healthz", ReadinessPath = readiness ?? "/readyz" };
        }
        string? statusPath = parse.GetValue(_statusPath);
        string[] statusAllow = parse.GetValue(_statusAllow) ?? [];
        if (parse.GetValue(_status) || statusPath is not null || statusAllow.Length > 0)
        {
            var status = new StatusPageOptions { Path = statusPath ?? "/server-status" };
            foreach (string text in statusAllow) status.AllowedNetworks.Add(ParseNetwork(text)!.Value);
            options.StatusPage = status;
        }
        options.DrainDelay = TimeSpan.FromSeconds(parse.GetValue(_drainDelay));
        if (parse.GetValue(_proxyProtocol))
        {
            if (options.Listeners.Count == 0) options.Listeners.Add(ListenerOptions.Http(options.Host, options.Port));
            foreach (ListenerOptions listener in options.Listeners) listener.ProxyProtocol = true;
        }
    }

    /// <summary>The checks across options: liveness and readiness on different paths.</summary>
    public void Validate(System.CommandLine.Parsing.CommandResult result)
    {
        string? liveness = result.GetResult(_livenessPath)?.Tokens is [{ Value: var l }] ? l : null;
        string? readiness = result.GetResult(_readinessPath)?.Tokens is [{ Value: var r }] ? r : null;
        if ((liveness ?? "/healthz") == (readiness ?? "/readyz")) result.AddError("--liveness-path and --readiness-path must differ: a draining server is alive but not ready");
    }

    private static string? PathProblem(string path) =>
        path.StartsWith('/') && path.All(c => c is > ' ' and < '\x7f' and not ('?' or '#')) ? null : $"wants an absolute path such as /healthz, not '{path}'";

    // An address alone is the network of that one address (/32, /128).
    private static IPNetwork? ParseNetwork(string text)
    {
        if (IPNetwork.TryParse(text, out IPNetwork network)) return network;
        if (!text.Contains('/') && OptionValues.ListenAddress(text) is null && IPAddress.TryParse(text.Trim('[', ']'), out IPAddress? address))
        {
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        return null;
    }

    private static string? TrustedProxyProblem(string text) => NetworkProblem(text);

    private static string? NetworkProblem(string text) =>
        text is not ("*" or "localhost") && ParseNetwork(text) is not null ? null
        : $"wants an IP address (10.0.0.5, ::1) or a CIDR range with no bits set past its prefix (10.0.0.0/8, fd00::/8), not '{text}'";
}

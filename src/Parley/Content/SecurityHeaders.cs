using Parley.Server;

namespace Parley.Content;

/// <summary>
/// Which security header fields <see cref="SecurityHeaders.Wrap"/> adds to every response. A null value
/// leaves that field out. The defaults suit a site of static files served from its own origin.
/// </summary>
public sealed class SecurityHeadersOptions
{
    /// <summary>The defaults, as documented on each property.</summary>
    public static SecurityHeadersOptions Default { get; } = new();

    /// <summary>Whether to send <c>X-Content-Type-Options: nosniff</c>, so browsers trust Content-Type rather than guess. Default true.</summary>
    public bool NoSniff { get; init; } = true;

    /// <summary><c>X-Frame-Options</c> (RFC 7034): <c>DENY</c> or <c>SAMEORIGIN</c>; null for none. Default <c>DENY</c>.</summary>
    public string? FrameOptions { get; init; } = "DENY";

    /// <summary><c>Referrer-Policy</c> (W3C Referrer Policy); null for none. Default <c>no-referrer</c>.</summary>
    public string? ReferrerPolicy { get; init; } = "no-referrer";

    /// <summary>
    /// <c>Content-Security-Policy</c> (W3C CSP3); null for none. Default: resources from the same origin
    /// only (inline styles and data: images allowed, as static pages often use them), no plugins, and no
    /// framing by other sites.
    /// </summary>
    public string? ContentSecurityPolicy { get; init; } =
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    /// <summary><c>Strict-Transport-Security</c> (RFC 6797); null for none. Sent only when <see cref="IsSecureTransport"/> says so. Default one year, subdomains included.</summary>
    public string? StrictTransportSecurity { get; init; } = "max-age=31536000; includeSubDomains";

    /// <summary>
    /// Whether a request arrived over TLS. RFC 6797 §7.2: HSTS MUST NOT be sent over plain HTTP, where
    /// an attacker could forge or strip it. Default <see cref="HttpRequest.IsHttps"/>; behind a TLS
    /// front end that forwards plain HTTP, supply a test of its own.
    /// </summary>
    public Func<HttpRequest, bool> IsSecureTransport { get; init; } = static request => request.IsHttps;
}

/// <summary>Adds security header fields to every response of a handler.</summary>
public static class SecurityHeaders
{
    /// <summary>
    /// A handler that sets the fields of <paramref name="options"/> (defaults when null) and then runs
    /// <paramref name="inner"/>, which may override or remove any of them.
    /// </summary>
    public static RequestHandler Wrap(RequestHandler inner, SecurityHeadersOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        options ??= SecurityHeadersOptions.Default;
        // Validate now rather than on the first request.
        var fields = new List<KeyValuePair<string, string>>(4);
        if (options.NoSniff) fields.Add(new("X-Content-Type-Options", "nosniff"));
        if (options.FrameOptions is { } frame) fields.Add(new("X-Frame-Options", frame));
        if (options.ReferrerPolicy is { } referrer) fields.Add(new("Referrer-Policy", referrer));
        if (options.ContentSecurityPolicy is { } csp) fields.Add(new("Content-Security-Policy", csp));
        foreach (var field in fields) Http1.MessageWriter.ValidateField(field.Key, field.Value);
        string? hsts = options.StrictTransportSecurity;
        if (hsts is not null) Http1.MessageWriter.ValidateField("Strict-Transport-Security", hsts);
        KeyValuePair<string, string>[] always = fields.ToArray();
        Func<HttpRequest, bool> isSecure = options.IsSecureTransport;

        return (request, response) =>
        {
            ResponseHeaders headers = response.Headers;
            foreach (var field in always) headers.Set(field.Key, field.Value);
            if (hsts is not null && isSecure(request)) headers.Set("Strict-Transport-Security", hsts);
            return inner(request, response);
        };
    }
}

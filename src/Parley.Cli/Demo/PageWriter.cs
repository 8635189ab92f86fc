using System.Globalization;
using System.Text;
using Parley.Server;

namespace Parley.Cli.Demo;

/// <summary>
/// Sends demo pages: the layout around a <see cref="DemoPage"/>, with the exchange that carries it shown at
/// the bottom, the request as received and the response head as sent (status line and every field, Date
/// and Content-Length included), so a visitor sees both halves of the session.
/// </summary>
/// <remarks>
/// To add a page, map its route in <see cref="DemoSite"/> and, if it belongs in the navigation, add it to
/// <see cref="Navigation"/>. To show more of a connection (a TLS session, WebSocket frames), add a
/// <see cref="WireSection"/> to <see cref="DemoPage.Sections"/>: it is laid out like the exchange's own
/// panels, side by side on a wide screen and stacked on a phone.
/// </remarks>
internal static class PageWriter
{
    /// <summary>A link of the navigation bar: its path and its label in each language.</summary>
    private sealed record NavLink(string Path, string English, string French);

    // Add a page here to give it a place in the navigation (labels stay short: the bar fits a phone).
    private static readonly NavLink[] Navigation =
    [
        new("/", "Home", "Accueil"),
        new("/contact", "Contact", "Contact"),
        new("/moved", "301 redirect", "Redirection 301"),
        new("/no-such-page", "404 page", "Page 404"),
        new("/live", "Live", "En direct"),
    ];

    // Stands for the response head inside the page until the head, which depends on the page's length, is known.
    private const string ResponseMarker = "\u0000response-head\u0000";

    /// <summary>
    /// Sends <paramref name="page"/> with <paramref name="status"/>. With <paramref name="withValidator"/>, a
    /// strong ETag and 304 for a matching If-None-Match (RFC 9110 §13.1.2); the ETag covers the page apart from
    /// its own response head, which changes every second with Date. Returns the response head shown (and
    /// sent), or null for a 304.
    /// </summary>
    public static string? Send(HttpRequest request, HttpResponse response, DemoPage page, int status, bool withValidator = true)
    {
        response.StatusCode = status;
        AddSecurityHeaders(response);
        if (!response.Headers.Contains("Cache-Control")) response.Headers.Set("Cache-Control", "no-cache");
        string html = Render(request, page);
        if (withValidator && AnswerNotModified(request, response, Encoding.UTF8.GetBytes(html))) return null;
        response.Headers.Set("Content-Type", "text/html; charset=utf-8");

        // The head holds Content-Length, and the page holds the head: settle the length by iterating. Only the
        // digits of Content-Length change from one round to the next, so two or three rounds settle it.
        // The exchange's panel is the last thing with the marker, after anything a visitor sent that is shown.
        int at = html.LastIndexOf(ResponseMarker, StringComparison.Ordinal);
        string before = html[..at], after = html[(at + ResponseMarker.Length)..];
        long length = Encoding.UTF8.GetByteCount(before) + Encoding.UTF8.GetByteCount(after);
        for (int round = 0; round < 8; round++)
        {
            string head = response.PreviewHead(length);
            byte[] body = Encoding.UTF8.GetBytes(before + Html.Escape(head) + after);
            if (body.Length == length)
            {
                response.ContentLength = body.Length;
                response.Write(body);
                return head;
            }
            length = body.Length;
        }
        throw new InvalidOperationException("the page's length did not settle");
    }

    private static string Render(HttpRequest request, DemoPage page)
    {
        bool french = page.French;
        int number = request.RequestNumberOnConnection;
        string note = french
            ? $"Requête n° {number} sur cette connexion TCP{(number > 1 ? " : la connexion a été réutilisée (keep-alive)." : ".")}"
            : $"Request #{number} on this TCP connection{(number > 1 ? ": the connection was reused (keep-alive)." : ".")}";
        var exchange = new WireSection("exchange",
            french ? "Cet échange sur le fil" : "This exchange on the wire",
            $"<p class=\"connection\">{Html.Escape(note)}</p>{TlsNote(request.TlsSession, french)}",
            [
                new WirePanel("raw-request", "request", french ? "La requête reçue par le serveur" : "The request the server received",
                    Encoding.Latin1.GetString(request.RawHead)),
                new WirePanel("raw-response", "response", french ? "L'en-tête de la réponse envoyée" : "The response head the server sent",
                    ResponseMarker),
            ]);
        var sections = new StringBuilder();
        foreach (WireSection section in page.Sections) AppendSection(sections, section);
        AppendSection(sections, exchange);
        sections.Append(french
            ? "<p class=\"after\">Après l'en-tête de la réponse vient son corps : cette page, longue d'autant d'octets que l'annonce <code>Content-Length</code>.</p>\n"
            : "<p class=\"after\">After the response head comes its body: this page, as many bytes long as <code>Content-Length</code> says.</p>\n");

        return PageTemplates.Fill(PageTemplates.Get("layout.html"),
            ("lang", page.Language),
            ("title", Html.Escape(page.Title)),
            ("nav", NavigationHtml(request.Path, french)),
            ("content", page.Content),
            ("sections", sections.ToString()));
    }

    // The connection's TLS session, shown beside the raw request (which is the decrypted text); nothing over plain HTTP.
    private static string TlsNote(TlsSession? tls, bool french)
    {
        if (tls is null) return "";
        string sni = tls.HostName ?? (french ? "aucun" : "none");
        string alpn = tls.ApplicationProtocol ?? (french ? "aucun" : "none");
        string text = french
            ? $"Par TLS : {tls.ProtocolName}, suite {tls.CipherSuite}, SNI {sni}, ALPN {alpn}. La requête ci-dessous est le texte déchiffré."
            : $"Over TLS: {tls.ProtocolName}, cipher suite {tls.CipherSuite}, SNI {sni}, ALPN {alpn}. The request below is the decrypted text.";
        return $"\n<p class=\"tls\" id=\"tls-session\">{Html.Escape(text)}</p>";
    }

    private static string NavigationHtml(string currentPath, bool french)
    {
        var nav = new StringBuilder();
        foreach (NavLink link in Navigation)
        {
            bool current = link.Path == currentPath || (link.Path == "/" && currentPath == "/index.html");
            nav.Append("<a href=\"").Append(link.Path).Append('"').Append(current ? " aria-current=\"page\"" : "").Append('>')
                .Append(Html.Escape(french ? link.French : link.English)).Append("</a>");
        }
        return nav.ToString();
    }

    private static void AppendSection(StringBuilder html, WireSection section)
    {
        html.Append("<section class=\"wire\" id=\"").Append(section.Id).Append("\">\n<h2>").Append(Html.Escape(section.Heading)).Append("</h2>\n");
        if (section.Intro is not null) html.Append(section.Intro).Append('\n');
        html.Append("<div class=\"panels\">\n");
        foreach (WirePanel panel in section.Panels)
        {
            // The text goes right after <pre>: a newline there would be dropped by the HTML parser.
            string text = Html.Escape(panel.Text);
            html.Append("<figure class=\"panel ").Append(panel.Kind).Append("\"><figcaption>").Append(Html.Escape(panel.Caption))
                .Append("</figcaption><pre id=\"").Append(panel.Id).Append("\">").Append(text).Append("</pre></figure>\n");
        }
        html.Append("</div>\n</section>\n");
    }

    // A strong ETag from the bytes; If-None-Match that matches gets 304 (RFC 9110 §13.1.2).
    public static bool AnswerNotModified(HttpRequest request, HttpResponse response, byte[] body)
    {
        string etag = EntityTagOf(body);
        response.Headers.Set("ETag", etag);
        string? ifNoneMatch = request.Headers["If-None-Match"];
        if (ifNoneMatch is null) return false;
        foreach (string candidate in ifNoneMatch.Split(','))
        {
            string tag = candidate.Trim();
            if (tag == "*" || tag == etag || tag == "W/" + etag)
            {
                response.StatusCode = 304;
                return true;
            }
        }
        return false;
    }

    private static string EntityTagOf(ReadOnlySpan<byte> body)
    {
        // FNV-1a, 64-bit: cheap, stable across runs, and plenty to tell page versions apart.
        ulong hash = 14695981039346656037UL;
        foreach (byte b in body) hash = (hash ^ b) * 1099511628211UL;
        return "\"" + hash.ToString("x16", CultureInfo.InvariantCulture) + "\"";
    }

    public static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.Set("X-Content-Type-Options", "nosniff");
        response.Headers.Set("X-Frame-Options", "DENY");
        response.Headers.Set("Referrer-Policy", "no-referrer");
        response.Headers.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'");
    }
}

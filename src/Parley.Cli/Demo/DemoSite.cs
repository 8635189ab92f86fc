using System.Text;
using Parley.Content;
using Parley.Http1;
using Parley.Server;

namespace Parley.Cli.Demo;

/// <summary>
/// The embedded demo site: it replays the classic HTTP session walkthrough. Every page shows both halves of
/// the exchange that carried it, the raw request and the response head, and how many requests its TCP
/// connection has carried, so keep-alive is visible. The home page also shows the 301 a browser followed
/// to reach it from <c>/moved</c>. The live page (<c>/live</c>) shows every request as the server answers it,
/// pushed over a WebSocket (<see cref="LiveFeed"/>).
/// </summary>
public sealed class DemoSite
{
    /// <summary>Largest contact form body accepted (413 beyond).</summary>
    public const int MaxFormBytes = 16 * 1024;

    private const string FormAllow = "POST, OPTIONS";
    private static readonly string[] Languages = ["en", "fr"];

    private readonly RedirectTrail _redirects;

    private DemoSite(TimeProvider time) => _redirects = new RedirectTrail(time);

    /// <summary>Builds the site's handler.</summary>
    public static RequestHandler Create() => Create(TimeProvider.System);

    internal static RequestHandler Create(TimeProvider time)
    {
        var site = new DemoSite(time);
        var feed = new LiveFeed(time);
        var router = new Router();
        router.MapGet("/", site.Home);
        router.MapGet("/index.html", site.Home);
        router.MapGet("/contact", Contact);
        router.MapPost("/contact_form.php", ContactFormAsync);
        // Any other method there (a reload or a bookmark of the thank-you page is a GET) gets a page of its own.
        router.MapAnyMethod("/contact_form.php", FormMethodNotAllowed);
        router.MapGet("/moved", site.Moved);
        router.MapGet("/style.css", Stylesheet);
        router.MapGet("/favicon.svg", Favicon);
        router.MapGet("/favicon.ico", Favicon);
        router.MapGet("/live", Live);
        router.MapGet("/live.js", LiveScript);
        router.MapGet(LiveFeed.FeedPath, feed.AcceptAsync);
        router.NotFound = NotFound;
        return feed.Observe(router.Handler);
    }

    private ValueTask Home(HttpRequest request, HttpResponse response)
    {
        // RFC 9110 §12.5.4: choose by Accept-Language q-values; say which with Content-Language and Vary.
        string language = ContentNegotiation.ChooseLanguage(request.Headers["Accept-Language"], Languages, "en");
        bool french = language == "fr";
        response.Headers.Set("Content-Language", language);
        response.Headers.Set("Vary", "Accept-Language");
        string title = french ? "Une page web simple — Parley" : "A basic web page — Parley";
        var page = new DemoPage(language, title, PageTemplates.Get(french ? "index.fr.html" : "index.en.html"));
        if (_redirects.Take(request.RemoteEndPoint) is { } redirect) page.Sections.Add(RedirectSection(request, redirect, french));
        PageWriter.Send(request, response, page, 200, withValidator: page.Sections.Count == 0);
        return ValueTask.CompletedTask;
    }

    private WireSection RedirectSection(HttpRequest request, RedirectTrail.Entry redirect, bool french)
    {
        long ms = (long)_redirects.Age(redirect).TotalMilliseconds;
        bool sameConnection = redirect.Connection is { } connection && connection.Equals(request.PeerEndPoint) && redirect.RequestNumber == request.RequestNumberOnConnection - 1;
        string where = french
            ? (sameConnection ? "sur cette même connexion, juste avant cette requête" : "sur une autre connexion TCP")
            : (sameConnection ? "on this same connection, just before this request" : "on another TCP connection");
        string intro = french
            ? $"<p class=\"redirected\">Il y a {ms} ms, votre adresse a demandé <code>/moved</code> ({where}). Le serveur a répondu " +
              "<code>301 Moved Permanently</code> avec <code>Location: /</code>, et le navigateur a suivi ce lien sans rien afficher. " +
              "Voici cet échange :</p>"
            : $"<p class=\"redirected\">{ms} ms ago your address asked for <code>/moved</code> ({where}). The server answered " +
              "<code>301 Moved Permanently</code> with <code>Location: /</code>, and the browser followed it without showing anything. " +
              "Here is that exchange:</p>";
        return new WireSection("redirect", french ? "La redirection qui vous a amené ici" : "The redirect that brought you here", intro,
        [
            new WirePanel("redirect-request", "request", french ? "La requête" : "The request", redirect.RequestHead),
            new WirePanel("redirect-response", "response", french ? "La réponse 301" : "The 301 response head", redirect.ResponseHead),
        ]);
    }

    private static ValueTask Contact(HttpRequest request, HttpResponse response)
    {
        PageWriter.Send(request, response, new DemoPage("en", "Contact — Parley", PageTemplates.Get("contact.html")), 200);
        return ValueTask.CompletedTask;
    }

    private static async ValueTask ContactFormAsync(HttpRequest request, HttpResponse response)
    {
        string? contentType = request.Headers["Content-Type"];
        string mediaType = contentType is null ? "" : contentType.Split(';')[0].Trim();
        if (!mediaType.Equals(FormUrlEncoded.MediaType, StringComparison.OrdinalIgnoreCase))
        {
            SendError(request, response, 415, $"The form must be sent as {FormUrlEncoded.MediaType}, not '{contentType ?? "no Content-Type"}'.");
            return;
        }
        byte[] body;
        FormFields fields;
        try
        {
            body = await request.ReadBodyAsync(MaxFormBytes).ConfigureAwait(false);
            fields = FormUrlEncoded.Parse(body, new FormLimits { MaxBodyBytes = MaxFormBytes, MaxFieldCount = 50 });
        }
        catch (BadRequestException ex)
        {
            SendError(request, response, ex.StatusCode, $"The form was refused: {ex.Message} (at most {MaxFormBytes} bytes).");
            return;
        }
        catch (FormException ex)
        {
            SendError(request, response, ex.StatusCode, $"The form could not be decoded: {ex.Message}");
            return;
        }

        var list = new StringBuilder();
        foreach (FormField field in fields)
        {
            string id = "field-" + Html.Escape(field.Name);
            list.Append("<dt>").Append(Html.Escape(field.Name)).Append("</dt><dd id=\"").Append(id).Append("\">")
                .Append(Html.Escape(field.Value)).Append("</dd>\n");
        }
        string content = PageTemplates.Fill(PageTemplates.Get("thanks.html"),
            ("body_length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("fields", list.ToString()),
            ("raw_body", Html.Escape(Encoding.UTF8.GetString(body))));
        response.Headers.Set("Cache-Control", "no-store");
        PageWriter.Send(request, response, new DemoPage("en", "Thank you — Parley", content), 200, withValidator: false);
    }

    // RFC 9110 §15.5.6: 405 with Allow. A browser that reloads or bookmarks the thank-you page sends GET here.
    private static ValueTask FormMethodNotAllowed(HttpRequest request, HttpResponse response)
    {
        if (request.Method == "OPTIONS")
        {
            // RFC 9110 §9.3.7: what this resource supports.
            response.StatusCode = 204;
            response.Headers.Set("Allow", FormAllow);
            return ValueTask.CompletedTask;
        }
        response.Headers.Set("Allow", FormAllow);
        response.Headers.Set("Cache-Control", "no-store");
        string content = PageTemplates.Fill(PageTemplates.Get("method-not-allowed.html"), ("method", Html.Escape(request.Method)));
        PageWriter.Send(request, response, new DemoPage("en", "405 Method Not Allowed — Parley", content), 405, withValidator: false);
        return ValueTask.CompletedTask;
    }

    private ValueTask Moved(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("Location", "/");
        var page = new DemoPage("en", "301 Moved Permanently — Parley", PageTemplates.Get("moved.html"));
        string? head = PageWriter.Send(request, response, page, 301, withValidator: false);
        if (head is not null)
        {
            _redirects.Record(request.RemoteEndPoint, request.PeerEndPoint, Encoding.Latin1.GetString(request.RawHead), head, request.RequestNumberOnConnection);
        }
        return ValueTask.CompletedTask;
    }

    private static ValueTask Stylesheet(HttpRequest request, HttpResponse response)
    {
        SendAsset(request, response, PageTemplates.Get("style.css"), "text/css; charset=utf-8");
        return ValueTask.CompletedTask;
    }

    private static ValueTask Live(HttpRequest request, HttpResponse response)
    {
        PageWriter.Send(request, response, new DemoPage("en", "Live requests — Parley", PageTemplates.Get("live.html")), 200);
        return ValueTask.CompletedTask;
    }

    private static ValueTask LiveScript(HttpRequest request, HttpResponse response)
    {
        SendAsset(request, response, PageTemplates.Get("live.js"), "text/javascript; charset=utf-8");
        return ValueTask.CompletedTask;
    }

    private static ValueTask Favicon(HttpRequest request, HttpResponse response)
    {
        SendAsset(request, response, PageTemplates.Get("favicon.svg"), "image/svg+xml");
        return ValueTask.CompletedTask;
    }

    private static void SendAsset(HttpRequest request, HttpResponse response, string text, string contentType)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        PageWriter.AddSecurityHeaders(response);
        response.Headers.Set("Cache-Control", "public, max-age=3600");
        if (PageWriter.AnswerNotModified(request, response, bytes)) return;
        response.Headers.Set("Content-Type", contentType);
        response.ContentLength = bytes.Length;
        response.Write(bytes);
    }

    private static ValueTask NotFound(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("Cache-Control", "no-cache, no-store, must-revalidate");
        string content = PageTemplates.Fill(PageTemplates.Get("notfound.html"), ("path", Html.Escape(request.Path)));
        PageWriter.Send(request, response, new DemoPage("en", "404 Not Found — Parley", content), 404, withValidator: false);
        return ValueTask.CompletedTask;
    }

    private static void SendError(HttpRequest request, HttpResponse response, int status, string message)
    {
        string content = PageTemplates.Fill(PageTemplates.Get("error.html"),
            ("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("reason", StatusCodes.ReasonPhrase(status)),
            ("message", Html.Escape(message)));
        response.Headers.Set("Cache-Control", "no-store");
        PageWriter.Send(request, response, new DemoPage("en", $"{status} {StatusCodes.ReasonPhrase(status)} — Parley", content), status, withValidator: false);
    }
}

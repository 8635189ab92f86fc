using System.Text;
using Parley.Content;
using Parley.Http1;
using Parley.Server;

namespace Parley.Cli.Demo;

/// <summary>
/// The embedded demo site: it replays the classic HTTP session walkthrough. Every page shows the raw
/// request it answered and how many requests its TCP connection has carried, so keep-alive is visible.
/// </summary>
public static class DemoSite
{
    /// <summary>Largest contact form body accepted (413 beyond).</summary>
    public const int MaxFormBytes = 16 * 1024;

    private static readonly string[] Languages = ["en", "fr"];

    /// <summary>Builds the site's handler.</summary>
    public static RequestHandler Create()
    {
        var router = new Router();
        router.MapGet("/", Home);
        router.MapGet("/index.html", Home);
        router.MapGet("/contact", Contact);
        router.MapPost("/contact_form.php", ContactFormAsync);
        router.MapGet("/moved", Moved);
        router.MapGet("/style.css", Stylesheet);
        router.NotFound = NotFound;
        return router.Handler;
    }

    private static ValueTask Home(HttpRequest request, HttpResponse response)
    {
        // RFC 9110 §12.5.4: choose by Accept-Language q-values; say which with Content-Language and Vary.
        string language = ContentNegotiation.ChooseLanguage(request.Headers["Accept-Language"], Languages, "en");
        bool french = language == "fr";
        response.Headers.Set("Content-Language", language);
        response.Headers.Set("Vary", "Accept-Language");
        string title = french ? "Une page web simple — Parley" : "A basic web page — Parley";
        SendPage(request, response, 200, language, title, PageTemplates.Get(french ? "index.fr.html" : "index.en.html"));
        return ValueTask.CompletedTask;
    }

    private static ValueTask Contact(HttpRequest request, HttpResponse response)
    {
        SendPage(request, response, 200, "en", "Contact — Parley", PageTemplates.Get("contact.html"));
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
        SendPage(request, response, 200, "en", "Thank you — Parley", content, withValidator: false);
    }

    private static ValueTask Moved(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("Location", "/");
        SendPage(request, response, 301, "en", "301 Moved Permanently — Parley", PageTemplates.Get("moved.html"), withValidator: false);
        return ValueTask.CompletedTask;
    }

    private static ValueTask Stylesheet(HttpRequest request, HttpResponse response)
    {
        byte[] css = Encoding.UTF8.GetBytes(PageTemplates.Get("style.css"));
        AddSecurityHeaders(response);
        response.Headers.Set("Cache-Control", "public, max-age=3600");
        if (AnswerNotModified(request, response, css)) return ValueTask.CompletedTask;
        response.Headers.Set("Content-Type", "text/css; charset=utf-8");
        response.ContentLength = css.Length;
        response.Write(css);
        return ValueTask.CompletedTask;
    }

    private static ValueTask NotFound(HttpRequest request, HttpResponse response)
    {
        response.Headers.Set("Cache-Control", "no-cache, no-store, must-revalidate");
        string content = PageTemplates.Fill(PageTemplates.Get("notfound.html"), ("path", Html.Escape(request.Path)));
        SendPage(request, response, 404, "en", "404 Not Found — Parley", content, withValidator: false);
        return ValueTask.CompletedTask;
    }

    private static void SendError(HttpRequest request, HttpResponse response, int status, string message)
    {
        string content = PageTemplates.Fill(PageTemplates.Get("error.html"),
            ("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("reason", StatusCodes.ReasonPhrase(status)),
            ("message", Html.Escape(message)));
        response.Headers.Set("Cache-Control", "no-store");
        SendPage(request, response, status, "en", $"{status} {StatusCodes.ReasonPhrase(status)} — Parley", content, withValidator: false);
    }

    private static void SendPage(HttpRequest request, HttpResponse response, int status, string language, string title,
        string content, bool withValidator = true)
    {
        bool french = language == "fr";
        int number = request.RequestNumberOnConnection;
        string note = french
            ? $"Requête n° {number} sur cette connexion TCP{(number > 1 ? " : la connexion a été réutilisée (keep-alive)." : ".")}"
            : $"Request #{number} on this TCP connection{(number > 1 ? ": the connection was reused (keep-alive)." : ".")}";
        string html = PageTemplates.Fill(PageTemplates.Get("layout.html"),
            ("lang", language),
            ("title", Html.Escape(title)),
            ("nav_home", french ? "Accueil" : "Home"),
            ("nav_contact", "Contact"),
            ("wire_heading", french ? "La requête reçue par le serveur" : "The request the server received"),
            ("connection_note", Html.Escape(note)),
            ("raw_request", Html.Escape(Encoding.Latin1.GetString(request.RawHead))),
            ("content", content));
        byte[] body = Encoding.UTF8.GetBytes(html);

        response.StatusCode = status;
        AddSecurityHeaders(response);
        if (!response.Headers.Contains("Cache-Control")) response.Headers.Set("Cache-Control", "no-cache");
        if (withValidator && AnswerNotModified(request, response, body)) return;
        response.Headers.Set("Content-Type", "text/html; charset=utf-8");
        response.ContentLength = body.Length;
        response.Write(body);
    }

    // A strong ETag from the bytes; If-None-Match that matches gets 304 (RFC 9110 §13.1.2).
    private static bool AnswerNotModified(HttpRequest request, HttpResponse response, byte[] body)
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
        return "\"" + hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + "\"";
    }

    private static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.Set("X-Content-Type-Options", "nosniff");
        response.Headers.Set("X-Frame-Options", "DENY");
        response.Headers.Set("Referrer-Policy", "no-referrer");
        response.Headers.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'");
    }
}

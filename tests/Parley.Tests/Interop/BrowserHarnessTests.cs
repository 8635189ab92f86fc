using System.Text.Json;

namespace Parley.Tests.Interop;

/// <summary>Browser tests share one collection: one Chromium at a time on a 2-core machine.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}

/// <summary>
/// Proves the Chromium harness (node + playwright-core + /usr/bin/chromium) works end to end
/// WITHOUT Parley, against Python servers, so a failing Parley browser test points at Parley.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserHarnessTests : IDisposable
{
    // A valid 1x1 PNG.
    private static readonly byte[] Pixel = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    private readonly string _root = Directory.CreateTempSubdirectory("parley-browser-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Page_scenario_loads_a_static_site_with_its_css_and_image()
    {
        var site = Directory.CreateDirectory(Path.Combine(_root, "site")).FullName;
        await File.WriteAllTextAsync(Path.Combine(site, "index.html"), """
            <!doctype html>
            <html lang="fr">
            <head>
              <meta charset="utf-8">
              <title>Harnais de test</title>
              <link rel="stylesheet" href="style.css">
            </head>
            <body>
              <h1>Bonjour</h1>
              <img src="pixel.png" alt="un pixel" width="20" height="20">
            </body>
            </html>
            """);
        await File.WriteAllTextAsync(Path.Combine(site, "style.css"), "h1 { color: #204a87; }\n");
        await File.WriteAllBytesAsync(Path.Combine(site, "pixel.png"), Pixel);
        await File.WriteAllBytesAsync(Path.Combine(site, "favicon.ico"), Pixel);

        await using var server = ExternalTool.Start(
            "python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", site]);
        var port = await server.WaitForListeningPortAsync(TimeSpan.FromSeconds(30));

        using var doc = await BrowserDriver.RunAsync("page", $"http://127.0.0.1:{port}/");
        var json = doc.RootElement;

        Assert.Equal(200, json.GetProperty("status").GetInt32());
        Assert.Equal("Harnais de test", json.GetProperty("title").GetString());
        Assert.StartsWith("text/html", json.GetProperty("headers").GetProperty("content-type").GetString());
        var requests = json.GetProperty("requests").EnumerateArray()
            .Select(r => (Url: r.GetProperty("url").GetString()!, Status: r.GetProperty("status").GetInt32()))
            .ToList();
        Assert.Contains(($"http://127.0.0.1:{port}/style.css", 200), requests);
        Assert.Contains(($"http://127.0.0.1:{port}/pixel.png", 200), requests);
    }

    [Fact]
    public async Task French_and_contact_scenarios_work_against_a_python_server()
    {
        var script = Path.Combine(_root, "server.py");
        await File.WriteAllTextAsync(script, ServerPy);
        await using var server = ExternalTool.Start("python3", ["-u", script, "0"]);
        var port = await server.WaitForListeningPortAsync(TimeSpan.FromSeconds(30));
        var baseUrl = $"http://127.0.0.1:{port}";
        var shots = Path.Combine(_root, "shots");

        using (var french = await BrowserDriver.RunAsync("french", baseUrl, shots))
        {
            var json = french.RootElement;
            Assert.Equal(200, json.GetProperty("status").GetInt32());
            // The server answers Content-Language: fr only when it received the French Accept-Language.
            Assert.Equal("fr", json.GetProperty("contentLanguage").GetString());
            Assert.Equal("fr", json.GetProperty("htmlLang").GetString());
            Assert.Equal("Accueil", json.GetProperty("title").GetString());
            Assert.Equal("Bienvenue", json.GetProperty("h1").GetString());
            Assert.Equal("fr-FR", json.GetProperty("navigatorLanguage").GetString());
            AssertPng(Path.Combine(shots, "french.png"));
        }

        using (var contact = await BrowserDriver.RunAsync("contact", baseUrl, shots))
        {
            var json = contact.RootElement;
            Assert.Equal(200, json.GetProperty("status").GetInt32());
            Assert.Equal("POST", json.GetProperty("method").GetString());
            Assert.Equal($"{baseUrl}/contact", json.GetProperty("url").GetString());
            Assert.Equal("application/x-www-form-urlencoded", json.GetProperty("requestContentType").GetString());
            Assert.Equal("name=Joe+User&request=Send+me+one+of+your+catalogue", json.GetProperty("postData").GetString());
            var body = json.GetProperty("bodyText").GetString()!;
            Assert.Contains("Thank you, Joe User", body);
            Assert.Contains("Send me one of your catalogue", body);
            AssertPng(Path.Combine(shots, "contact.png"));
        }
    }

    [Fact]
    public async Task Driver_fails_clearly_when_the_page_is_missing()
    {
        await using var server = ExternalTool.Start(
            "python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", _root]);
        var port = await server.WaitForListeningPortAsync(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => BrowserDriver.RunAsync("contact", $"http://127.0.0.1:{port}"));

        Assert.Contains("answered 404", error.Message);
    }

    private static void AssertPng(string file)
    {
        Assert.True(File.Exists(file), $"{file} was not written");
        var head = File.ReadAllBytes(file).AsSpan(0, 8).ToArray();
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, head);
    }

    private const string ServerPy = """
        import html, sys, urllib.parse
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        FORM = ('<!doctype html><html lang="en"><head><title>Contact</title></head><body>'
                '<h1>Contact</h1><form method="post" action="/contact">'
                '<input name="name"><textarea name="request"></textarea>'
                '<button type="submit">Send</button></form></body></html>')

        class Handler(BaseHTTPRequestHandler):
            def send_page(self, body, lang=None):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if lang:
                    self.send_header("Content-Language", lang)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/":
                    french = self.headers.get("Accept-Language", "").startswith("fr-FR,fr;q=0.9")
                    lang = "fr" if french else "en"
                    title, h1 = ("Accueil", "Bienvenue") if french else ("Home", "Welcome")
                    self.send_page(f'<!doctype html><html lang="{lang}"><head><title>{title}</title></head>'
                                   f'<body><h1>{h1}</h1></body></html>', lang)
                elif self.path == "/contact":
                    self.send_page(FORM)
                else:
                    self.send_error(404)

            def do_POST(self):
                if self.path != "/contact":
                    self.send_error(404)
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                form = urllib.parse.parse_qs(raw)
                name = html.escape(form.get("name", [""])[0])
                req = html.escape(form.get("request", [""])[0])
                self.send_page(f'<!doctype html><html><head><title>Thanks</title></head>'
                               f'<body><p>Thank you, {name}.</p><p>{req}</p></body></html>')

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
        print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
        server.serve_forever()
        """;
}

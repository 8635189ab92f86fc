using Parley.Tests.Interop;

namespace Parley.Tests.Tls;

/// <summary>
/// Python's <c>http.server</c> wrapped in <c>ssl</c>, one listener per test certificate in one python
/// process: good, expired, not yet valid, wrong host, self-signed; one that speaks TLS 1.2 at most, one
/// that requires a client certificate from the test CA, and one plain-HTTP listener. Every response names
/// the listener, the path, the client certificate's CN, the client's port (to see connection reuse) and
/// the Authorization field it received. <c>/redirect?to=URL</c> answers 302 to URL.
/// </summary>
public sealed class PythonTlsServers : IAsyncLifetime
{
    private const string Script = """
        import ssl, sys, threading, urllib.parse
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                if url.path == '/redirect':
                    target = urllib.parse.parse_qs(url.query)['to'][0]
                    self.send_response(302)
                    self.send_header('Location', target)
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                cn = ''
                if isinstance(self.connection, ssl.SSLSocket):
                    peer = self.connection.getpeercert()
                    if peer:
                        cn = dict(x[0] for x in peer['subject']).get('commonName', '')
                body = ('%s %s client=%s port=%d auth=%s\n' % (self.server.name, url.path, cn, self.client_address[1],
                        self.headers.get('Authorization'))).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass

        ca = sys.argv[1]
        for spec in sys.argv[2:]:
            name, port, cert, key, mode = spec.split(',')
            server = ThreadingHTTPServer(('127.0.0.1', int(port)), Handler)
            server.name = name
            if mode != 'plain':
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(cert, key)
                context.set_alpn_protocols(['http/1.1'])
                if mode == 'tls12':
                    context.maximum_version = ssl.TLSVersion.TLSv1_2
                if mode == 'client-cert':
                    context.verify_mode = ssl.CERT_REQUIRED
                    context.load_verify_locations(ca)
                server.socket = context.wrap_socket(server.socket, server_side=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        print('ready', flush=True)
        threading.Event().wait()
        """;

    private RunningTool? _python;
    private readonly Dictionary<string, int> _ports = [];

    /// <summary>The https base URL (ending in '/') of the listener named <paramref name="name"/>, at 127.0.0.1 or <paramref name="host"/>.</summary>
    public string Url(string name, string host = "localhost") =>
        $"{(name == "plain" ? "http" : "https")}://{host}:{_ports[name]}/";

    public int Port(string name) => _ports[name];

    public async Task InitializeAsync()
    {
        var listeners = new List<(string Name, TestCertificate Certificate, string Mode)>
        {
            ("good", TestCertificates.Server, "tls"),
            ("expired", TestCertificates.Expired, "tls"),
            ("not-yet-valid", TestCertificates.NotYetValid, "tls"),
            ("wrong-host", TestCertificates.WrongHost, "tls"),
            ("self-signed", TestCertificates.SelfSigned, "tls"),
            ("tls12", TestCertificates.Server, "tls12"),
            ("client-cert", TestCertificates.Server, "client-cert"),
            ("plain", TestCertificates.Server, "plain"),
        };
        var args = new List<string> { "-c", Script, TestCertificates.CaBundlePath };
        foreach (var (name, certificate, mode) in listeners)
        {
            var files = TestCertificates.WriteFiles(certificate);
            int port = Loopback.FreePort();
            _ports[name] = port;
            args.Add($"{name},{port},{files.ChainPath},{files.KeyPath},{mode}");
        }
        _python = ExternalTool.Start("python3", args);
        foreach (int port in _ports.Values) await _python.WaitForPortAsync(port, TimeSpan.FromSeconds(20));
    }

    public async Task DisposeAsync()
    {
        if (_python is not null) await _python.DisposeAsync();
    }
}

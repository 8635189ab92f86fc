using Parley.Tests.Interop;

namespace Parley.Tests.Tls;

/// <summary>
/// An nginx of the test's own with <c>ssl</c> listeners: the good test certificate (TLS 1.2 and 1.3,
/// keep-alive, session tickets), the expired one, and a plain listener. Responses name the listener,
/// the TLS version, whether nginx resumed the session (<c>$ssl_session_reused</c>: "r" or ".") and the
/// client's port.
/// </summary>
public sealed class NginxTlsServer : IAsyncLifetime
{
    private RunningTool? _nginx;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"parley-nginx-tls-{Guid.NewGuid():N}");
    public int GoodPort { get; } = Loopback.FreePort();
    public int ExpiredPort { get; } = Loopback.FreePort();
    public int PlainPort { get; } = Loopback.FreePort();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        var good = TestCertificates.WriteFiles(TestCertificates.Server);
        var expired = TestCertificates.WriteFiles(TestCertificates.Expired);
        string tmp = Path.Combine(Root, "tmp");
        string config = $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{Root}}/nginx.pid;
            error_log {{Root}}/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{tmp}}/body;
                proxy_temp_path {{tmp}}/proxy;
                fastcgi_temp_path {{tmp}}/fastcgi;
                uwsgi_temp_path {{tmp}}/uwsgi;
                scgi_temp_path {{tmp}}/scgi;
                default_type text/plain;
                keepalive_requests 100;
                ssl_protocols TLSv1.2 TLSv1.3;
                server {
                    listen 127.0.0.1:{{GoodPort}} ssl;
                    ssl_certificate {{good.ChainPath}};
                    ssl_certificate_key {{good.KeyPath}};
                    ssl_session_tickets on;
                    location / { return 200 "nginx-good $uri $ssl_protocol $ssl_session_reused port=$remote_port\n"; }
                }
                server {
                    listen 127.0.0.1:{{ExpiredPort}} ssl;
                    ssl_certificate {{expired.ChainPath}};
                    ssl_certificate_key {{expired.KeyPath}};
                    location / { return 200 "nginx-expired\n"; }
                }
                server {
                    listen 127.0.0.1:{{PlainPort}};
                    location / { return 200 "nginx-plain\n"; }
                }
            }
            """;
        string configPath = Path.Combine(Root, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        _nginx = ExternalTool.Start("/usr/sbin/nginx", ["-p", Root, "-c", configPath, "-e", Path.Combine(Root, "error.log")]);
        foreach (int port in new[] { GoodPort, ExpiredPort, PlainPort }) await _nginx.WaitForPortAsync(port, TimeSpan.FromSeconds(15));
    }

    public Task DisposeAsync()
    {
        _nginx?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}

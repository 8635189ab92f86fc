using System.Diagnostics;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary>The client over https against nginx's ssl listeners.</summary>
public sealed class TlsNginxTests(NginxTlsServer nginx) : IClassFixture<NginxTlsServer>
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static ParleyClientOptions Trusting(TransportKind transport = TransportKind.Sockets)
    {
        var options = new ParleyClientOptions { Transport = transport };
        options.ExtraTrustedRoots.ImportFromPemFile(TestCertificates.CaBundlePath);
        return options;
    }

    private string Good(string path) => $"https://localhost:{nginx.GoodPort}/{path}";

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Keeps_one_tls_connection_alive_for_many_requests(TransportKind transport)
    {
        using var client = new ParleyClient(Trusting(transport));
        var ports = new HashSet<string>();
        for (int i = 0; i < 5; i++)
        {
            string body = await client.GetStringAsync(Good($"r{i}"), Test);
            Assert.StartsWith($"nginx-good /r{i} TLSv1.3 ", body);
            ports.Add(body.Split(' ')[4]);
        }
        Assert.Single(ports);
        Assert.Equal(1, client.ConnectionCount);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Resumes_the_tls_session_on_a_new_connection(TransportKind transport)
    {
        using var client = new ParleyClient(Trusting(transport));
        var bodies = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            // Connection: close makes every request open a new connection and handshake again.
            var request = ParleyRequest.Get(Good("resume"));
            request.Headers.Add("Connection", "close");
            using ParleyResponse response = await client.SendAsync(request, Test);
            bodies.Add(await response.ReadAsStringAsync(Test));
        }
        // nginx reports "r" when the client resumed a session it got a ticket for. (The first connection may
        // resume too: SslStream's session cache is shared by the whole process, and other tests came here.)
        Assert.Equal("r", bodies[1].Split(' ')[3]);
        Assert.Equal("r", bodies[2].Split(' ')[3]);
        Assert.Equal(3, bodies.Select(b => b.Split(' ')[4]).Distinct().Count());
    }

    [Fact]
    public async Task Refuses_nginxs_expired_certificate()
    {
        using var client = new ParleyClient(Trusting());
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync($"https://localhost:{nginx.ExpiredPort}/", Test).AsTask());
        Assert.Equal(ParleyErrorKind.CertificateNotTimeValid, ex.Kind);
        Assert.Contains("expired on", ex.Message);
    }

    [Fact]
    public async Task Names_a_plain_http_answer_on_an_https_url()
    {
        using var client = new ParleyClient(Trusting());
        var ex = await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetStringAsync($"https://localhost:{nginx.PlainPort}/", Test).AsTask());
        Assert.Equal(ParleyErrorKind.PlainHttpFromTlsServer, ex.Kind);
        Assert.Equal($"localhost port {nginx.PlainPort} answered plain HTTP ('HTTP/1.1 400 Bad...'), not TLS: does the URL mean http://?", ex.Message);
    }

    [Fact]
    public async Task HttpClient_over_ParleyHandler_gets_from_nginx_over_https_concurrently()
    {
        using var http = new HttpClient(new ParleyHandler(Trusting()));
        string[] bodies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => http.GetStringAsync(Good($"c{i}"), Test)));
        for (int i = 0; i < bodies.Length; i++) Assert.StartsWith($"nginx-good /c{i} TLSv1.3 ", bodies[i]);
    }
}

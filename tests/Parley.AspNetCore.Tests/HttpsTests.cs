using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Server;

namespace Parley.AspNetCore.Tests;

/// <summary><c>https://</c> addresses on the engine's TLS listener, with the TLS features and scheme the application sees.</summary>
public sealed class HttpsTests
{
    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task Https_address_serves_over_TLS_with_the_TLS_features_and_http_beside_it_has_none(TransportKind transport)
    {
        using X509Certificate2 certificate = CreateCertificate();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting("urls", "https://127.0.0.1:0;http://127.0.0.1:0");
        builder.WebHost.UseParley(options =>
        {
            options.Transport = transport;
            options.Https = new ServerTlsOptions { Certificate = ServerCertificate.FromCertificate(certificate) };
        });
        await using WebApplication app = builder.Build();
        app.MapGet("/", (HttpContext context) =>
        {
            ITlsHandshakeFeature? handshake = context.Features.Get<ITlsHandshakeFeature>();
            bool tlsConnection = context.Features.Get<ITlsConnectionFeature>() is not null;
            return $"{context.Request.Scheme}|{context.Request.IsHttps}|{handshake?.Protocol}|{tlsConnection}";
        });
        await app.StartAsync();
        string[] addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];
        string https = addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal));
        string http = addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal));

        X509Certificate2? presented = null;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Trust exactly the test's certificate, and note which one the server presented.
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                {
                    presented = cert is null ? null : new X509Certificate2(cert);
                    return cert is not null && cert.GetCertHashString() == certificate.GetCertHashString();
                },
            },
        });
        string overTls = await client.GetStringAsync(https + "/");
        Assert.Matches(@"^https\|True\|Tls1[23]\|True$", overTls);
        Assert.Equal(certificate.Thumbprint, presented?.Thumbprint);
        Assert.Equal("http|False||False", await client.GetStringAsync(http + "/"));
        await app.StopAsync();
    }

    [Fact]
    public async Task An_https_address_without_a_certificate_is_refused_with_a_clear_error()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting("urls", "https://127.0.0.1:0");
        builder.WebHost.UseParley();
        await using WebApplication app = builder.Build();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.Contains("ParleyServerOptions.Https", error.Message);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}

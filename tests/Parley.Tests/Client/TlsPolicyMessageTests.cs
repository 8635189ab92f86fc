using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>The words of the TLS policy's refusals: each names what was wrong.</summary>
public class TlsPolicyMessageTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public void A_client_certificate_without_its_private_key_is_refused_up_front()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=client", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(withKey.Export(X509ContentType.Cert));
        var error = Assert.Throws<ArgumentException>(() => new ParleyClient(new ParleyClientOptions { ClientCertificate = publicOnly }).Dispose());
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("ClientCertificate has no private key, so it cannot authenticate the client", error.Message);
    }
}

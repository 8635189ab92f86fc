using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Client;
using Parley.Tests.Tls;

namespace Parley.Tests.Client;

/// <summary>
/// <see cref="ParleyClientOptions.ExtraTrustedRoots"/> add to the system's roots, never replace them: a
/// server under a root the system trusts is still accepted, and its chain's own problem is what a refusal
/// names. The system root is a fresh CA put in the current user's Root store for the test (on Linux one the
/// chain engine trusts and the user may write), and removed after it.
/// </summary>
public sealed class TlsSystemRootTests : IDisposable
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // A bound on hangs, not on speed.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    private readonly List<X509Certificate2> _added = [];
    private readonly List<ECDsa> _keys = [];

    /// <summary>A fresh root CA (valid over the given period), put in the current user's Root store.</summary>
    private (X509Certificate2 Root, ECDsa Key) AddSystemRoot(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Parley Test System Root {Guid.NewGuid():N}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        X509Certificate2 root = request.CreateSelfSigned(notBefore, notAfter);
        using var store = new X509Store(StoreName.Root, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadWrite);
        store.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        _added.Add(root);
        _keys.Add(key);
        return (root, key);
    }

    public void Dispose()
    {
        using var store = new X509Store(StoreName.Root, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadWrite);
        foreach (X509Certificate2 root in _added)
        {
            store.Remove(X509CertificateLoader.LoadCertificate(root.RawData));
            root.Dispose();
        }
        foreach (ECDsa key in _keys) key.Dispose();
    }

    /// <summary>The chain engine reads the user's stores through a cache: waits until it trusts the new root.</summary>
    private async Task WaitUntilSystemTrustsAsync(X509Certificate2 leaf, X509Certificate2Collection intermediates)
    {
        bool trusted = await Hardening.Hostile.WaitUntilAsync(() =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.ExtraStore.AddRange(intermediates);
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
            return chain.Build(leaf);
        }, HangBound);
        Assert.True(trusted, "the system's chain engine never trusted the root added to the user's Root store");
    }

    private static byte[] Serial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER (RFC 5280 §4.1.2.2)
        return serial;
    }

    private static X509Certificate2 Intermediate(X509Certificate2 issuer, ECDsa issuerKey, ECDsa key)
    {
        var request = new CertificateRequest("CN=Parley Test System Intermediate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        return request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), DateTimeOffset.UtcNow.AddDays(-5), DateTimeOffset.UtcNow.AddDays(20), Serial());
    }

    private static X509Certificate2 Leaf(X509Certificate2 issuer, ECDsa issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 signed = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notAfter, Serial());
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Serves one HTTPS connection with <paramref name="leaf"/> (and its intermediates): "ok" to one request.</summary>
    private static async Task<int> ServeOnceAsync(TcpListener listener, X509Certificate2 leaf, X509Certificate2Collection intermediates)
    {
        using Socket socket = await listener.AcceptSocketAsync(Test);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = SslStreamCertificateContext.Create(leaf, intermediates, offline: true),
            }, Test);
            byte[] head = new byte[4096];
            int received = 0;
            while (!Encoding.ASCII.GetString(head, 0, received).Contains("\r\n\r\n"))
            {
                int read = await ssl.ReadAsync(head.AsMemory(received), Test);
                if (read == 0) return 0;
                received += read;
            }
            await ssl.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), Test);
            return 1;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            return 0; // the client refused the certificate
        }
    }

    private static ParleyClientOptions WithTestCaAsExtraRoot()
    {
        var options = new ParleyClientOptions();
        options.ExtraTrustedRoots.AddRange(TestCertificates.CaCollection());
        return options;
    }

    [Fact]
    public async Task A_server_under_a_system_root_with_an_intermediate_is_accepted_although_extra_roots_are_set()
    {
        (X509Certificate2 root, ECDsa rootKey) = AddSystemRoot(DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(30));
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 intermediate = Intermediate(root, rootKey, intermediateKey);
        using X509Certificate2 leaf = Leaf(intermediate, intermediateKey, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10));
        X509Certificate2Collection sent = [X509CertificateLoader.LoadCertificate(intermediate.RawData)];
        await WaitUntilSystemTrustsAsync(leaf, sent);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<int> served = ServeOnceAsync(listener, leaf, sent);
        using var client = new ParleyClient(WithTestCaAsExtraRoot());

        // Not under the extra root, but under the system's, through the intermediate the server sent.
        Assert.Equal("ok", await client.GetStringAsync($"https://localhost:{((IPEndPoint)listener.LocalEndpoint).Port}/", Test));
        Assert.Equal(1, await served);
    }

    [Fact]
    public async Task A_server_under_an_expired_system_root_is_refused_for_its_chains_time_not_as_untrusted()
    {
        // The leaf is valid; the root the system trusts expired yesterday. The extra root's chain stops
        // short of that root (untrusted); the system's reaches it, and its problem is what is named.
        (X509Certificate2 root, ECDsa rootKey) = AddSystemRoot(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        using X509Certificate2 leaf = Leaf(root, rootKey, DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(10));
        await WaitUntilSystemTrustsAsync(leaf, []);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<int> served = ServeOnceAsync(listener, leaf, []);
        using var client = new ParleyClient(WithTestCaAsExtraRoot());

        var ex = await Assert.ThrowsAsync<ParleyHttpException>(async () =>
            await client.GetStringAsync($"https://localhost:{((IPEndPoint)listener.LocalEndpoint).Port}/", Test));

        Assert.Equal(ParleyErrorKind.CertificateNotTimeValid, ex.Kind);
        Assert.Equal($"a certificate in the chain of localhost ('localhost', issued by '{root.Subject}') has expired or is not yet valid", ex.Message);
        Assert.Equal(0, await served);
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Parley.Tests.Interop;

namespace Parley.Tests.Tls;

/// <summary>The shared test certificates are what their names say, checked by .NET's chain builder and by openssl.</summary>
public sealed class TestCertificatesTests
{
    private static X509ChainStatusFlags ChainErrors(TestCertificate certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(TestCertificates.CaCollection());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.Build(certificate.Certificate);
        var flags = X509ChainStatusFlags.NoError;
        foreach (var status in chain.ChainStatus)
        {
            flags |= status.Status;
        }
        return flags;
    }

    [Fact]
    public void Server_certificate_chains_to_the_test_ca_and_names_localhost_and_both_loopback_addresses()
    {
        Assert.Equal(X509ChainStatusFlags.NoError, ChainErrors(TestCertificates.Server));
        Assert.True(TestCertificates.Server.Certificate.HasPrivateKey);
        foreach (string name in TestCertificates.LocalNames)
        {
            Assert.True(TestCertificates.Server.Certificate.MatchesHostname(name), name);
        }
        Assert.False(TestCertificates.Server.Certificate.MatchesHostname("example.com"));
    }

    [Fact]
    public void Each_bad_certificate_is_wrong_in_its_own_way()
    {
        Assert.Equal(X509ChainStatusFlags.NotTimeValid, ChainErrors(TestCertificates.Expired));
        Assert.True(TestCertificates.Expired.Certificate.NotAfter < DateTime.Now);
        Assert.Equal(X509ChainStatusFlags.NotTimeValid, ChainErrors(TestCertificates.NotYetValid));
        Assert.True(TestCertificates.NotYetValid.Certificate.NotBefore > DateTime.Now);
        Assert.Equal(X509ChainStatusFlags.NoError, ChainErrors(TestCertificates.WrongHost));
        Assert.False(TestCertificates.WrongHost.Certificate.MatchesHostname("localhost"));
        Assert.True(TestCertificates.WrongHost.Certificate.MatchesHostname(TestCertificates.WrongHostName));
        Assert.True(ChainErrors(TestCertificates.SelfSigned).HasFlag(X509ChainStatusFlags.UntrustedRoot));
        Assert.True(TestCertificates.SelfSigned.Certificate.MatchesHostname("localhost"));
    }

    [Fact]
    public async Task Openssl_verifies_the_written_pem_files_against_the_ca_bundle()
    {
        var good = TestCertificates.WriteFiles(TestCertificates.Server);
        var expired = TestCertificates.WriteFiles(TestCertificates.Expired);
        var client = TestCertificates.WriteFiles(TestCertificates.Client);

        var ok = await ExternalTool.RunAsync("openssl", "verify", "-CAfile", TestCertificates.CaBundlePath, "-purpose", "sslserver", good.CertificatePath);
        Assert.Equal(0, ok.ExitCode);
        var clientOk = await ExternalTool.RunAsync("openssl", "verify", "-CAfile", TestCertificates.CaBundlePath, "-purpose", "sslclient", client.CertificatePath);
        Assert.Equal(0, clientOk.ExitCode);
        var bad = await ExternalTool.RunAsync("openssl", "verify", "-CAfile", TestCertificates.CaBundlePath, expired.CertificatePath);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("expired", bad.StdOut + bad.StdErr);

        // The key file holds the certificate's key: openssl derives the same public key from both.
        var fromKey = await ExternalTool.RunAsync("openssl", "pkey", "-in", good.KeyPath, "-pubout");
        var fromCertificate = await ExternalTool.RunAsync("openssl", "x509", "-in", good.CertificatePath, "-noout", "-pubkey");
        Assert.Equal(fromCertificate.EnsureSuccess().StdOut, fromKey.EnsureSuccess().StdOut);
    }

    [Fact]
    public async Task SslStream_handshakes_with_the_server_certificate_and_a_client_certificate()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        string? seenClientThumbprint = null;

        var serverSide = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(accepted.GetStream());
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = TestCertificates.Server.Certificate,
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => (seenClientThumbprint = certificate?.GetCertHashString()) is not null,
            });
            await tls.WriteAsync("ok"u8.ToArray());
        });

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var clientTls = new SslStream(client.GetStream());
        await clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [TestCertificates.Client.Certificate],
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { TestCertificates.Ca.Certificate },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        });
        var buffer = new byte[2];
        await clientTls.ReadExactlyAsync(buffer);
        await serverSide;

        Assert.Equal("ok"u8.ToArray(), buffer);
        Assert.Equal(TestCertificates.Client.Certificate.Thumbprint, seenClientThumbprint);
    }
}

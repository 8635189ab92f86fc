using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Server;
using Parley.Tests.Hardening;
using Parley.Tests.Server;

namespace Parley.Tests.Tls;

/// <summary>
/// The server's TLS listeners with .NET's SslStream as the client: the session a request sees, plain
/// HTTP sent to the port, handshakes that fail or stall, HSTS, the redirect listener, SNI, client
/// certificates and certificate files that change.
/// </summary>
public class ServerTlsTests : TransportTests
{
    private static ValueTask Hello(HttpRequest request, HttpResponse response)
    {
        response.WriteText("Hello");
        return ValueTask.CompletedTask;
    }

    private static ValueTask DescribeSession(HttpRequest request, HttpResponse response)
    {
        TlsSession? tls = request.TlsSession;
        response.WriteText(tls is null
            ? $"{request.Scheme} plain"
            : $"{request.Scheme} {tls.ProtocolName} {tls.CipherSuite} sni={tls.HostName} alpn={tls.ApplicationProtocol} client={tls.ClientCertificate?.Subject} n={request.RequestNumberOnConnection}");
        return ValueTask.CompletedTask;
    }

    private Task<TestServer> StartTlsAsync(RequestHandler handler, Action<ServerTlsOptions>? tls = null, Action<HttpServerOptions>? configure = null) =>
        StartAsync(handler, options =>
        {
            ServerTlsOptions tlsOptions = TestServer.TestTlsOptions();
            tls?.Invoke(tlsOptions);
            options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, tlsOptions));
            configure?.Invoke(options);
        });

    private static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    private static async Task<RawResponse> GetAsync(RawConnection connection, string target = "/")
    {
        await connection.SendAsync($"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        return await connection.ReadResponseAsync();
    }

    [Fact]
    public async Task A_request_over_tls_sees_https_and_its_session_and_the_connection_is_kept_alive()
    {
        await using var server = await StartTlsAsync(DescribeSession);
        await using RawConnection connection = await RawConnection.OpenTlsAsync(Loopback(server.Port));
        Assert.Equal(SslProtocols.Tls13, connection.Tls!.SslProtocol);
        Assert.Equal(SslApplicationProtocol.Http11, connection.Tls.NegotiatedApplicationProtocol);
        for (int i = 1; i <= 3; i++)
        {
            RawResponse response = await GetAsync(connection);
            Assert.Equal(200, response.StatusCode);
            Assert.Equal($"https TLSv1.3 {connection.Tls.NegotiatedCipherSuite} sni=localhost alpn=http/1.1 client= n={i}", Encoding.UTF8.GetString(response.Body));
        }
    }

    [Fact]
    public async Task Tls_1_2_is_negotiated_when_the_client_offers_only_it()
    {
        await using var server = await StartTlsAsync(DescribeSession);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Loopback(server.Port));
        await using var tls = new SslStream(new NetworkStream(socket));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls12,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate!.GetCertHashString() == TestCertificates.Server.Certificate.GetCertHashString(),
        });
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray());
        string all = await new StreamReader(tls).ReadToEndAsync();
        Assert.Contains("https TLSv1.2 ", all);
        // No ALPN offered by this client: none agreed.
        Assert.Contains("alpn= ", all);
    }

    [Fact]
    public async Task Plain_http_sent_to_the_tls_port_gets_a_plain_400_saying_so_and_a_close()
    {
        await using var server = await StartTlsAsync(Hello);
        await using RawConnection connection = await RawConnection.OpenAsync(Loopback(server.Port));
        var watch = Stopwatch.StartNew();
        await connection.SendAsync("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        string all = await connection.ReadUntilCloseAsync();
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", all);
        Assert.Contains("Connection: close\r\n", all);
        Assert.Contains("plain HTTP request was sent to HTTPS port", all);
        // What the client read was the half-close; the server goes on reading (and discarding) the rest of the
        // request for a second before it closes, so that unread bytes cannot turn the close into a reset.
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound), "the connection was never closed");
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1) - ServerTiming.CoarseClock, $"closed {watch.Elapsed.TotalMilliseconds:F0} ms after the request, without lingering");
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_garbage_handshake_is_closed_with_one_error_line()
    {
        await using var server = await StartTlsAsync(Hello);
        using Socket socket = await Hostile.ConnectAsync(server.Port);
        // A handshake record header (0x16, version 3.1, length 16) followed by 16 bytes that are no ClientHello.
        byte[] garbage = [0x16, 0x03, 0x01, 0x00, 0x10, .. Enumerable.Repeat((byte)0xAB, 16)];
        await socket.SendAsync(garbage, SocketFlags.None);
        Assert.NotNull(await Hostile.ReadToCloseAsync(socket, ServerTiming.HangBound));
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"{server.Server.ConnectionCount} connection(s) still open");
        // The line names what the client did wrong, not SslStream's words for it, which blame the certificate.
        Assert.Matches(@"^TLS handshake with 127\.0\.0\.1:\d+ failed: the client's first handshake record is not a ClientHello$", Assert.Single(server.Errors));
        Assert.Equal(1, server.FailureCount("tls-handshake-failed"));
    }

    [Fact]
    public async Task A_client_offering_only_a_protocol_the_listener_refuses_fails_with_one_error_line_giving_the_cause()
    {
        await using var server = await StartTlsAsync(Hello, tls => tls.EnabledProtocols = SslProtocols.Tls13);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Loopback(server.Port));
        await using var tls = new SslStream(new NetworkStream(socket));
        await Assert.ThrowsAnyAsync<Exception>(() => tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls12,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }));
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound));
        string error = Assert.Single(server.Errors);
        // One line: the failure's message, then its causes' in parentheses (SslStream puts OpenSSL's reason
        // in an inner exception).
        Assert.Matches(@"^TLS handshake with 127\.0\.0\.1:\d+ failed: [^\r\n]+ \([^\r\n]+\)$", error);
        Assert.Equal(1, server.FailureCount("tls-handshake-failed"));
    }

    [Fact]
    public async Task A_stalled_handshake_is_closed_at_the_handshake_timeout_with_one_error_line()
    {
        await using var server = await StartTlsAsync(Hello, tls => tls.HandshakeTimeout = TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        using Socket socket = await Hostile.ConnectAsync(server.Port);
        // The first byte of a handshake record, then nothing.
        await socket.SendAsync(new byte[] { 0x16, 0x03 }, SocketFlags.None);
        string? rest = await Hostile.ReadToCloseAsync(socket, ServerTiming.HangBound);
        Assert.NotNull(rest);
        Assert.Equal("", rest);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"closed after {clock.Elapsed.TotalSeconds:F1} s, before the 1 s handshake timeout");
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound),
            $"{server.Server.ConnectionCount} connection(s) still open");
        string error = Assert.Single(server.Errors);
        Assert.Contains("did not finish within 1 s", error);
        // Counted for the status page as a handshake timeout, and as nothing else.
        Assert.Equal(1, server.FailureCount("tls-handshake-timeout"));
        Assert.Equal(0, server.FailureCount("tls-handshake-failed"));
        Assert.Equal(0, server.FailureCount("connection-failed"));
    }

    [Fact]
    public async Task Slowloris_during_the_handshake_does_not_keep_others_from_being_served()
    {
        const int Count = 200;
        // The timeout leaves a loaded machine time to open all 200 before the first expire (at 2 s, on a
        // busy 2-core machine, every one had expired before the epoll loop was seen holding them).
        await using var server = await StartTlsAsync(Hello, tls => tls.HandshakeTimeout = TimeSpan.FromSeconds(5));
        var sockets = new Socket[Count];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Count).Select(async i =>
            {
                sockets[i] = await Hostile.ConnectAsync(server.Port);
                // A record header promising a ClientHello that never comes in full.
                await sockets[i].SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 }, SocketFlags.None);
            }));
            // The loop accepts them when it gets to them: wait for it rather than read the count at once.
            Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount >= Count / 2, TimeSpan.FromSeconds(4)),
                $"only {server.Server.ConnectionCount} stalled handshakes were open");
            // While they stall, a real client is served at once, several times over.
            for (int i = 0; i < 3; i++)
            {
                await using RawConnection connection = await RawConnection.OpenTlsAsync(Loopback(server.Port));
                Assert.Equal(200, (await GetAsync(connection)).StatusCode);
            }
            // Each stalled one is closed by the timeout, whether it dribbles more or not.
            Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(20)),
                $"{server.Server.ConnectionCount} connections still open after the handshake timeout");
            Assert.Equal(Count, server.Errors.Count(e => e.Contains("did not finish within 5 s")));
        }
        finally
        {
            foreach (Socket socket in sockets) socket?.Dispose();
        }
    }

    [Fact]
    public async Task Hsts_is_sent_over_tls_only_and_a_handler_field_wins()
    {
        await using var server = await StartAsync((request, response) =>
        {
            if (request.Path == "/own") response.Headers.Set("Strict-Transport-Security", "max-age=60");
            response.WriteText("x");
            return default;
        }, options =>
        {
            options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, TestServer.TestTlsOptions()));
            options.Listeners.Add(ListenerOptions.Http("127.0.0.1", 0));
            options.StrictTransportSecurity = new StrictTransportSecurityOptions { MaxAge = TimeSpan.FromDays(2), IncludeSubDomains = true, Preload = true };
        });
        await using (RawConnection tls = await RawConnection.OpenTlsAsync(Loopback(server.Server.LocalEndPoints[0].Port)))
        {
            Assert.Equal("max-age=172800; includeSubDomains; preload", (await GetAsync(tls)).Header("Strict-Transport-Security"));
            RawResponse own = await GetAsync(tls, "/own");
            Assert.Equal("max-age=60", own.Header("Strict-Transport-Security"));
            Assert.Single(own.Headers, h => h.Key.Equals("Strict-Transport-Security", StringComparison.OrdinalIgnoreCase));
        }
        await using RawConnection plain = await RawConnection.OpenAsync(Loopback(server.Server.LocalEndPoints[1].Port));
        Assert.Null((await GetAsync(plain)).Header("Strict-Transport-Security"));
    }

    [Theory]
    [InlineData("GET", "/a/b?q=1&r=%20", "example.com:8080", 301, "https://example.com:8443/a/b?q=1&r=%20")]
    [InlineData("HEAD", "/", "example.com", 301, "https://example.com:8443/")]
    [InlineData("POST", "/form", "[::1]:80", 308, "https://[::1]:8443/form")]
    [InlineData("DELETE", "http://other.test/x?y", "other.test", 308, "https://other.test:8443/x?y")]
    public async Task The_redirect_listener_sends_every_request_to_https(string method, string target, string host, int status, string location)
    {
        bool handlerRan = false;
        await using var server = await StartAsync((_, response) =>
        {
            handlerRan = true;
            response.WriteText("not redirected");
            return default;
        }, options => options.Listeners.Add(ListenerOptions.RedirectToHttps("127.0.0.1", 0, 8443)));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync($"{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n");
        RawResponse response = await connection.ReadResponseAsync(headRequest: method == "HEAD");
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(location, response.Header("Location"));
        Assert.False(handlerRan);
        // The connection stays usable: a client following redirects may ask again.
        await connection.SendAsync("GET /again HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Assert.Equal("https://example.com:8443/again", (await connection.ReadResponseAsync()).Header("Location"));
    }

    [Fact]
    public async Task The_redirect_to_port_443_leaves_the_port_out()
    {
        await using var server = await StartAsync(Hello, options => options.Listeners.Add(ListenerOptions.RedirectToHttps("127.0.0.1", 0, 443)));
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /p HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Assert.Equal("https://example.com/p", (await connection.ReadResponseAsync()).Header("Location"));
    }

    // The certificate the server presented for a handshake asking for hostName (any certificate accepted).
    private static async Task<X509Certificate2> PresentedAsync(int port, string hostName)
    {
        X509Certificate2? presented = null;
        await using RawConnection connection = await RawConnection.OpenTlsAsync(Loopback(port), hostName, validate: (_, certificate, _, _) =>
        {
            presented = new X509Certificate2(certificate!);
            return true;
        });
        Assert.Equal(200, (await GetAsync(connection)).StatusCode);
        return presented!;
    }

    [Fact]
    public async Task Sni_picks_the_certificate_by_exact_then_wildcard_name_then_the_default()
    {
        await using var server = await StartTlsAsync(Hello, tls =>
        {
            tls.CertificatesByHostName["Wrong.Parley.Test"] = ServerCertificate.FromCertificate(TestCertificates.WrongHost.Certificate);
            tls.CertificatesByHostName["*.wild.parley.test"] = ServerCertificate.FromCertificate(TestCertificates.SelfSigned.Certificate);
        });
        Assert.Equal(TestCertificates.WrongHost.Sha256Hex, Sha256(await PresentedAsync(server.Port, "wrong.parley.test")));
        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Sha256(await PresentedAsync(server.Port, "a.wild.parley.test")));
        // One label only (RFC 6125 §6.4.3): neither the bare domain nor two labels down match the wildcard.
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "wild.parley.test")));
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "a.b.wild.parley.test")));
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "localhost")));
    }

    [Fact]
    public async Task A_selection_callback_is_asked_first_and_null_falls_through()
    {
        var seen = new List<string?>();
        await using var server = await StartTlsAsync(Hello, tls => tls.CertificateSelector = hostName =>
        {
            lock (seen) seen.Add(hostName);
            return hostName == "pick.parley.test" ? ServerCertificate.FromCertificate(TestCertificates.SelfSigned.Certificate) : null;
        });
        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Sha256(await PresentedAsync(server.Port, "pick.parley.test")));
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "other.parley.test")));
        Assert.Equal(["pick.parley.test", "other.parley.test"], seen);
    }

    [Fact]
    public async Task A_handshake_for_a_name_without_any_certificate_fails()
    {
        await using var server = await StartAsync(Hello, options =>
        {
            var tls = new ServerTlsOptions();
            tls.CertificatesByHostName["only.parley.test"] = ServerCertificate.FromCertificate(TestCertificates.Server.Certificate);
            options.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, tls));
        });
        await Assert.ThrowsAnyAsync<Exception>(() => PresentedAsync(server.Port, "else.parley.test"));
        Assert.True(await Hostile.WaitUntilAsync(() => server.Errors.Count == 1, TimeSpan.FromSeconds(5)));
        Assert.Contains("TLS handshake", server.Errors[0]);
    }

    private static string Sha256(X509Certificate2 certificate) => certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);

    private static bool TrustTestCa(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(TestCertificates.Ca.Certificate);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(certificate);
    }

    [Fact]
    public async Task A_required_client_certificate_is_seen_by_the_request_and_its_absence_fails_the_handshake()
    {
        await using var server = await StartTlsAsync(DescribeSession, tls =>
        {
            tls.ClientCertificateMode = ClientCertificateMode.Required;
            tls.ClientCertificateValidation = TrustTestCa;
        });
        await using (RawConnection withCertificate = await RawConnection.OpenTlsAsync(Loopback(server.Port), clientCertificate: TestCertificates.Client.Certificate))
        {
            Assert.Contains("client=CN=parley-test-client", Encoding.UTF8.GetString((await GetAsync(withCertificate)).Body));
        }
        // TLS 1.3 reports the refusal after the client's side of the handshake: the first read fails or ends.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using RawConnection without = await RawConnection.OpenTlsAsync(Loopback(server.Port));
            await GetAsync(without);
        });
        // A certificate the callback refuses (self-signed, not from the test CA) fails as well.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using RawConnection refused = await RawConnection.OpenTlsAsync(Loopback(server.Port), clientCertificate: TestCertificates.SelfSigned.Certificate);
            await GetAsync(refused);
        });
    }

    [Fact]
    public async Task A_client_certificate_check_that_throws_fails_the_handshake_with_an_error_line_that_stays_one_line()
    {
        await using var server = await StartTlsAsync(DescribeSession, tls =>
        {
            tls.ClientCertificateMode = ClientCertificateMode.Required;
            tls.ClientCertificateValidation = (_, _, _) => throw new InvalidOperationException("first line\nsecond line");
        });
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using RawConnection refused = await RawConnection.OpenTlsAsync(Loopback(server.Port), clientCertificate: TestCertificates.Client.Certificate);
            await GetAsync(refused);
        });
        Assert.True(await Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound));
        string error = Assert.Single(server.Errors);
        // The line breaks of a message become spaces: a log line per failure, whatever the message.
        Assert.StartsWith("TLS handshake with 127.0.0.1:", error);
        Assert.Contains("first line second line", error);
    }

    [Fact]
    public async Task An_allowed_client_certificate_may_be_left_out()
    {
        await using var server = await StartTlsAsync(DescribeSession, tls =>
        {
            tls.ClientCertificateMode = ClientCertificateMode.Allowed;
            tls.ClientCertificateValidation = (certificate, chain, errors) => certificate is null || TrustTestCa(certificate, chain, errors);
        });
        await using (RawConnection without = await RawConnection.OpenTlsAsync(Loopback(server.Port)))
        {
            Assert.EndsWith("client= n=1", Encoding.UTF8.GetString((await GetAsync(without)).Body));
        }
        await using RawConnection with = await RawConnection.OpenTlsAsync(Loopback(server.Port), clientCertificate: TestCertificates.Client.Certificate);
        Assert.Contains("client=CN=parley-test-client", Encoding.UTF8.GetString((await GetAsync(with)).Body));
    }

    [Fact]
    public async Task Certificates_load_from_pem_with_an_encrypted_key_and_from_pkcs12_with_a_password()
    {
        string directory = Directory.CreateTempSubdirectory("parley-tls-load-").FullName;
        try
        {
            string certificatePath = Path.Combine(directory, "cert.pem"), keyPath = Path.Combine(directory, "key.pem"), pfxPath = Path.Combine(directory, "cert.pfx");
            File.WriteAllText(certificatePath, TestCertificates.Server.CertificatePem);
            File.WriteAllText(keyPath, TestCertificates.Server.EncryptedKeyPem("s3cret"));
            File.WriteAllBytes(pfxPath, TestCertificates.SelfSigned.Pkcs12("pfx-pass"));
            var fromPem = ServerCertificate.FromPemFiles(certificatePath, keyPath, "s3cret");
            var fromPfx = ServerCertificate.FromPfxFile(pfxPath, "pfx-pass");
            Assert.Throws<System.Security.Cryptography.CryptographicException>(() => ServerCertificate.FromPfxFile(pfxPath, "wrong"));
            await using var server = await StartTlsAsync(Hello, tls =>
            {
                tls.Certificate = fromPem;
                tls.CertificatesByHostName["pfx.parley.test"] = fromPfx;
            });
            Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "localhost")));
            Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, Sha256(await PresentedAsync(server.Port, "pfx.parley.test")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Changed_certificate_files_are_used_by_new_handshakes_and_open_connections_go_on()
    {
        using var files = new CertificateFiles();
        (string certificatePath, string keyPath) = (files.CertificatePath, files.KeyPath);
        await using var server = await StartTlsAsync(DescribeSession, tls => tls.Certificate = ServerCertificate.FromPemFiles(certificatePath, keyPath));
        X509Certificate2? openPresented = null;
        await using RawConnection open = await RawConnection.OpenTlsAsync(Loopback(server.Port), validate: (_, certificate, _, _) =>
        {
            openPresented = new X509Certificate2(certificate!);
            return true;
        });
        Assert.Equal(200, (await GetAsync(open)).StatusCode);
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(openPresented!));

        // Written through temporary files and renamed into place, as certificate tools do.
        File.WriteAllText(certificatePath + ".new", TestCertificates.SelfSigned.CertificatePem);
        File.WriteAllText(keyPath + ".new", TestCertificates.SelfSigned.KeyPem);
        File.Move(keyPath + ".new", keyPath, overwrite: true);
        File.Move(certificatePath + ".new", certificatePath, overwrite: true);

        // The server looks once a second: within a few, new handshakes get the new certificate.
        var clock = Stopwatch.StartNew();
        string presented;
        do
        {
            presented = Sha256(await PresentedAsync(server.Port, "localhost"));
        }
        while (presented != TestCertificates.SelfSigned.Sha256Hex && clock.Elapsed < TimeSpan.FromSeconds(10) && await Task.Delay(100).ContinueWith(_ => true));
        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, presented);

        // The connection opened before the change is still served, on its own session.
        RawResponse again = await GetAsync(open);
        Assert.Equal(200, again.StatusCode);
        Assert.EndsWith("n=2", Encoding.UTF8.GetString(again.Body));
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task A_half_written_certificate_keeps_the_previous_one_and_is_reported()
    {
        using var files = new CertificateFiles();
        (string certificatePath, string keyPath) = (files.CertificatePath, files.KeyPath);
        await using var server = await StartTlsAsync(Hello, tls => tls.Certificate = ServerCertificate.FromPemFiles(certificatePath, keyPath));
        // A key that does not match the certificate.
        File.WriteAllText(keyPath, TestCertificates.SelfSigned.KeyPem);
        Assert.True(await Hostile.WaitUntilAsync(() => server.Errors.Count > 0, TimeSpan.FromSeconds(10)), "the failed reload was not reported");
        Assert.Contains("could not be loaded (keeping the previous one)", server.Errors[0]);
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "localhost")));
    }

    [Fact]
    public async Task An_error_log_that_throws_on_a_failed_reload_costs_neither_the_process_nor_the_certificate()
    {
        using var files = new CertificateFiles();
        (string certificatePath, string keyPath) = (files.CertificatePath, files.KeyPath);
        await using var server = await StartTlsAsync(Hello, tls => tls.Certificate = ServerCertificate.FromPemFiles(certificatePath, keyPath));
        int logged = 0;
        // After the start: the test server sets its own error log until then.
        server.Server.Options.ErrorLog = (_, _) =>
        {
            Interlocked.Increment(ref logged);
            throw new InvalidOperationException("the log broke");
        };
        // The reload runs on the heartbeat's timer thread, where an exception that escapes ends the process.
        File.WriteAllText(keyPath, TestCertificates.SelfSigned.KeyPem);
        Assert.True(await Hostile.WaitUntilAsync(() => Volatile.Read(ref logged) > 0, TimeSpan.FromSeconds(10)), "the failed reload was not reported");
        Assert.Equal(TestCertificates.Server.Sha256Hex, Sha256(await PresentedAsync(server.Port, "localhost")));
        // The heartbeat goes on: a fixed key is taken at its next look.
        File.WriteAllText(certificatePath, TestCertificates.SelfSigned.CertificatePem);
        var clock = Stopwatch.StartNew();
        string presented;
        do
        {
            presented = Sha256(await PresentedAsync(server.Port, "localhost"));
        }
        while (presented != TestCertificates.SelfSigned.Sha256Hex && clock.Elapsed < TimeSpan.FromSeconds(10) && await Task.Delay(100).ContinueWith(_ => true));
        Assert.Equal(TestCertificates.SelfSigned.Sha256Hex, presented);
    }

    [Fact]
    public async Task A_client_without_sni_or_alpn_gets_a_session_with_neither()
    {
        await using var server = await StartTlsAsync((request, response) =>
        {
            TlsSession tls = request.TlsSession!;
            response.WriteText($"sni null: {tls.HostName is null}, alpn null: {tls.ApplicationProtocol is null}");
            return default;
        });
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Loopback(server.Port));
        await using var tls = new SslStream(new NetworkStream(socket));
        // No TargetHost: no server_name extension (RFC 6066 §3); no ApplicationProtocols: no ALPN (RFC 7301).
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate!.GetCertHashString() == TestCertificates.Server.Certificate.GetCertHashString(),
        });
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray());
        string all = await new StreamReader(tls).ReadToEndAsync().WaitAsync(ServerTiming.HangBound);
        Assert.EndsWith("\r\n\r\nsni null: True, alpn null: True", all);
    }

    [Fact]
    public async Task Without_a_validation_callback_an_allowed_client_certificate_may_be_left_out_but_one_from_an_untrusted_root_is_refused()
    {
        await using var server = await StartTlsAsync(DescribeSession, tls => tls.ClientCertificateMode = ClientCertificateMode.Allowed);
        await using (RawConnection without = await RawConnection.OpenTlsAsync(Loopback(server.Port)))
        {
            Assert.EndsWith("client= n=1", Encoding.UTF8.GetString((await GetAsync(without)).Body));
        }
        // The test CA is no root the system trusts: its client certificate does not validate.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using RawConnection refused = await RawConnection.OpenTlsAsync(Loopback(server.Port), clientCertificate: TestCertificates.Client.Certificate);
            await GetAsync(refused);
        });
    }

    [Fact]
    public async Task Without_a_validation_callback_a_required_client_certificate_from_an_untrusted_root_is_refused()
    {
        await using var server = await StartTlsAsync(DescribeSession, tls => tls.ClientCertificateMode = ClientCertificateMode.Required);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using RawConnection refused = await RawConnection.OpenTlsAsync(Loopback(server.Port), clientCertificate: TestCertificates.Client.Certificate);
            await GetAsync(refused);
        });
    }

    // A chain one longer than the tests' usual one: the test CA signs an intermediate CA, which signs a
    // localhost leaf. A client that trusts only the test CA can build the chain only from what the server sends.
    private static (X509Certificate2 Leaf, X509Certificate2 Intermediate, string LeafKeyPem) MakeChainThroughAnIntermediate()
    {
        var (notBefore, notAfter) = (DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var intermediateKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=Parley Test Intermediate", intermediateKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        intermediateRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(intermediateRequest.PublicKey, false));
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(TestCertificates.Ca.Certificate, true, false));
        using X509Certificate2 intermediateSigned = intermediateRequest.Create(TestCertificates.Ca.Certificate, notBefore, notAfter, [0x01, 0x02, 0x03, 0x04]);
        using X509Certificate2 intermediate = intermediateSigned.CopyWithPrivateKey(intermediateKey);

        using var leafKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=localhost", leafKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(intermediate, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        using X509Certificate2 leafSigned = leafRequest.Create(intermediate, notBefore, notAfter, [0x05, 0x06, 0x07, 0x08]);
        using X509Certificate2 leafWithKey = leafSigned.CopyWithPrivateKey(leafKey);
        // As TestCertificate does: a PKCS#12 round trip gives a key SslStream accepts on every platform.
        X509Certificate2 leaf = X509CertificateLoader.LoadPkcs12(leafWithKey.Export(X509ContentType.Pkcs12), null);
        return (leaf, X509CertificateLoader.LoadCertificate(intermediate.RawData), leafKey.ExportPkcs8PrivateKeyPem());
    }

    // The handshake succeeds only when the server sent the intermediate: the client trusts the test CA alone.
    private async Task AssertChainIsSentAsync(ServerCertificate certificate)
    {
        await using var server = await StartTlsAsync(Hello, tls => tls.Certificate = certificate);
        await using RawConnection connection = await RawConnection.OpenTlsAsync(Loopback(server.Port));
        Assert.Equal(200, (await GetAsync(connection)).StatusCode);
    }

    [Fact]
    public async Task The_intermediates_after_the_certificate_in_a_pem_file_are_sent_with_it()
    {
        (X509Certificate2 leaf, X509Certificate2 intermediate, string keyPem) = MakeChainThroughAnIntermediate();
        string directory = Directory.CreateTempSubdirectory("parley-tls-chain-").FullName;
        try
        {
            string certificatePath = Path.Combine(directory, "chain.pem"), keyPath = Path.Combine(directory, "key.pem");
            File.WriteAllText(certificatePath, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem() + "\n");
            File.WriteAllText(keyPath, keyPem);
            await AssertChainIsSentAsync(ServerCertificate.FromPemFiles(certificatePath, keyPath));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_intermediates_in_a_pkcs12_file_are_sent_with_the_certificate_that_has_the_key_whatever_their_order()
    {
        (X509Certificate2 leaf, X509Certificate2 intermediate, _) = MakeChainThroughAnIntermediate();
        string directory = Directory.CreateTempSubdirectory("parley-tls-chain-").FullName;
        try
        {
            // The intermediate first: the certificate with the key is the leaf, wherever it is in the file.
            string path = Path.Combine(directory, "chain.pfx");
            File.WriteAllBytes(path, new X509Certificate2Collection { intermediate, leaf }.Export(X509ContentType.Pkcs12, "pass")!);
            await AssertChainIsSentAsync(ServerCertificate.FromPfxFile(path, "pass"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_intermediates_given_with_a_certificate_object_are_sent_with_it()
    {
        (X509Certificate2 leaf, X509Certificate2 intermediate, _) = MakeChainThroughAnIntermediate();
        await AssertChainIsSentAsync(ServerCertificate.FromCertificate(leaf, [intermediate]));
    }

    private static readonly byte[] s_file = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4 * 16 * 1024 + 20_000);

    [Theory]
    // Past the engine's small-file copy (64 KiB), the file goes through the transport, in 16 KiB chunks under TLS:
    // a region a byte either side of a whole number of chunks, behind a short head, a head just over half a
    // chunk (sent ahead on its own) and a head over a whole chunk.
    [InlineData(0, 64 * 1024 + 1)]
    [InlineData(0, 5 * 16 * 1024 - 1)]
    [InlineData(9_000, 5 * 16 * 1024 + 1)]
    [InlineData(20_000, 64 * 1024 + 8 * 1024)]
    public async Task A_file_is_served_over_tls_intact(int fieldLength, int length)
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-tls-file-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, s_file);
        try
        {
            await using var server = await StartTlsAsync(async (request, response) =>
            {
                using var file = File.OpenHandle(path, options: FileOptions.Asynchronous);
                if (fieldLength > 0) response.Headers.Set("X-Fill", new string('f', fieldLength));
                response.ContentLength = length;
                await response.SendFileAsync(file, 7, length);
            });
            await using RawConnection connection = await RawConnection.OpenTlsAsync(Loopback(server.Port));
            for (int i = 0; i < 2; i++)
            {
                RawResponse response = await GetAsync(connection);
                Assert.Equal(200, response.StatusCode);
                Assert.Equal(s_file.AsSpan(7, length).ToArray(), response.Body);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Tls_options_refuse_old_protocol_versions_and_a_listener_without_certificate()
    {
        var server = new HttpServer(new HttpServerOptions(), Hello);
        var old = new HttpServerOptions();
        old.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, new ServerTlsOptions
        {
            Certificate = ServerCertificate.FromCertificate(TestCertificates.Server.Certificate),
#pragma warning disable SYSLIB0039 // TLS 1.1 named on purpose: the server must refuse it
            EnabledProtocols = SslProtocols.Tls11 | SslProtocols.Tls12,
#pragma warning restore SYSLIB0039
        }));
        Assert.Throws<ArgumentException>(() => new HttpServer(old, Hello).StartAsync().GetAwaiter().GetResult());
        var none = new HttpServerOptions();
        none.Listeners.Add(ListenerOptions.Https("127.0.0.1", 0, new ServerTlsOptions()));
        Assert.Throws<ArgumentException>(() => new HttpServer(none, Hello).StartAsync().GetAwaiter().GetResult());
        Assert.NotNull(server);
    }
}

/// <summary>The same tests over the epoll transport.</summary>
public class EpollServerTlsTests : ServerTlsTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

/// <summary>The server's exchange suite (keep-alive, pipelining, chunked bodies, limits) over TLS.</summary>
public class TlsServerExchangeTests : ServerExchangeTests
{
    protected override bool OverTls => true;
}

/// <summary>The exchange suite over TLS on the epoll transport.</summary>
public class TlsEpollServerExchangeTests : ServerExchangeTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
    protected override bool OverTls => true;
}

/// <summary>The malformed-request suite over TLS.</summary>
public class TlsServerErrorTests : ServerErrorTests
{
    protected override bool OverTls => true;
}

/// <summary>The malformed-request suite over TLS on the epoll transport.</summary>
public class TlsEpollServerErrorTests : ServerErrorTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
    protected override bool OverTls => true;
}

/// <summary>The test server's certificate and key as PEM files in a directory of their own, deleted at the end.</summary>
internal sealed class CertificateFiles : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("parley-tls-reload-").FullName;

    public CertificateFiles()
    {
        File.WriteAllText(CertificatePath, TestCertificates.Server.CertificatePem);
        File.WriteAllText(KeyPath, TestCertificates.Server.KeyPem);
    }

    public string CertificatePath => Path.Combine(_directory, "cert.pem");

    public string KeyPath => Path.Combine(_directory, "key.pem");

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Tests.Tls;

namespace Parley.Tests.Server;

/// <summary>
/// A raw TCP client for server tests: bytes in, bytes out, with a response reader that understands just
/// enough framing (Content-Length, chunked, close) to split pipelined responses. Every read has a timeout.
/// </summary>
public sealed class RawConnection : IAsyncDisposable
{
    // A bound for a hang, not a speed: a loaded machine may hold a response back for seconds.
    private static readonly TimeSpan DefaultTimeout = ServerTiming.HangBound;
    private readonly Socket _socket;
    // Over TLS, the SslStream the bytes go through; null for plain TCP.
    private readonly SslStream? _tls;
    private readonly List<byte> _pending = [];

    private RawConnection(Socket socket, SslStream? tls = null)
    {
        _socket = socket;
        _tls = tls;
    }

    /// <summary>Takes over a socket the test connected itself (from a chosen local address, say).</summary>
    public static RawConnection FromConnected(Socket connected) => new(connected);

    public static async Task<RawConnection> OpenAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new RawConnection(socket);
    }

    /// <summary>
    /// Connects and runs a TLS handshake as a client asking for <paramref name="hostName"/> (SNI), trusting
    /// the test CA only, offering ALPN http/1.1 and <paramref name="clientCertificate"/> when given.
    /// <paramref name="preface"/> (a PROXY protocol header) is sent in the clear before the handshake.
    /// </summary>
    public static async Task<RawConnection> OpenTlsAsync(IPEndPoint endPoint, string hostName = "localhost", X509Certificate2? clientCertificate = null,
        RemoteCertificateValidationCallback? validate = null, byte[]? preface = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        if (preface is not null) await socket.SendAsync(preface);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = hostName,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { TestCertificates.CaCollection()[0] }, RevocationMode = X509RevocationMode.NoCheck },
            RemoteCertificateValidationCallback = validate,
        };
        using var cts = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await tls.AuthenticateAsClientAsync(options, cts.Token);
        }
        catch
        {
            tls.Dispose();
            socket.Dispose();
            throw;
        }
        return new RawConnection(socket, tls);
    }

    public Socket Socket => _socket;

    /// <summary>The TLS stream of a connection opened with <see cref="OpenTlsAsync"/>; null over plain TCP.</summary>
    public SslStream? Tls => _tls;

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        if (_tls is not null) await _tls.WriteAsync(bytes);
        else await _socket.SendAsync(bytes, SocketFlags.None);
    }

    /// <summary>One read of what the server sent (decrypted over TLS); 0 at its close.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _tls is not null ? _tls.ReadAsync(buffer, cancellationToken) : _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    /// <summary>Sends one byte per write, each as its own segment.</summary>
    public async Task SendByteByByteAsync(string text)
    {
        foreach (byte b in Encoding.Latin1.GetBytes(text))
        {
            await SendAsync(new[] { b });
            await Task.Delay(1);
        }
    }

    /// <summary>Reads everything until the server closes the connection.</summary>
    public async Task<string> ReadUntilCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var buffer = new byte[8192];
        var all = new List<byte>(_pending);
        _pending.Clear();
        try
        {
            while (true)
            {
                int n = await ReceiveAsync(buffer, cts.Token);
                if (n == 0) break;
                all.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        catch (Exception ex) when (ex is SocketException || (ex is IOException && _tls is not null))
        {
            // A reset after the response counts as the end (SslStream reports it as an IOException).
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"server did not close the connection; got so far: {Encoding.Latin1.GetString(all.ToArray())}");
        }
        return Encoding.Latin1.GetString(all.ToArray());
    }

    /// <summary>
    /// True when the server closed the connection (EOF or reset) within the timeout (by default
    /// <see cref="ServerTiming.HangBound"/>: a close that is due comes at once, unless the machine is loaded).
    /// </summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan? timeout = null)
    {
        try
        {
            string rest = await ReadUntilCloseAsync(timeout ?? ServerTiming.HangBound);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Reads exactly one response (head and framed body).</summary>
    public async Task<RawResponse> ReadResponseAsync(bool headRequest = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        int headEnd;
        while ((headEnd = IndexOf(_pending, "\r\n\r\n"u8)) < 0) await FillAsync(cts.Token);
        string head = Encoding.Latin1.GetString(_pending.GetRange(0, headEnd).ToArray());
        _pending.RemoveRange(0, headEnd + 4);
        var response = RawResponse.ParseHead(head);
        if (headRequest || response.StatusCode is < 200 or 204 or 304)
        {
            return response;
        }
        if (response.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = new List<byte>();
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(_pending, "\r\n"u8)) < 0) await FillAsync(cts.Token);
                string sizeLine = Encoding.ASCII.GetString(_pending.GetRange(0, lineEnd).ToArray());
                _pending.RemoveRange(0, lineEnd + 2);
                int size = Convert.ToInt32(sizeLine.Split(';')[0], 16);
                if (size == 0)
                {
                    while ((lineEnd = IndexOf(_pending, "\r\n"u8)) != 0)
                    {
                        if (lineEnd < 0) await FillAsync(cts.Token);
                        else _pending.RemoveRange(0, lineEnd + 2);
                    }
                    _pending.RemoveRange(0, 2);
                    break;
                }
                while (_pending.Count < size + 2) await FillAsync(cts.Token);
                body.AddRange(_pending.GetRange(0, size));
                _pending.RemoveRange(0, size + 2);
            }
            return response with { Body = body.ToArray() };
        }
        string? length = response.Header("Content-Length");
        if (length is not null)
        {
            int n = int.Parse(length);
            while (_pending.Count < n) await FillAsync(cts.Token);
            byte[] body = _pending.GetRange(0, n).ToArray();
            _pending.RemoveRange(0, n);
            return response with { Body = body };
        }
        string rest = await ReadUntilCloseAsync(timeout);
        return response with { Body = Encoding.Latin1.GetBytes(rest) };
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (what follows a head already read comes first).</summary>
    public async Task<byte[]> ReadExactlyAsync(int count, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (_pending.Count < count) await FillAsync(cts.Token);
        byte[] bytes = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>Ends the sending direction (over TLS after close_notify), so that the server reads the end of the stream.</summary>
    public async Task ShutdownSendAsync()
    {
        if (_tls is not null) await _tls.ShutdownAsync();
        _socket.Shutdown(SocketShutdown.Send);
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        int n;
        try
        {
            n = await ReceiveAsync(buffer, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no complete response in time; buffered: {Encoding.Latin1.GetString(_pending.ToArray())}");
        }
        if (n == 0) throw new IOException($"server closed the connection mid-response; buffered: {Encoding.Latin1.GetString(_pending.ToArray())}");
        _pending.AddRange(buffer.AsSpan(0, n).ToArray());
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Count; i++)
        {
            bool match = true;
            for (int j = 0; j < needle.Length && match; j++) match = haystack[i + j] == needle[j];
            if (match) return i;
        }
        return -1;
    }

    public ValueTask DisposeAsync()
    {
        _tls?.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A response as the test read it.</summary>
public sealed record RawResponse(string StatusLine, int StatusCode, List<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>The head exactly as received, every line with its CRLF and the empty line that ends it.</summary>
    public string RawHead { get; init; } = "";

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public static RawResponse ParseHead(string head)
    {
        string[] lines = head.Split("\r\n");
        var headers = new List<KeyValuePair<string, string>>();
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }
        return new RawResponse(lines[0], int.Parse(lines[0].Split(' ')[1]), headers, []) { RawHead = head + "\r\n\r\n" };
    }
}

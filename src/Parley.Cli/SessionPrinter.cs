using System.Diagnostics;
using System.Globalization;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Parley.Client;

namespace Parley.Cli;

/// <summary>
/// <c>parley -v</c>: prints the session on stderr as the client's events arrive, in the order of the
/// walkthrough: (1) the connection (for https, its TLS session and the server's certificate), (2) the request as sent, (3) the response head as received; the
/// body goes to stdout; then a timing line per exchange (every hop with -L).
/// </summary>
internal sealed class SessionPrinter(TextWriter error, bool verbose, TextWriter? includeHeads = null) : ISessionObserver
{
    private string _lastHead = "";
    private readonly object _lock = new();
    private long _hopStart = Stopwatch.GetTimestamp();
    private long _resolving, _resolved, _connecting, _tlsStarting, _tlsDone, _connected, _sent, _firstByte;
    private bool _reused;
    private readonly List<string> _pending = [];

    /// <summary>The last exchange's connection: reused or new, and its number on the connection.</summary>
    public string LastConnection { get; private set; } = "";

    /// <summary>The timing line of the last completed exchange.</summary>
    public string LastTiming { get; private set; } = "";

    /// <summary>Starts timing a new request (for --repeat).</summary>
    public void BeginRequest()
    {
        lock (_lock) Reset(Stopwatch.GetTimestamp());
    }

    public void OnEvent(in SessionEvent e)
    {
        lock (_lock)
        {
            switch (e.Kind)
            {
                // An address literal is not looked up: no step to show, and no DNS time.
                case SessionEventKind.Resolving when !IsAddressLiteral(e.Host):
                    _resolving = e.Timestamp;
                    Info($"Resolving {e.Host} ...");
                    break;
                case SessionEventKind.Resolved when !IsAddressLiteral(e.Host):
                    _resolved = e.Timestamp;
                    Info($"Resolved {e.Host} to {string.Join(", ", e.Addresses!.Select(a => a.ToString()))}");
                    break;
                case SessionEventKind.Connecting:
                    _connecting = e.Timestamp;
                    Info($"Connecting to {e.RemoteEndPoint!.Address} port {e.RemoteEndPoint.Port} ...");
                    break;
                case SessionEventKind.TlsHandshakeStarting:
                    _tlsStarting = e.Timestamp;
                    Info($"TCP connected to {e.RemoteEndPoint!.Address} port {e.RemoteEndPoint.Port}; TLS handshake ...");
                    break;
                case SessionEventKind.TlsHandshakeDone:
                    _tlsDone = e.Timestamp;
                    PrintTls(e.Tls!);
                    break;
                case SessionEventKind.Connected:
                    _connected = e.Timestamp;
                    _reused = e.Reused;
                    LastConnection = e.Reused
                        ? $"reused connection {e.LocalEndPoint} -> {e.RemoteEndPoint}, request #{e.RequestNumberOnConnection} on it"
                        : $"new connection {e.LocalEndPoint} -> {e.RemoteEndPoint}";
                    Info(e.Reused
                        ? $"Re-using connection to {e.Uri?.Host} ({e.RemoteEndPoint!.Address} port {e.RemoteEndPoint.Port}) from {e.LocalEndPoint}, request #{e.RequestNumberOnConnection} on it"
                        : $"Connected to {e.Uri?.Host} ({e.RemoteEndPoint!.Address} port {e.RemoteEndPoint.Port}) from {e.LocalEndPoint} (new connection)");
                    break;
                case SessionEventKind.RequestHeadSent:
                    _sent = e.Timestamp;
                    Lines("> ", e.Bytes.Span);
                    break;
                case SessionEventKind.RequestBodySent:
                    _sent = e.Timestamp;
                    Info($"Request body sent: {e.Size} bytes");
                    break;
                case SessionEventKind.FirstResponseByte:
                    _firstByte = e.Timestamp;
                    break;
                case SessionEventKind.InterimResponseReceived:
                    Lines("< ", e.Bytes.Span);
                    break;
                case SessionEventKind.ResponseHeadReceived:
                    if (includeHeads is not null) _lastHead = Encoding.Latin1.GetString(e.Bytes.Span);
                    Lines("< ", e.Bytes.Span);
                    break;
                case SessionEventKind.ResponseBodyDone:
                    // Printed after the body has gone to stdout (Flush), or before the next hop.
                    LastTiming = Timing(e.Timestamp);
                    _pending.Add($"Response body: {e.Size} bytes");
                    _pending.Add(LastTiming);
                    break;
                case SessionEventKind.Redirecting:
                    // -i -L: every hop's head goes to stdout, as curl does; the final one is printed by the command.
                    includeHeads?.Write(_lastHead);
                    includeHeads?.Flush();
                    FlushPending();
                    Info($"Following redirect ({e.StatusCode}) to {e.Uri}");
                    Reset(e.Timestamp);
                    break;
                case SessionEventKind.Retrying:
                    Info("The reused connection failed before any response: retrying once on a new connection");
                    break;
            }
        }
    }

    private static bool IsAddressLiteral(string? host) => host is not null && System.Net.IPAddress.TryParse(host, out _);

    /// <summary>Prints what waited for the body to be written: its size and the timing line.</summary>
    public void Flush()
    {
        lock (_lock) FlushPending();
    }

    private void FlushPending()
    {
        foreach (string line in _pending) Info(line);
        _pending.Clear();
    }

    private void Reset(long start)
    {
        _hopStart = start;
        _resolving = _resolved = _connecting = _tlsStarting = _tlsDone = _connected = _sent = _firstByte = 0;
    }

    private string Timing(long done)
    {
        // Phases of a reused connection have no DNS or connect time.
        double dns = _resolved > 0 ? Ms(_resolving, _resolved) : 0;
        // curl's "connect" ends with TCP; its "appconnect" (our TLS column, https only) with the handshake.
        double connect = _connecting > 0 && !_reused ? Ms(_connecting, _tlsStarting > 0 ? _tlsStarting : _connected) : 0;
        string tls = _tlsDone > 0 ? string.Create(CultureInfo.InvariantCulture, $", TLS {Ms(_tlsStarting, _tlsDone):0.###} ms") : "";
        double sent = Ms(_connected > 0 ? _connected : _hopStart, _sent);
        double firstByte = Ms(_sent, _firstByte);
        double transfer = Ms(_firstByte, done);
        double total = Ms(_hopStart, done);
        return string.Create(CultureInfo.InvariantCulture,
            $"Timing: DNS {dns:0.###} ms, connect {connect:0.###} ms{tls}, request sent {sent:0.###} ms, first byte {firstByte:0.###} ms, transfer {transfer:0.###} ms, total {total:0.###} ms");
    }

    private void PrintTls(TlsSessionInfo session)
    {
        Info($"TLS: {ProtocolName(session.Protocol)}, {session.CipherSuite}, ALPN {session.ApplicationProtocol ?? "none"}");
        if (session.ServerCertificate is not { } certificate)
        {
            Info("Server certificate: none");
            return;
        }
        Info($"Server certificate: subject {certificate.Subject}");
        Info($"  names: {session.ServerCertificateNames}");
        Info($"  issuer: {certificate.Issuer}");
        Info(string.Create(CultureInfo.InvariantCulture,
            $"  valid: {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC to {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC"));
        Info($"  SHA-256 fingerprint: {Convert.ToHexString(SHA256.HashData(certificate.RawData))}");
    }

    private static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };

    private static double Ms(long from, long to) => from == 0 || to < from ? 0 : Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private void Info(string text)
    {
        if (verbose) error.WriteLine($"* {text}");
    }

    private void Lines(string prefix, ReadOnlySpan<byte> head)
    {
        if (!verbose) return;
        string all = Encoding.Latin1.GetString(head);
        if (all.EndsWith("\r\n\r\n", StringComparison.Ordinal)) all = all[..^4];
        var text = new StringBuilder();
        foreach (string line in all.Split("\r\n")) text.Append(prefix).Append(line).Append('\n');
        text.Append(prefix.TrimEnd()).Append('\n');
        error.Write(text.ToString());
    }
}

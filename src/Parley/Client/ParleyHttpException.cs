namespace Parley.Client;

/// <summary>What went wrong in an exchange, coarse enough to act on (retry, report, map to an exit code).</summary>
public enum ParleyErrorKind
{
    /// <summary>The host name could not be resolved.</summary>
    NameResolutionFailed,
    /// <summary>No address of the host accepted a TCP connection.</summary>
    ConnectFailed,
    /// <summary>A connect, response-head, body-idle or whole-request timeout expired.</summary>
    Timeout,
    /// <summary>The response broke HTTP/1.1 syntax or framing (status line, fields, chunks, truncated body).</summary>
    MalformedResponse,
    /// <summary>The connection failed or was closed by the server while sending the request or waiting for the response head.</summary>
    ConnectionClosed,
    /// <summary>More redirects than <see cref="ParleyClientOptions.MaxRedirects"/>.</summary>
    TooManyRedirects,
    /// <summary>A redirect led back to a request already made in this chain.</summary>
    RedirectLoop,
    /// <summary>The server's certificate (or one in its chain) has expired or is not yet valid.</summary>
    CertificateNotTimeValid,
    /// <summary>The server's certificate does not name the host of the URL.</summary>
    CertificateNameMismatch,
    /// <summary>The server's certificate does not chain to a trusted root (self-signed, unknown CA, or another chain error).</summary>
    CertificateUntrusted,
    /// <summary>The TLS handshake failed for another reason (an alert from the server, a broken handshake, the connection closed).</summary>
    TlsHandshakeFailed,
    /// <summary>The client and the server have no TLS protocol version in common.</summary>
    TlsProtocolVersionMismatch,
    /// <summary>The server answered plain HTTP on an <c>https://</c> URL.</summary>
    PlainHttpFromTlsServer,
    /// <summary>The server accepted the connection but did not complete the TLS handshake in time (<see cref="ParleyClientOptions.TlsHandshakeTimeout"/>).</summary>
    TlsHandshakeTimeout,
}

/// <summary>
/// An exchange failed. The message names what was wrong and where, e.g.
/// <c>malformed status code from 127.0.0.1:8080: 'HTTP/1.1 2OO OK'</c>. Whenever this is thrown, the
/// connection involved has been closed, never returned to the pool.
/// </summary>
public sealed class ParleyHttpException : Exception
{
    /// <summary>Creates an exception of the given kind.</summary>
    public ParleyHttpException(ParleyErrorKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    /// <summary>The category of the failure.</summary>
    public ParleyErrorKind Kind { get; }

    /// <summary>True when nothing of the response had arrived, so an idempotent request may be retried.</summary>
    internal bool BeforeResponse { get; init; }
}

using System.Net;

namespace Parley.Client;

/// <summary>The phases of an exchange, in the order they happen.</summary>
public enum SessionEventKind
{
    /// <summary>Looking up <see cref="SessionEvent.Host"/>.</summary>
    Resolving,
    /// <summary>The host resolved to <see cref="SessionEvent.Addresses"/>.</summary>
    Resolved,
    /// <summary>Connecting to <see cref="SessionEvent.RemoteEndPoint"/>.</summary>
    Connecting,
    /// <summary>TCP connected to <see cref="SessionEvent.RemoteEndPoint"/>; the TLS handshake starts (https only).</summary>
    TlsHandshakeStarting,
    /// <summary>The TLS handshake completed; <see cref="SessionEvent.Tls"/> describes the session (https only).</summary>
    TlsHandshakeDone,
    /// <summary>A connection is ready: new or <see cref="SessionEvent.Reused"/> from the pool.</summary>
    Connected,
    /// <summary>The request head went out; <see cref="SessionEvent.Bytes"/> holds it exactly as sent.</summary>
    RequestHeadSent,
    /// <summary>The request body went out (<see cref="SessionEvent.Size"/> bytes, before chunk framing).</summary>
    RequestBodySent,
    /// <summary>The first byte of the response arrived.</summary>
    FirstResponseByte,
    /// <summary>An interim 1xx response (e.g. 100 Continue, 103 Early Hints) was received and skipped.</summary>
    InterimResponseReceived,
    /// <summary>The final response head arrived; <see cref="SessionEvent.Bytes"/> holds it as received.</summary>
    ResponseHeadReceived,
    /// <summary>The response body was read to its end (<see cref="SessionEvent.Size"/> bytes on the wire).</summary>
    ResponseBodyDone,
    /// <summary>A redirect is being followed to <see cref="SessionEvent.Uri"/>.</summary>
    Redirecting,
    /// <summary>An idempotent request failed on a reused connection before any response byte; retrying on a new one.</summary>
    Retrying,
}

/// <summary>
/// One step of an exchange, for tracing (<c>parley -v</c>). Only raised when an observer is set, so
/// tracing costs nothing otherwise. <see cref="Bytes"/> is valid only during the callback.
/// </summary>
public readonly struct SessionEvent
{
    /// <summary>What happened.</summary>
    public SessionEventKind Kind { get; init; }
    /// <summary>When, as <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>.</summary>
    public long Timestamp { get; init; }
    /// <summary>The request URI of this hop.</summary>
    public Uri? Uri { get; init; }
    /// <summary>The host name (Resolving, Resolved).</summary>
    public string? Host { get; init; }
    /// <summary>The addresses the host resolved to (Resolved).</summary>
    public IPAddress[]? Addresses { get; init; }
    /// <summary>The local end of the connection (Connected).</summary>
    public IPEndPoint? LocalEndPoint { get; init; }
    /// <summary>The server end of the connection (Connecting, Connected).</summary>
    public IPEndPoint? RemoteEndPoint { get; init; }
    /// <summary>True when a pooled connection was reused (Connected).</summary>
    public bool Reused { get; init; }
    /// <summary>How many requests the connection has carried, this one included (Connected).</summary>
    public int RequestNumberOnConnection { get; init; }
    /// <summary>The raw bytes of the head (RequestHeadSent, InterimResponseReceived, ResponseHeadReceived).</summary>
    public ReadOnlyMemory<byte> Bytes { get; init; }
    /// <summary>A byte count (RequestBodySent, ResponseBodyDone).</summary>
    public long Size { get; init; }
    /// <summary>The status code (InterimResponseReceived, ResponseHeadReceived, Redirecting).</summary>
    public int StatusCode { get; init; }
    /// <summary>The negotiated TLS session (TlsHandshakeDone).</summary>
    public TlsSessionInfo? Tls { get; init; }
}

/// <summary>Receives the <see cref="SessionEvent"/>s of exchanges. Called inline: keep it quick.</summary>
public interface ISessionObserver
{
    /// <summary>Called at each phase of an exchange.</summary>
    void OnEvent(in SessionEvent e);
}

using System.Net;
using Microsoft.Win32.SafeHandles;

namespace Parley.Server.Transport;

/// <summary>
/// The bytes of one accepted connection, as the connection loop needs them. Two implementations: the
/// portable one over <see cref="System.Net.Sockets.Socket"/>, and one on Linux epoll that runs
/// continuations inline on its event-loop thread (no thread-pool hop per request).
/// </summary>
internal abstract class ConnectionTransport : IDisposable
{
    public abstract IPEndPoint? RemoteEndPoint { get; }

    /// <summary>
    /// Bytes the owner received through this transport, counted by the owner as each receive completes
    /// (a socket's pooled operation offers no hook to count inside). On TLS these are the decrypted bytes,
    /// as nginx counts them. Written by the one operation in progress, read by anyone (the status page).
    /// </summary>
    public long BytesReceived;

    /// <summary>Bytes the owner sent through this transport, counted as <see cref="BytesReceived"/> is.</summary>
    public long BytesSent;

    public abstract IPEndPoint? LocalEndPoint { get; }

    /// <summary>Receives into <paramref name="buffer"/>; 0 when the peer closed its side.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Completes when bytes (or the peer's close) can be received, without holding a buffer meanwhile.</summary>
    /// <remarks>
    /// The result is always 0. It is a <see cref="ValueTask{TResult}"/> so that the Socket transport can hand
    /// out Socket's own pooled operation, with no wrapper allocated per wait, and so that a zero-byte
    /// <see cref="Stream"/> read (<see cref="TransportStream"/>, under SslStream) can return it as it is.
    /// </remarks>
    public abstract ValueTask<int> WaitForDataAsync();

    /// <summary>What <see cref="TryReceiveNow"/> returns when nothing has arrived.</summary>
    public const int NothingArrived = -1;

    /// <summary>What <see cref="TryReceiveNow"/> returns when this transport cannot receive without waiting.</summary>
    public const int MustWait = -2;

    /// <summary>
    /// Receives what has arrived, without waiting for more: the byte count, 0 when the peer closed its side,
    /// or <see cref="NothingArrived"/>. A transport that cannot tell without waiting returns
    /// <see cref="MustWait"/> (TLS: SslStream reads whole records, and carries an empty wake of the
    /// wait under it on by itself), and the caller receives as usual.
    /// </summary>
    /// <remarks>
    /// For the read after <see cref="WaitForDataAsync"/>, which may end with nothing to read: Socket's
    /// zero-byte receive completes on an epoll readiness report without a receive of its own (dotnet/corefx
    /// PR 28098), and a report can be for bytes an earlier receive already took. A receive started then
    /// would wait, holding a buffer, for a request that is not on its way.
    /// </remarks>
    public virtual int TryReceiveNow(Span<byte> buffer) => MustWait;

    /// <summary>
    /// Whether bytes the peer sent are waiting to be received (not the peer's close alone). Asked from any
    /// thread, by a graceful stop about a connection it finds idle: a request sent before the stop began
    /// is answered, not dropped with the connection.
    /// </summary>
    public abstract bool HasUnreadBytes { get; }

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    /// <remarks>The result carries nothing (a <see cref="ValueTask{TResult}"/> for the reason given at <see cref="WaitForDataAsync"/>).</remarks>
    public abstract ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends all of <paramref name="prefix"/>, then <paramref name="length"/> bytes of a file from
    /// <paramref name="offset"/> with the kernel copying the pages (sendfile(2)); fails with
    /// <see cref="IOException"/> when the file ends early. The prefix (a response head) is held back until
    /// file bytes can share its segments, rather than pushed out alone.
    /// </summary>
    public abstract ValueTask SendFileAsync(ReadOnlyMemory<byte> prefix, SafeFileHandle file, long offset, int length, CancellationToken cancellationToken);

    /// <summary>Sends all of <paramref name="data"/>, blocking the calling thread while the peer is slow.</summary>
    public abstract void SendBlocking(ReadOnlySpan<byte> data);

    /// <summary>Sends what fits without waiting; errors are ignored (used for last words such as 408).</summary>
    public abstract void TrySendNow(ReadOnlySpan<byte> data);

    /// <summary>
    /// Calls <paramref name="onClosed"/> once if the peer closes or resets the connection before
    /// <see cref="StopPeerWatch"/>, while nothing else reads from it (a handler is running and the request
    /// body has been read). Bytes that arrive meanwhile (a pipelined request) end the watch without a call.
    /// A transport that cannot watch does nothing: the close is then noticed at the next read or write.
    /// </summary>
    public virtual void WatchPeer(Action onClosed)
    {
    }

    /// <summary>Ends a watch started by <see cref="WatchPeer"/>; the callback is not called after this returns on the connection's own thread.</summary>
    public virtual void StopPeerWatch()
    {
    }

    /// <summary>Half-closes: no more bytes will be sent.</summary>
    public abstract void ShutdownSend();

    /// <summary>Shuts both directions so that pending operations end; safe from any thread, idempotent.</summary>
    public abstract void Abort();

    /// <summary>
    /// Ends the connection once its loop is done with it: wakes anything still pending, then releases the
    /// descriptor. Called once, by the connection's own loop.
    /// </summary>
    public virtual void Close()
    {
        Abort();
        Dispose();
    }

    /// <summary>Releases the connection's descriptor; called once, by the connection's own loop.</summary>
    public abstract void Dispose();
}

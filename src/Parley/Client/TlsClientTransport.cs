using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using Parley.Server.Transport;

namespace Parley.Client;

/// <summary>
/// The client's TLS: a <see cref="ConnectionTransport"/> whose bytes go through <see cref="SslStream"/>,
/// which reads and writes the transport under it (portable or epoll) through <see cref="TransportStream"/> (the server's TLS uses it too). The
/// connection above sends and receives plaintext and does not know the difference. This is mechanism
/// only: which certificates to trust and what to send is decided by <see cref="ClientTlsPolicy"/>, which
/// hands the handshake its options and interprets its failure.
/// On the epoll transport SslStream's reads complete on the loop thread, as plain reads do.
/// </summary>
internal sealed class TlsClientTransport : ConnectionTransport
{
    private const int FileChunkSize = 16 * 1024;

    private readonly ConnectionTransport _inner;
    private readonly TransportStream _raw;

    public TlsClientTransport(ConnectionTransport inner)
    {
        _inner = inner;
        _raw = new TransportStream(inner, keepFirstBytes: true);
        Ssl = new SslStream(_raw, leaveInnerStreamOpen: true);
    }

    /// <summary>The TLS engine; the policy reads the negotiated session from it.</summary>
    public SslStream Ssl { get; }

    /// <summary>The first bytes the server sent (up to 16), to tell a plain-HTTP answer from a TLS record.</summary>
    public ReadOnlySpan<byte> FirstBytesReceived => _raw.FirstBytes;

    public override IPEndPoint? RemoteEndPoint => _inner.RemoteEndPoint;

    public override IPEndPoint? LocalEndPoint => _inner.LocalEndPoint;

    public override bool HasUnreadBytes => _inner.HasUnreadBytes;

    /// <summary>Runs the client side of the handshake with options the policy prepared.</summary>
    public Task HandshakeAsync(SslClientAuthenticationOptions options, CancellationToken cancellationToken) =>
        Ssl.AuthenticateAsClientAsync(options, cancellationToken);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Ssl.ReadAsync(buffer, cancellationToken);

    // The peer's close is a TCP event: the transport under TLS watches for it.
    public override void WatchPeer(Action onClosed) => _inner.WatchPeer(onClosed);

    public override void StopPeerWatch() => _inner.StopPeerWatch();

    // A zero-byte read goes down to TransportStream, which waits for the transport without a buffer.
    public override ValueTask<int> WaitForDataAsync() => Ssl.ReadAsync(Memory<byte>.Empty);

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ValueTask write = Ssl.WriteAsync(data, cancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            return default;
        }
        return AwaitWrite(write);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        static async ValueTask<int> AwaitWrite(ValueTask pending)
        {
            await pending.ConfigureAwait(false);
            return 0;
        }
    }

    /// <summary>TLS leaves no room for sendfile(2): the file is read and encrypted chunk by chunk.</summary>
    public override async ValueTask SendFileAsync(ReadOnlyMemory<byte> prefix, SafeFileHandle file, long offset, int length, CancellationToken cancellationToken)
    {
        if (!prefix.IsEmpty) await Ssl.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
        byte[] chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(FileChunkSize);
        try
        {
            while (length > 0)
            {
                int read = await RandomAccess.ReadAsync(file, chunk.AsMemory(0, Math.Min(length, FileChunkSize)), offset, cancellationToken).ConfigureAwait(false);
                if (read == 0) throw new IOException("the file ended before the region that was announced");
                await Ssl.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                offset += read;
                length -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    public override void SendBlocking(ReadOnlySpan<byte> data) => Ssl.Write(data.ToArray());

    public override void TrySendNow(ReadOnlySpan<byte> data)
    {
        try
        {
            SendBlocking(data);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Last words only; the connection is ending anyway.
        }
    }

    // RFC 8446 §6.1: close_notify before the half-close, so the server can tell an end from a truncation.
    public override void ShutdownSend()
    {
        try
        {
            Ssl.ShutdownAsync().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        _inner.ShutdownSend();
    }

    // A handshake timeout or cancellation ends the handshake this way, as well as an exchange's.
    public override void Abort() => _inner.Abort();

    public override void Dispose()
    {
        Ssl.Dispose();
        // Close, not Dispose: a read SslStream still has pending (a read-ahead) is woken first.
        _inner.Close();
    }
}

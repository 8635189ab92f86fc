using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace Parley.Server.Transport;

/// <summary>
/// TLS over another transport: the connection reads and writes plaintext through it and does not care.
/// <see cref="SslStream"/> does the protocol, reading and writing the transport through a
/// <see cref="TransportStream"/>, so its operations complete where the transport's do (inline on an epoll
/// loop). The handshake comes first (<see cref="HandshakeAsync"/>); a client that speaks plain HTTP instead
/// is told so in plain HTTP, and the transport then stays plain for the connection's last moments.
/// </summary>
internal sealed class TlsTransport : ConnectionTransport
{
    // RFC 8446 §5.1: every TLS connection opens with a handshake record, content type 22.
    private const byte HandshakeRecord = 0x16;
    private const int FileChunkSize = 16 * 1024;

    private readonly ConnectionTransport _inner;
    private readonly TransportStream _stream;
    private readonly SslStream _ssl;
    private readonly TlsListener _listener;
    private bool _plain;
    private bool _closeNotifySent;
    private volatile bool _aborted;

    public TlsTransport(ConnectionTransport inner, TlsListener listener)
    {
        _inner = inner;
        _listener = listener;
        _stream = new TransportStream(inner);
        _ssl = new SslStream(_stream, leaveInnerStreamOpen: true);
    }

    /// <summary>The transport TLS runs over (a PROXY protocol header is read from it before the handshake).</summary>
    public ConnectionTransport Inner => _inner;

    /// <summary>The negotiated session, once the handshake succeeded.</summary>
    public TlsSession? Session { get; private set; }

    public TimeSpan HandshakeTimeout => _listener.HandshakeTimeout;

    /// <summary>True once SslStream read the client's ClientHello and asked for the options to answer it.</summary>
    public bool ClientHelloRead { get; private set; }

    public override IPEndPoint? RemoteEndPoint => _inner.RemoteEndPoint;

    public override IPEndPoint? LocalEndPoint => _inner.LocalEndPoint;

    // Records waiting on the socket: the next request (or the client's close_notify, which ends it anyway).
    public override bool HasUnreadBytes => _inner.HasUnreadBytes;

    public enum HandshakeResult { Secure, PlainHttp, Closed }

    /// <summary>
    /// Runs the server side of the handshake. Looks at the first byte first (one byte is received, then
    /// given back to SslStream): anything but a handshake record is a client speaking plain HTTP to this
    /// port, and gets <see cref="HandshakeResult.PlainHttp"/> with nothing sent (the caller answers it).
    /// </summary>
    public async ValueTask<HandshakeResult> HandshakeAsync()
    {
        byte[] first = new byte[1];
        int received = await _inner.ReceiveAsync(first).ConfigureAwait(false);
        if (received == 0) return HandshakeResult.Closed;
        if (first[0] != HandshakeRecord)
        {
            _plain = true;
            return HandshakeResult.PlainHttp;
        }
        _stream.Unread(first[0]);
        await _ssl.AuthenticateAsServerAsync(static (stream, hello, state, _) =>
        {
            var transport = (TlsTransport)state!;
            transport.ClientHelloRead = true;
            return ValueTask.FromResult(transport._listener.OptionsFor(hello.ServerName));
        }, this).ConfigureAwait(false);
        Session = new TlsSession(_ssl);
        return HandshakeResult.Secure;
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _plain ? _inner.ReceiveAsync(buffer, cancellationToken) : _ssl.ReadAsync(buffer, cancellationToken);

    // SslStream passes a zero-byte read down (TransportStream waits on the transport) and rents its
    // buffer only when a record arrives, which it decrypts and keeps for the receive that follows.
    // The peer's close is a TCP event: the transport under TLS watches for it.
    public override void WatchPeer(Action onClosed) => _inner.WatchPeer(onClosed);

    public override void StopPeerWatch() => _inner.StopPeerWatch();

    public override ValueTask<int> WaitForDataAsync() => _ssl.ReadAsync(Memory<byte>.Empty);

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_plain) return _inner.SendAsync(data, cancellationToken);
        ValueTask write = _ssl.WriteAsync(data, cancellationToken);
        if (!write.IsCompletedSuccessfully) return AwaitWriteAsync(write, data.Length);
        write.GetAwaiter().GetResult();
        return new(data.Length);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AwaitWriteAsync(ValueTask write, int length)
    {
        await write.ConfigureAwait(false);
        return length;
    }

    // No sendfile(2) under TLS: the file's bytes must be encrypted, so they are read and written in records.
    public override async ValueTask SendFileAsync(ReadOnlyMemory<byte> prefix, SafeFileHandle file, long offset, int length, CancellationToken cancellationToken)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(FileChunkSize);
        try
        {
            // The head goes with the first file bytes, in one record when they fit.
            int headLength = Math.Min(prefix.Length, chunk.Length / 2);
            if (headLength < prefix.Length)
            {
                await _ssl.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
                headLength = 0;
            }
            else
            {
                prefix.CopyTo(chunk);
            }
            while (length > 0 || headLength > 0)
            {
                int read = 0;
                if (length > 0)
                {
                    read = await RandomAccess.ReadAsync(file, chunk.AsMemory(headLength, Math.Min(length, chunk.Length - headLength)), offset, cancellationToken).ConfigureAwait(false);
                    if (read == 0) throw new IOException("the file ended before the region that was announced");
                }
                await _ssl.WriteAsync(chunk.AsMemory(0, headLength + read), cancellationToken).ConfigureAwait(false);
                offset += read;
                length -= read;
                headLength = 0;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    public override void SendBlocking(ReadOnlySpan<byte> data)
    {
        if (_plain) _inner.SendBlocking(data);
        else _ssl.Write(data);
    }

    public override void TrySendNow(ReadOnlySpan<byte> data)
    {
        if (_plain || Session is null)
        {
            // Before the handshake ended there is no session to encrypt with: nothing is sent.
            if (_plain) _inner.TrySendNow(data);
            return;
        }
        _stream.WritesMustNotWait = true;
        try
        {
            _ssl.Write(data);
        }
        catch (Exception ex) when (ex is IOException or NotSupportedException or ObjectDisposedException or InvalidOperationException)
        {
            // A write in progress, or a peer that went away: the last word is dropped.
        }
    }

    /// <summary>Sends TLS's close_notify (RFC 8446 §6.1), then half-closes the connection.</summary>
    public override void ShutdownSend()
    {
        SendCloseNotify();
        _inner.ShutdownSend();
    }

    // RFC 8446 §6.1: each party sends close_notify before closing its write side, so that the peer can tell
    // the end of the data from a truncation (OpenSSL 3 clients report "unexpected eof" otherwise). Sent only
    // when it can leave at once: a connection closing is never held up by a peer that does not read.
    private void SendCloseNotify()
    {
        if (_plain || Session is null || _closeNotifySent || _aborted) return;
        _closeNotifySent = true;
        try
        {
            Task shutdown = _ssl.ShutdownAsync();
            if (!shutdown.IsCompleted) shutdown.ContinueWith(static task => _ = task.Exception, TaskScheduler.Default);
            else _ = shutdown.Exception;
        }
        catch (Exception ex) when (ex is IOException or NotSupportedException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    public override void Abort()
    {
        _aborted = true;
        _inner.Abort();
    }

    public override void Close()
    {
        SendCloseNotify();
        _inner.Close();
        // Frees the native TLS state; the transport under it is already closed.
        _ssl.Dispose();
    }

    public override void Dispose()
    {
        _inner.Dispose();
        _ssl.Dispose();
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Parley.Server;
using Parley.Server.Transport;

namespace Parley.Tests.Server;

/// <summary>
/// The server's TLS transport below the connection, against a loopback <see cref="SslStream"/> client: a
/// file region sent through TLS chunk by chunk (the head joining the first file bytes when it fits in half
/// a chunk), the blocking and last-word sends, plain HTTP on the TLS port, and the ends of a connection
/// (close_notify before the FIN). The client's reads are recorded as they came off
/// the wire, so that the records themselves can be looked at.
/// </summary>
public sealed class TlsTransportTests : IAsyncLifetime
{
    // The transport reads and encrypts a file in chunks of this size.
    private const int Chunk = 16 * 1024;

    private static readonly TimeSpan HangBound = ServerTiming.HangBound;

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"parley-tls-transport-{Guid.NewGuid():N}.bin");
    private readonly byte[] _file = RandomNumberGenerator.GetBytes(100_000);
    private readonly List<IDisposable> _owned = [];

    public Task InitializeAsync() => File.WriteAllBytesAsync(_path, _file);

    public Task DisposeAsync()
    {
        foreach (IDisposable owned in _owned) owned.Dispose();
        File.Delete(_path);
        return Task.CompletedTask;
    }

    /// <summary>One connection: the server's transport, the client's TLS stream and what the client read raw.</summary>
    private sealed record Pair(TlsTransport Server, SslStream Client, Socket ClientSocket, RecordingStream Raw)
    {
        /// <summary>Everything the client decrypts until the TLS stream ends (close_notify, or the TCP end).</summary>
        public async Task<byte[]> ReadToEndAsync()
        {
            var received = new MemoryStream();
            await Client.CopyToAsync(received).WaitAsync(HangBound);
            return received.ToArray();
        }

        /// <summary>The content types of the TLS records the client received, in order.</summary>
        public List<byte> RecordTypes() => Raw.RecordTypes();
    }

    // With small buffers, a client that does not read fills them at once.
    private async Task<(TlsTransport Server, Socket Client)> ConnectAsync(bool smallBuffers = false)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _owned.Add(client);
        if (smallBuffers) client.ReceiveBufferSize = 4096;
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket accepted = await listener.AcceptAsync();
        if (smallBuffers) accepted.SendBufferSize = 4096;
        var server = new TlsTransport(new SocketTransport(accepted), new TlsListener(TestServer.TestTlsOptions()));
        _owned.Add(server);
        return (server, client);
    }

    // TLS 1.2 keeps a record's content type in the clear, so that an alert (close_notify) can be told from data.
    private async Task<Pair> OpenAsync(SslProtocols protocols = SslProtocols.None, bool smallBuffers = false)
    {
        (TlsTransport server, Socket socket) = await ConnectAsync(smallBuffers);
        var raw = new RecordingStream(new NetworkStream(socket, ownsSocket: false));
        var client = new SslStream(raw);
        _owned.Add(client);
        ValueTask<TlsTransport.HandshakeResult> handshake = server.HandshakeAsync();
        await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocols,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        }).WaitAsync(HangBound);
        Assert.Equal(TlsTransport.HandshakeResult.Secure, await handshake.AsTask().WaitAsync(HangBound));
        raw.Clear();
        return new Pair(server, client, socket, raw);
    }

    // A client that speaks plain HTTP to the TLS port: the transport stays plain.
    private async Task<(TlsTransport Server, Socket Client)> OpenPlainAsync()
    {
        (TlsTransport server, Socket client) = await ConnectAsync();
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal(TlsTransport.HandshakeResult.PlainHttp, await server.HandshakeAsync().AsTask().WaitAsync(HangBound));
        return (server, client);
    }

    private static async Task<string> ReadPlainToEndAsync(Socket client)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(HangBound);
        int n;
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0) all.Write(buffer, 0, n);
        return Encoding.ASCII.GetString(all.ToArray());
    }

    private static byte[] Head(int length)
    {
        // A response head of exactly this length, with a filler field to make it up.
        const string Start = "HTTP/1.1 200 OK\r\nX-Fill: ", End = "\r\n\r\n";
        if (length < Start.Length + End.Length) return Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n\r\n"[..length]);
        return Encoding.ASCII.GetBytes(Start + new string('f', length - Start.Length - End.Length) + End);
    }

    // On a thread of its own, so that a send that never ends fails the test at the bound instead of holding it.
    private static Task SendFileAsync(Pair pair, byte[] head, SafeFileHandle file, long offset, int length) =>
        Task.Run(() => pair.Server.SendFileAsync(head, file, offset, length, CancellationToken.None).AsTask()).WaitAsync(HangBound);

    [Theory]
    // A small head and file bytes: filling the first chunk exactly, one byte over it, several chunks from an offset.
    [InlineData(19, 0, Chunk - 19)]
    [InlineData(19, 0, Chunk - 18)]
    [InlineData(19, 1_000, 40_000)]
    // A head of exactly half a chunk still travels with the first file bytes; one byte more goes ahead alone.
    [InlineData(Chunk / 2, 7, Chunk / 2)]
    [InlineData(Chunk / 2, 7, Chunk / 2 + 1)]
    [InlineData(Chunk / 2 + 1, 7, Chunk / 2)]
    [InlineData(Chunk / 2 + 1, 7, 3 * Chunk)]
    // A head larger than a whole chunk, then a file region that ends well before the file does.
    [InlineData(Chunk + 1_000, 50, 10)]
    [InlineData(0, 123, 10)]
    public async Task A_file_region_goes_out_after_its_head_intact(int headLength, int offset, int length)
    {
        Pair pair = await OpenAsync();
        byte[] head = Head(headLength);
        using (var file = File.OpenHandle(_path, options: FileOptions.Asynchronous))
        {
            await SendFileAsync(pair, head, file, offset, length);
        }
        pair.Server.ShutdownSend();

        byte[] expected = [.. head, .. _file.AsSpan(offset, length)];
        Assert.Equal(expected, await pair.ReadToEndAsync());
    }

    [Theory]
    // The head and the file bytes fill one record (16 KiB of plaintext, the most a record holds): one record.
    [InlineData(19, Chunk - 19, 1)]
    [InlineData(Chunk / 2, Chunk / 2, 1)]
    // A head over half a chunk has a record of its own, and the file bytes follow in theirs.
    [InlineData(Chunk / 2 + 1, Chunk / 2, 2)]
    public async Task A_head_that_fits_in_half_a_chunk_shares_its_record_with_the_first_file_bytes(int headLength, int length, int records)
    {
        // TLS 1.2: the records' content types are in the clear, so data records can be counted.
        Pair pair = await OpenAsync(SslProtocols.Tls12);
        byte[] head = Head(headLength);
        using (var file = File.OpenHandle(_path, options: FileOptions.Asynchronous))
        {
            await SendFileAsync(pair, head, file, 0, length);
        }
        pair.Server.ShutdownSend();

        byte[] expected = [.. head, .. _file.AsSpan(0, length)];
        Assert.Equal(expected, await pair.ReadToEndAsync());
        Assert.Equal([.. Enumerable.Repeat(ApplicationData, records), Alert], pair.RecordTypes());
    }

    [Fact]
    public async Task Two_regions_one_after_the_other_arrive_in_order()
    {
        Pair pair = await OpenAsync();
        byte[] head = Head(40);
        using (var file = File.OpenHandle(_path, options: FileOptions.Asynchronous))
        {
            await SendFileAsync(pair, head, file, 60_000, 30_000);
            await SendFileAsync(pair, [], file, 0, 20_000);
        }
        pair.Server.ShutdownSend();

        byte[] expected = [.. head, .. _file.AsSpan(60_000, 30_000), .. _file.AsSpan(0, 20_000)];
        Assert.Equal(expected, await pair.ReadToEndAsync());
    }

    [Fact]
    public async Task A_region_past_the_end_of_the_file_is_an_error_naming_it()
    {
        Pair pair = await OpenAsync();
        using var file = File.OpenHandle(_path, options: FileOptions.Asynchronous);

        var ex = await Assert.ThrowsAsync<IOException>(() =>
            SendFileAsync(pair, Head(19), file, _file.Length - 50, 100));

        Assert.Equal("the file ended before the region that was announced", ex.Message);
    }

    [Fact]
    public async Task A_blocking_send_is_encrypted()
    {
        Pair pair = await OpenAsync();

        pair.Server.SendBlocking("HTTP/1.1 204 No Content\r\n\r\n"u8);
        pair.Server.ShutdownSend();

        Assert.Equal("HTTP/1.1 204 No Content\r\n\r\n", Encoding.ASCII.GetString(await pair.ReadToEndAsync()));
    }

    [Fact]
    public async Task Last_words_are_encrypted_and_after_the_close_notify_they_are_dropped_without_an_error()
    {
        Pair pair = await OpenAsync();

        pair.Server.TrySendNow("HTTP/1.1 408 Request Timeout\r\n\r\n"u8);
        pair.Server.ShutdownSend();
        // The stream is shut down: a later last word has nothing to go out on.
        pair.Server.TrySendNow("too late"u8);

        Assert.Equal("HTTP/1.1 408 Request Timeout\r\n\r\n", Encoding.ASCII.GetString(await pair.ReadToEndAsync()));
    }

    [Fact]
    public async Task Last_words_to_a_peer_that_does_not_read_do_not_wait_for_it()
    {
        Pair pair = await OpenAsync(smallBuffers: true);

        // Far more than the buffers hold, in records that each go to the transport's send without waiting
        // (a bound on a hang only: the call returns at once).
        await Task.Run(() => pair.Server.TrySendNow(new byte[8 * 1024 * 1024])).WaitAsync(HangBound);
    }

    [Fact]
    public async Task Last_words_while_a_write_waits_on_a_peer_that_does_not_read_are_dropped_without_an_error()
    {
        Pair pair = await OpenAsync(smallBuffers: true);
        // A response far larger than the buffers: its write waits for a reader that never comes.
        ValueTask<int> pending = pair.Server.SendAsync(new byte[8 * 1024 * 1024]);
        Assert.False(pending.IsCompleted);

        // TLS cannot put a record in the middle of another: the last word is dropped.
        pair.Server.TrySendNow("HTTP/1.1 408 Request Timeout\r\n\r\n"u8);
    }

    [Fact]
    public async Task Last_words_on_a_disposed_transport_are_dropped_without_an_error()
    {
        Pair pair = await OpenAsync();

        pair.Server.Dispose();
        pair.Server.TrySendNow("too late"u8);

        // Disposing closed the connection: the client reads its end.
        Assert.Empty(await pair.ReadToEndAsync());
    }

    [Fact]
    public async Task Plain_http_on_the_tls_port_is_answered_in_plain_text_by_every_kind_of_send()
    {
        (TlsTransport server, Socket client) = await OpenPlainAsync();

        await server.SendAsync("one "u8.ToArray());
        server.SendBlocking("two "u8);
        server.TrySendNow("three"u8);
        server.ShutdownSend();

        Assert.Equal("one two three", await ReadPlainToEndAsync(client));
    }

    private const byte Alert = 21, ApplicationData = 23;

    [Fact]
    public async Task The_half_close_sends_close_notify_and_then_ends_the_tcp_stream()
    {
        Pair pair = await OpenAsync(SslProtocols.Tls12);

        await pair.Server.SendAsync("last response"u8.ToArray());
        pair.Server.ShutdownSend();

        // RFC 8446 §6.1: the data, then close_notify (an alert record), then the TCP end behind it.
        Assert.Equal("last response"u8.ToArray(), await pair.ReadToEndAsync());
        Assert.Equal([ApplicationData, Alert], pair.RecordTypes());
        Assert.Equal(0, await pair.ClientSocket.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(HangBound));
    }

    [Fact]
    public async Task Closing_sends_close_notify_before_the_connection_ends()
    {
        Pair pair = await OpenAsync(SslProtocols.Tls12);

        await pair.Server.SendAsync("last response"u8.ToArray());
        pair.Server.Close();

        Assert.Equal("last response"u8.ToArray(), await pair.ReadToEndAsync());
        Assert.Equal([ApplicationData, Alert], pair.RecordTypes());
    }

    /// <summary>A stream that keeps a copy of every byte read through it.</summary>
    private sealed class RecordingStream(Stream inner) : Stream
    {
        private readonly List<byte> _read = [];

        public void Clear()
        {
            lock (_read) _read.Clear();
        }

        public List<byte> RecordTypes()
        {
            var types = new List<byte>();
            lock (_read)
            {
                // RFC 8446 §5.1 / RFC 5246 §6.2.1: type (1), version (2), length (2), then the fragment.
                for (int i = 0; i + 5 <= _read.Count; i += 5 + ((_read[i + 3] << 8) | _read[i + 4])) types.Add(_read[i]);
            }
            return types;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await inner.ReadAsync(buffer, cancellationToken);
            lock (_read) _read.AddRange(buffer.Span[..n].ToArray());
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

using System.Buffers;
using Parley.Http1;

namespace Parley.Server;

/// <summary>
/// Everything one request/response exchange needs (head, request and response objects, output buffer,
/// chunked decoder). A connection holds one only while it has a request to answer; between requests it
/// goes back to the server's pool, so an idle keep-alive connection costs little more than its socket.
/// </summary>
internal sealed class Exchange
{
    public Exchange()
    {
        Request = new HttpRequest(Head);
        Response = new HttpResponse();
    }

    public RequestHead Head { get; } = new();

    public HttpRequest Request { get; }

    public HttpResponse Response { get; }

    /// <summary>Rents its array at the first write; keeps it while pooled only as one of the kept few (see <see cref="ExchangePool"/>).</summary>
    public ByteBuffer Output { get; } = new(0);

    /// <summary>The size of the receive buffer a connection takes up with the exchange.</summary>
    public const int ReceiveBufferSize = 4096;

    private byte[]? _receiveBuffer;

    /// <summary>
    /// The receive buffer for the connection that takes up this exchange: the one kept while pooled, or a
    /// new rental. Given back with <see cref="KeepReceiveBuffer"/> when the connection goes idle.
    /// </summary>
    public byte[] TakeReceiveBuffer()
    {
        byte[]? buffer = _receiveBuffer;
        _receiveBuffer = null;
        return buffer ?? ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    }

    /// <summary>True while the exchange keeps a receive buffer for the next connection.</summary>
    internal bool HoldsReceiveBuffer => _receiveBuffer is not null;

    /// <summary>Takes back a connection's receive buffer (empty of requests); one grown larger goes back to the array pool.</summary>
    public void KeepReceiveBuffer(byte[] buffer)
    {
        if (_receiveBuffer is null && buffer.Length == ReceiveBufferSize) _receiveBuffer = buffer;
        else ArrayPool<byte>.Shared.Return(buffer);
    }

    public ByteBuffer? BodyBuffer { get; set; }

    public ChunkedDecoder? Chunked { get; set; }

    public void Bind(HttpConnection? connection)
    {
        Request.Connection = connection;
        Response.Connection = connection;
    }

    /// <summary>
    /// Drops what the last exchange left, so that nothing of it reaches the next connection. The empty
    /// output and receive arrays stay (see <see cref="ReleaseArrays"/>).
    /// </summary>
    public void Clean()
    {
        Output.Clear();
        BodyBuffer?.Clear();
        BodyBuffer?.ReleaseIfEmpty();
        Head.Reset();
        Request.Reset();
        Response.Reset();
        Bind(null);
    }

    /// <summary>Gives the empty output and receive arrays back to the array pool.</summary>
    public void ReleaseArrays()
    {
        Output.ReleaseIfEmpty();
        if (_receiveBuffer is { } buffer)
        {
            _receiveBuffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// A bounded pool of <see cref="Exchange"/> objects shared by a server's connections. Up to
/// <see cref="KeptWithBuffers"/> pooled exchanges keep their output and receive arrays and are handed out
/// first, so that in steady state a connection taking up a request makes no array-pool round trips; the
/// others hold no arrays, so that a burst of busy connections leaves little memory behind.
/// </summary>
internal sealed class ExchangePool(int maxRetained)
{
    /// <summary>How many pooled exchanges keep their arrays: 64 × 8 KiB at most.</summary>
    public const int KeptWithBuffers = 64;

    private readonly Stack<Exchange> _kept = new();
    private readonly Stack<Exchange> _bare = new();
    // Taken by every request's rent and return, so a gate rather than a lock (see SpinGate).
    private SpinGate _gate;
    // The kept few count against the pool's bound like the others.
    private readonly int _keptLimit = Math.Min(KeptWithBuffers, maxRetained);

    public Exchange Rent()
    {
        Exchange? exchange;
        _gate.Enter();
        try
        {
            if (!_kept.TryPop(out exchange)) _bare.TryPop(out exchange);
        }
        finally
        {
            _gate.Exit();
        }
        return exchange ?? new Exchange();
    }

    public void Return(Exchange exchange)
    {
        exchange.Clean();
        if (TryPush(_kept, exchange, _keptLimit)) return;
        // Released before it is pushed: once in the pool, another connection may take it at once.
        exchange.ReleaseArrays();
        TryPush(_bare, exchange, maxRetained - _keptLimit);
    }

    private bool TryPush(Stack<Exchange> stack, Exchange exchange, int limit)
    {
        _gate.Enter();
        try
        {
            if (stack.Count >= limit) return false;
            stack.Push(exchange);
            return true;
        }
        finally
        {
            _gate.Exit();
        }
    }
}

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

    /// <summary>Holds no array while pooled: the first write rents one.</summary>
    public ByteBuffer Output { get; } = new(0);

    public ByteBuffer? BodyBuffer { get; set; }

    public ChunkedDecoder? Chunked { get; set; }

    public void Bind(HttpConnection? connection)
    {
        Request.Connection = connection;
        Response.Connection = connection;
    }

    /// <summary>Drops what the last exchange left, so that nothing of it reaches the next connection.</summary>
    public void Clean()
    {
        Output.Clear();
        Output.ReleaseIfEmpty();
        BodyBuffer?.Clear();
        BodyBuffer?.ReleaseIfEmpty();
        Head.Reset();
        Request.Reset();
        Response.Reset();
        Bind(null);
    }
}

/// <summary>A bounded pool of <see cref="Exchange"/> objects shared by a server's connections.</summary>
internal sealed class ExchangePool(int maxRetained)
{
    private readonly Stack<Exchange> _free = new();

    public Exchange Rent()
    {
        lock (_free)
        {
            if (_free.TryPop(out Exchange? exchange)) return exchange;
        }
        return new Exchange();
    }

    public void Return(Exchange exchange)
    {
        exchange.Clean();
        lock (_free)
        {
            if (_free.Count < maxRetained) _free.Push(exchange);
        }
    }
}

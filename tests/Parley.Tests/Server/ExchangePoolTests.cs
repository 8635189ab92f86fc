using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The exchange pool: a few pooled exchanges keep their arrays and are handed out first, the rest keep
/// none (our design: no array-pool round trips per request in steady state, little memory after a burst).
/// </summary>
public class ExchangePoolTests
{
    private static Exchange WithBuffer(ExchangePool pool)
    {
        Exchange exchange = pool.Rent();
        exchange.KeepReceiveBuffer(exchange.TakeReceiveBuffer());
        return exchange;
    }

    [Fact]
    public async Task A_connection_that_ends_in_the_middle_of_a_request_gives_its_exchange_back()
    {
        var seen = new List<HttpRequest>();
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(async (request, response) =>
        {
            lock (seen) seen.Add(request);
            reading.TrySetResult();
            byte[] body = await request.ReadBodyAsync(1024);
            response.WriteText($"got {body.Length}");
        });
        await using (RawConnection leaving = await server.ConnectAsync())
        {
            await leaving.SendAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
            await reading.Task.WaitAsync(ServerTiming.HangBound);
            // A reset while the handler waits for the rest of the body: the connection ends with its exchange.
            leaving.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            leaving.Socket.Close();
        }
        Assert.True(await Hardening.Hostile.WaitUntilAsync(() => server.Server.ConnectionCount == 0, ServerTiming.HangBound));
        // The only connection since: it takes the exchange the ended one gave back (request object and all).
        await using RawConnection next = await server.ConnectAsync();
        await next.SendAsync("POST /next HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
        Assert.Equal("got 2", (await next.ReadResponseAsync()).BodyText);
        lock (seen) Assert.Same(seen[0], seen[1]);
    }

    [Fact]
    public void A_returned_exchange_comes_back_with_the_same_receive_buffer()
    {
        var pool = new ExchangePool(maxRetained: 1024);
        Exchange exchange = pool.Rent();
        byte[] buffer = exchange.TakeReceiveBuffer();
        Assert.Equal(Exchange.ReceiveBufferSize, buffer.Length);
        exchange.KeepReceiveBuffer(buffer);
        pool.Return(exchange);

        Exchange again = pool.Rent();
        Assert.Same(exchange, again);
        Assert.Same(buffer, again.TakeReceiveBuffer());
        Assert.False(again.HoldsReceiveBuffer);
    }

    [Fact]
    public void A_grown_receive_buffer_is_not_kept()
    {
        var exchange = new Exchange();
        exchange.KeepReceiveBuffer(new byte[Exchange.ReceiveBufferSize * 2]);
        Assert.False(exchange.HoldsReceiveBuffer);
    }

    [Fact]
    public void Beyond_the_kept_few_returned_exchanges_hold_no_buffer()
    {
        var pool = new ExchangePool(maxRetained: 1024);
        int count = ExchangePool.KeptWithBuffers + 10;
        var busy = Enumerable.Range(0, count).Select(_ => WithBuffer(pool)).ToList();
        foreach (Exchange exchange in busy) pool.Return(exchange);

        Assert.Equal(ExchangePool.KeptWithBuffers, busy.Count(e => e.HoldsReceiveBuffer));
        Assert.All(busy.Skip(ExchangePool.KeptWithBuffers), e => Assert.False(e.HoldsReceiveBuffer));
    }

    [Fact]
    public void After_a_burst_the_exchanges_with_buffers_are_handed_out_first()
    {
        var pool = new ExchangePool(maxRetained: 1024);
        var busy = Enumerable.Range(0, ExchangePool.KeptWithBuffers * 2).Select(_ => WithBuffer(pool)).ToList();
        foreach (Exchange exchange in busy) pool.Return(exchange);

        // The bare exchanges were returned last, yet the first KeptWithBuffers rentals all bring a buffer.
        var rented = Enumerable.Range(0, ExchangePool.KeptWithBuffers).Select(_ => pool.Rent()).ToList();
        Assert.All(rented, e => Assert.True(e.HoldsReceiveBuffer));
        Assert.False(pool.Rent().HoldsReceiveBuffer);
    }

    [Fact]
    public void The_pool_retains_at_most_its_bound()
    {
        var pool = new ExchangePool(maxRetained: ExchangePool.KeptWithBuffers + 4);
        var busy = Enumerable.Range(0, ExchangePool.KeptWithBuffers + 20).Select(_ => pool.Rent()).ToList();
        foreach (Exchange exchange in busy) pool.Return(exchange);

        var again = new HashSet<Exchange>(Enumerable.Range(0, busy.Count).Select(_ => pool.Rent()));
        Assert.Equal(ExchangePool.KeptWithBuffers + 4, again.Count(busy.Contains));
    }

    [Fact]
    public void A_bound_below_the_kept_few_holds_for_them_too()
    {
        var pool = new ExchangePool(maxRetained: 8);
        var busy = Enumerable.Range(0, 20).Select(_ => WithBuffer(pool)).ToList();
        foreach (Exchange exchange in busy) pool.Return(exchange);

        var again = new HashSet<Exchange>(Enumerable.Range(0, busy.Count).Select(_ => pool.Rent()));
        Assert.Equal(8, again.Count(busy.Contains));
    }

    [Fact]
    public void Threads_renting_and_returning_at_once_never_share_an_exchange()
    {
        var pool = new ExchangePool(maxRetained: 16);
        var holders = new System.Collections.Concurrent.ConcurrentDictionary<Exchange, int>();
        int shared = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                Exchange exchange = pool.Rent();
                if (!holders.TryAdd(exchange, 0)) Interlocked.Increment(ref shared);
                holders.TryRemove(exchange, out int _);
                pool.Return(exchange);
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.Equal(0, shared);
        // Every exchange went back: the pool holds its bound and hands out distinct ones.
        var again = Enumerable.Range(0, 16).Select(_ => pool.Rent()).ToList();
        Assert.Equal(16, again.Distinct().Count());
    }
}

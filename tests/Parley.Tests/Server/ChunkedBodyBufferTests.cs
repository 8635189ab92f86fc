using System.Text;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The receive buffer while a chunked body streams through it: what the handler has read is dropped, so the
/// buffer stays the size of a few chunk lines whatever the body's length. Measured on the epoll transport,
/// where a connection and its handler run on one loop thread: that thread's allocation count is the
/// connection's own.
/// </summary>
public class ChunkedBodyBufferTests
{
    [Fact]
    public async Task Streaming_a_32_MiB_chunked_body_through_a_handler_does_not_grow_the_receive_buffer_with_it()
    {
        const int ChunkSize = 4096, ChunksPerBlock = 256, Blocks = 32;
        await using TestServer server = await TestServer.StartAsync(async (request, response) =>
        {
            int thread = Environment.CurrentManagedThreadId;
            long before = GC.GetAllocatedBytesForCurrentThread();
            var buffer = new byte[16 * 1024];
            long total = 0;
            int n;
            while ((n = await request.Body.ReadAsync(buffer)) > 0) total += n;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            response.WriteText($"{total} {allocated} {Environment.CurrentManagedThreadId == thread}");
        }, options =>
        {
            options.Transport = TransportKind.Epoll;
            options.EpollThreadCount = 1;
            options.MaxRequestBodySize = 64 << 20;
        });

        var block = new MemoryStream();
        for (int i = 0; i < ChunksPerBlock; i++)
        {
            block.Write(Encoding.ASCII.GetBytes($"{ChunkSize:x}\r\n"));
            block.Write(new byte[ChunkSize]);
            block.Write("\r\n"u8);
        }
        byte[] blockBytes = block.ToArray();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < Blocks; i++) await connection.SendAsync(blockBytes);
        await connection.SendAsync("0\r\n\r\n");

        string[] result = (await connection.ReadResponseAsync(timeout: ServerTiming.HangBound)).BodyText.Split(' ');
        Assert.Equal((long)ChunkSize * ChunksPerBlock * Blocks, long.Parse(result[0]));
        Assert.True(bool.Parse(result[2]), "the handler's reads did not all continue on the loop thread: the count below would miss some");
        long allocated = long.Parse(result[1]);
        Assert.True(allocated < 4 << 20, $"reading a 32 MiB body allocated {allocated} bytes on the connection's thread");
    }
}

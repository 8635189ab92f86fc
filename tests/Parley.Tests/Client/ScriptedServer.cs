using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Tests.Client;

/// <summary>One request received by a <see cref="ScriptedServer"/>, and the means to answer it byte by byte.</summary>
public sealed class ScriptedExchange(NetworkStream stream, int connection, int requestOnConnection, string head, CancellationToken stopping)
{
    public int Connection { get; } = connection;
    public int RequestOnConnection { get; } = requestOnConnection;
    public string Head { get; } = head;
    public CancellationToken Stopping { get; } = stopping;
    public bool CloseAfter { get; set; }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await stream.WriteAsync(bytes, Stopping);
        await stream.FlushAsync(Stopping);
    }

    /// <summary>Keeps the connection open and silent until the server is disposed.</summary>
    public async Task HangAsync()
    {
        try
        {
            await Task.Delay(Timeout.Infinite, Stopping);
        }
        catch (OperationCanceledException)
        {
        }
        CloseAfter = true;
    }
}

/// <summary>
/// A raw TCP server for the client's tests: reads each request head (and a Content-Length or chunked
/// body) and lets the test answer with any bytes at all, well-formed or hostile.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<ScriptedExchange, Task> _script;
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _closed;

    public ScriptedServer(Func<ScriptedExchange, Task> script)
    {
        _script = script;
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}/";
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections this server has closed (its FIN is on its way to the client by then).</summary>
    public int Closed => Volatile.Read(ref _closed);
    public List<string> Requests { get; } = [];

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                int number = Interlocked.Increment(ref _accepted);
                lock (_connections) _connections.Add(ServeAsync(client, number));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client, int number)
    {
        try
        {
            await ServeConnectionAsync(client, number);
        }
        finally
        {
            Interlocked.Increment(ref _closed);
        }
    }

    private async Task ServeConnectionAsync(TcpClient client, int number)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                var pending = new List<byte>();
                for (int request = 1; ; request++)
                {
                    string? head = await ReadRequestAsync(stream, pending);
                    if (head is null) return;
                    lock (Requests) Requests.Add(head);
                    var exchange = new ScriptedExchange(stream, number, request, head, _stop.Token);
                    await _script(exchange);
                    if (exchange.CloseAfter) return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task<string?> ReadRequestAsync(NetworkStream stream, List<byte> pending)
    {
        byte[] chunk = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOf(pending, "\r\n\r\n"u8)) < 0)
        {
            int read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0) return null;
            pending.AddRange(chunk.AsSpan(0, read));
        }
        string head = Encoding.Latin1.GetString(pending.GetRange(0, headEnd + 4).ToArray());
        pending.RemoveRange(0, headEnd + 4);
        string lower = head.ToLowerInvariant();
        int cl = lower.IndexOf("\r\ncontent-length:", StringComparison.Ordinal);
        if (cl >= 0)
        {
            int lineEnd = lower.IndexOf("\r\n", cl + 2, StringComparison.Ordinal);
            int length = int.Parse(lower[(cl + 17)..lineEnd].Trim());
            if (!lower.Contains("expect: 100-continue")) await FillAsync(stream, pending, length, chunk);
            else await FillAsync(stream, pending, 0, chunk);
            pending.RemoveRange(0, Math.Min(length, pending.Count));
        }
        else if (lower.Contains("transfer-encoding: chunked"))
        {
            int end;
            while ((end = IndexOf(pending, "0\r\n\r\n"u8)) < 0)
            {
                int read = await stream.ReadAsync(chunk, _stop.Token);
                if (read == 0) return null;
                pending.AddRange(chunk.AsSpan(0, read));
            }
            pending.RemoveRange(0, end + 5);
        }
        return head;
    }

    private async Task FillAsync(NetworkStream stream, List<byte> pending, int length, byte[] chunk)
    {
        while (pending.Count < length)
        {
            int read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0) return;
            pending.AddRange(chunk.AsSpan(0, read));
        }
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> pattern)
    {
        for (int i = 0; i + pattern.Length <= bytes.Count; i++)
        {
            bool match = true;
            for (int j = 0; j < pattern.Length && match; j++) match = bytes[i + j] == pattern[j];
            if (match) return i;
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop;
        Task[] connections;
        lock (_connections) connections = [.. _connections];
        await Task.WhenAny(Task.WhenAll(connections), Task.Delay(2000));
    }
}

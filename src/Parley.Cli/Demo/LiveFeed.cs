using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Parley.Server;

namespace Parley.Cli.Demo;

/// <summary>
/// The live page's feed: every request the site answers (method, target, connection, the request's number on
/// it, status, time) is pushed, as it completes, to each browser that holds <c>/live/feed</c> open as a
/// WebSocket. A viewer that reads slowly loses its oldest entries rather than holding up requests; with no
/// viewer, observing costs one read of a counter per request.
/// </summary>
internal sealed class LiveFeed(TimeProvider time)
{
    /// <summary>Most browsers watching at once; one more gets 503.</summary>
    public const int MaxViewers = 64;

    /// <summary>The feed's path (its own, long-lived request is not shown).</summary>
    public const string FeedPath = "/live/feed";

    private const int QueuedPerViewer = 256;
    private const int MaxTargetShown = 300;

    private readonly Lock _lock = new();
    private readonly List<ChannelWriter<byte[]>> _viewers = [];
    private int _viewerCount;

    /// <summary>Wraps <paramref name="inner"/> so that each request it answers is published.</summary>
    public RequestHandler Observe(RequestHandler inner) => (request, response) =>
    {
        if (Volatile.Read(ref _viewerCount) == 0 || request.Path == FeedPath) return inner(request, response);
        long started = Stopwatch.GetTimestamp();
        ValueTask handled;
        try
        {
            handled = inner(request, response);
        }
        catch (Exception ex)
        {
            Publish(request, FailedStatus(ex), started);
            throw;
        }
        if (!handled.IsCompletedSuccessfully) return PublishAfterAsync(handled, request, response, started);
        handled.GetAwaiter().GetResult();
        Publish(request, response.StatusCode, started);
        return default;
    };

    private async ValueTask PublishAfterAsync(ValueTask handled, HttpRequest request, HttpResponse response, long started)
    {
        try
        {
            await handled.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Publish(request, FailedStatus(ex), started);
            throw;
        }
        Publish(request, response.StatusCode, started);
    }

    // What the engine answers for a handler that throws.
    private static int FailedStatus(Exception ex) => ex is BadRequestException bad ? bad.StatusCode : 500;

    private void Publish(HttpRequest request, int status, long started)
    {
        double milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var json = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.GetUtcNow().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("method", request.Method);
            string target = request.Target;
            writer.WriteString("target", target.Length > MaxTargetShown ? target[..MaxTargetShown] + "…" : target);
            writer.WriteNumber("connection", request.ConnectionId);
            writer.WriteNumber("request", request.RequestNumberOnConnection);
            writer.WriteNumber("status", status);
            writer.WriteNumber("ms", Math.Round(milliseconds, 2));
            writer.WriteEndObject();
        }
        byte[] message = json.WrittenSpan.ToArray();
        lock (_lock)
        {
            foreach (ChannelWriter<byte[]> viewer in _viewers) viewer.TryWrite(message);
        }
    }

    /// <summary>The feed: a WebSocket that receives one JSON text message per request.</summary>
    public async ValueTask AcceptAsync(HttpRequest request, HttpResponse response)
    {
        if (Volatile.Read(ref _viewerCount) >= MaxViewers)
        {
            response.StatusCode = 503;
            response.WriteText($"At most {MaxViewers} browsers can watch at once.\n");
            return;
        }
        // Watching from before the 101 leaves: a request the browser makes once it sees the 101 is shown.
        Channel<byte[]> queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(QueuedPerViewer) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _viewers.Add(queue.Writer);
            _viewerCount = _viewers.Count;
        }
        using var stop = new CancellationTokenSource();
        Task sending = Task.CompletedTask;
        try
        {
            using WebSocket? socket = await response.AcceptWebSocketAsync(new WebSocketAcceptOptions { MaxMessageSize = 1024, KeepAliveInterval = TimeSpan.FromSeconds(15) }).ConfigureAwait(false);
            if (socket is null) return;
            sending = SendAsync(socket, queue.Reader, stop.Token);
            // The browser sends nothing but its close; reading is how the close (or its vanishing) is seen.
            byte[] buffer = new byte[1024];
            while ((await socket.ReceiveAsync(buffer.AsMemory(), default).ConfigureAwait(false)).MessageType != WebSocketMessageType.Close)
            {
            }
            if (socket.State == WebSocketState.CloseReceived) await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            // The browser went away: nothing to answer.
        }
        finally
        {
            lock (_lock)
            {
                _viewers.Remove(queue.Writer);
                _viewerCount = _viewers.Count;
            }
            stop.Cancel();
            await sending.ConfigureAwait(false);
        }
    }

    private static async Task SendAsync(WebSocket socket, ChannelReader<byte[]> queue, CancellationToken stop)
    {
        try
        {
            while (await queue.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                while (queue.TryRead(out byte[]? message))
                {
                    await socket.SendAsync(message, WebSocketMessageType.Text, true, stop).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The viewer closed or went away.
        }
    }
}

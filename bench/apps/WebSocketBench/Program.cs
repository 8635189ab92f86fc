// WebSocket echo benchmark (bench/websocket.sh).
//
//   WebSocketBench server kestrel|parley|parley-epoll|aspnet-parley PORT
//       an echo at ws://127.0.0.1:PORT/echo; GET /ready answers 200 once listening
//   WebSocketBench client URL CONNECTIONS SECONDS SIZE
//       CONNECTIONS ClientWebSockets, each sending a SIZE-byte binary message and waiting for its echo, in a
//       loop, for SECONDS; prints "messages errors"
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Parley;
using Parley.AspNetCore;
using Parley.Server;

if (args.Length >= 3 && args[0] == "server") return await ServeAsync(args[1], int.Parse(args[2]));
if (args.Length >= 5 && args[0] == "client") return await LoadAsync(new Uri(args[1]), int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]));
Console.Error.WriteLine("usage: WebSocketBench server kestrel|parley|parley-epoll|aspnet-parley PORT | client URL CONNECTIONS SECONDS SIZE");
return 64;

static async Task<int> ServeAsync(string kind, int port)
{
    using var stopping = new CancellationTokenSource();
    using PosixSignalRegistration registration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        stopping.Cancel();
    });
    if (kind is "parley" or "parley-epoll")
    {
        var options = new HttpServerOptions { Host = "127.0.0.1", Port = port, Transport = kind == "parley-epoll" ? TransportKind.Epoll : TransportKind.Sockets };
        var router = new Router()
            .MapGet("/ready", (request, response) =>
            {
                response.WriteText("ready");
                return ValueTask.CompletedTask;
            })
            .MapGet("/echo", async (request, response) =>
            {
                using WebSocket? socket = await response.AcceptWebSocketAsync(new WebSocketAcceptOptions { EnableCompression = false });
                if (socket is not null) await EchoAsync(socket, CancellationToken.None);
            });
        await using var server = new HttpServer(options, router.Handler);
        await server.StartAsync();
        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await server.StopAsync(TimeSpan.FromSeconds(2));
        return 0;
    }

    WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
    if (kind == "aspnet-parley") builder.WebHost.UseParley(options => options.Transport = TransportKind.Epoll);
    else if (kind == "kestrel") builder.WebHost.UseKestrel();
    else
    {
        Console.Error.WriteLine($"unknown server '{kind}'");
        return 64;
    }
    WebApplication app = builder.Build();
    app.UseWebSockets();
    app.MapGet("/ready", () => "ready");
    app.Map("/echo", async (HttpContext context) =>
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }
        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
        await EchoAsync(socket, context.RequestAborted);
    });
    await app.StartAsync();
    try
    {
        await Task.Delay(Timeout.Infinite, stopping.Token);
    }
    catch (OperationCanceledException)
    {
    }
    await app.StopAsync();
    return 0;
}

static async Task EchoAsync(WebSocket socket, CancellationToken cancellationToken)
{
    byte[] buffer = new byte[4096];
    try
    {
        while (true)
        {
            ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, cancellationToken);
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
    {
    }
}

static async Task<int> LoadAsync(Uri uri, int connections, int seconds, int size)
{
    var sockets = new ClientWebSocket[connections];
    for (int i = 0; i < connections; i++)
    {
        sockets[i] = new ClientWebSocket();
        await sockets[i].ConnectAsync(uri, CancellationToken.None);
    }
    long messages = 0, errors = 0;
    var clock = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(sockets.Select(async socket =>
    {
        byte[] message = new byte[size];
        byte[] buffer = new byte[Math.Max(size, 4096)];
        long count = 0;
        try
        {
            while (clock.Elapsed < deadline)
            {
                await socket.SendAsync(message.AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None);
                int received = 0;
                while (received < size)
                {
                    ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by the server");
                    received += result.Count;
                }
                count++;
            }
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            Interlocked.Increment(ref errors);
        }
        Interlocked.Add(ref messages, count);
    }));
    Console.WriteLine($"{messages} {errors}");
    return 0;
}

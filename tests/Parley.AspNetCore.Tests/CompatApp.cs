using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TransportKind = Parley.TransportKind;

namespace Parley.AspNetCore.Tests;

public enum ServerKind { Kestrel, ParleyEpoll, ParleySockets }

public sealed record Item(int Id, string Name, string[] Tags);

[JsonSerializable(typeof(Item))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AppJsonContext : JsonSerializerContext;

/// <summary>
/// The compatibility suite's application: an ordinary ASP.NET Core app (minimal APIs, source-generated
/// JSON, forms, files, streams, static files, compression, exception handling, server-sent events,
/// uploads), started on the server under test.
/// </summary>
public sealed class CompatApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CompatApp(WebApplication app, string root, ServerKind kind)
    {
        _app = app;
        Root = root;
        Kind = kind;
    }

    public ServerKind Kind { get; }

    public string Root { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public int Port => BaseAddress.Port;

    /// <summary>Observations made by the endpoints that tests wait for (disconnects, completion callbacks).</summary>
    public Signals Signals { get; } = new();

    public Microsoft.Extensions.Hosting.IHostApplicationLifetime Lifetime => _app.Lifetime;

    private Task? _running;

    /// <summary>
    /// Starts the app on <paramref name="kind"/>. With <paramref name="run"/> it runs as <c>app.Run()</c>
    /// does (it stops when <see cref="Lifetime"/>'s StopApplication is called); otherwise the test stops it.
    /// </summary>
    public static async Task<CompatApp> StartAsync(ServerKind kind, string root, bool run = false)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = root, WebRootPath = Path.Combine(root, "wwwroot") });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (kind == ServerKind.Kestrel) builder.WebHost.UseKestrel();
        else builder.WebHost.UseParley(options => options.Transport = kind == ServerKind.ParleyEpoll ? TransportKind.Epoll : TransportKind.Sockets);
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Default));
        builder.Services.AddResponseCompression(options =>
        {
            options.Providers.Add<GzipCompressionProvider>();
            options.MimeTypes = ["text/plain"];
        });
        builder.Services.AddSingleton<Signals>();
        builder.Services.AddScoped<ScopedProbe>();
        WebApplication app = builder.Build();
        var compat = new CompatApp(app, root, kind);
        Map(app, compat.Signals);
        if (run)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            app.Lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            compat._running = app.RunAsync();
            await Task.WhenAny(started.Task, compat._running);
            if (compat._running.IsCompleted) await compat._running;
        }
        else
        {
            await app.StartAsync();
        }
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        compat.BaseAddress = new Uri(address);
        return compat;
    }

    /// <summary>Completes when an app started with <c>run</c> has stopped.</summary>
    public Task Running => _running ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_running is not null)
        {
            // app.RunAsync disposes the application when it ends.
            if (!_running.IsCompleted) _app.Lifetime.StopApplication();
            await _running;
            return;
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // A WebSocket echo through the WebSockets middleware: the subprotocol echo.v1 when offered, compression
    // when offered; 400 for a request that is not a WebSocket handshake.
    private static async Task EchoWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("not a WebSocket request");
            return;
        }
        string? subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains("echo.v1") ? "echo.v1" : null;
        using System.Net.WebSockets.WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = subProtocol, DangerousEnableCompression = true });
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            System.Net.WebSockets.ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
            if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", default);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
        }
    }

    private static void Map(WebApplication app, Signals signals)
    {
        // A branch without the exception handler: what the server itself does with a failing application.
        app.Map("/raw", raw =>
        {
            raw.Run(async context =>
            {
                switch (context.Request.Path.Value)
                {
                    case "/throw":
                        context.Response.Headers["X-Lost"] = "yes";
                        throw new InvalidOperationException("failed before the response started");
                    case "/throw-after-start":
                        await context.Response.WriteAsync("partial ");
                        await context.Response.Body.FlushAsync();
                        throw new InvalidOperationException("failed after the response started");
                    case "/sync-write":
                        string outcome;
                        try
                        {
                            context.Response.Body.Write("x"u8);
                            outcome = "allowed";
                        }
                        catch (InvalidOperationException)
                        {
                            outcome = "refused";
                        }
                        await context.Response.WriteAsync(outcome);
                        return;
                    case "/sync-flush-then-block":
                        // A synchronous flush, then the thread blocks until the client has seen the flushed
                        // bytes (the test releases it then) or gives up waiting.
                        context.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
                        context.Response.Body.Write("first;"u8);
                        context.Response.Body.Flush();
                        bool released = signals.Release.Task.Wait(TimeSpan.FromSeconds(15));
                        context.Response.Body.Write(released ? "second"u8 : "timed-out"u8);
                        return;
                    case "/sync-write-allowed":
                        context.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
                        context.Response.ContentLength = 5;
                        context.Response.Body.Write("sync!"u8);
                        return;
                    case "/readonly-headers":
                        await context.Response.WriteAsync("started;");
                        try
                        {
                            context.Response.Headers["X-Late"] = "1";
                            await context.Response.WriteAsync("changed");
                        }
                        catch (InvalidOperationException)
                        {
                            await context.Response.WriteAsync("read-only");
                        }
                        return;
                    case "/scoped":
                    {
                        // The request's scope: one instance per request, disposed once the request is over,
                        // after the completion callbacks registered after it was made.
                        ScopedProbe probe = context.RequestServices.GetRequiredService<ScopedProbe>();
                        ScopedProbe again = context.RequestServices.GetRequiredService<ScopedProbe>();
                        signals.Probe = probe;
                        context.Response.OnCompleted(() =>
                        {
                            signals.ProbeDisposedAtCompletion.TrySetResult(probe.Disposed.Task.IsCompleted);
                            return Task.CompletedTask;
                        });
                        await context.Response.WriteAsync($"same={ReferenceEquals(probe, again)};id={probe.Id}");
                        return;
                    }
                    case "/callbacks":
                        context.Response.OnStarting(() =>
                        {
                            context.Response.Headers["X-Started-Second"] = context.Response.Headers["X-Started-First"].ToString() == "" ? "first-not-yet" : "after-first";
                            return Task.CompletedTask;
                        });
                        context.Response.OnStarting(() =>
                        {
                            context.Response.Headers["X-Started-First"] = "yes";
                            return Task.CompletedTask;
                        });
                        context.Response.OnCompleted(() =>
                        {
                            signals.Completed.TrySetResult(context.Response.HasStarted);
                            return Task.CompletedTask;
                        });
                        bool before = context.Response.HasStarted;
                        await context.Response.WriteAsync($"before={before};");
                        await context.Response.WriteAsync($"after={context.Response.HasStarted}");
                        return;
                    case "/wait-for-abort":
                        signals.WaitEntered.TrySetResult();
                        try
                        {
                            await Task.Delay(Timeout.Infinite, context.RequestAborted);
                        }
                        catch (OperationCanceledException)
                        {
                            signals.Aborted.TrySetResult();
                        }
                        return;
                    case "/slow":
                        signals.WaitEntered.TrySetResult();
                        await signals.Release.Task;
                        await context.Response.WriteAsync("done");
                        return;
                    case "/upload-limit":
                        context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = 1000;
                        using (var sink = new MemoryStream())
                        {
                            await context.Request.Body.CopyToAsync(sink);
                            await context.Response.WriteAsync($"read {sink.Length}");
                        }
                        return;
                    case "/connection":
                        var connection = context.Features.Get<IHttpConnectionFeature>()!;
                        bool hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()!.CanHaveBody;
                        await context.Response.WriteAsync($"{connection.RemoteIpAddress}|{connection.LocalPort == context.Connection.LocalPort}|{connection.ConnectionId.Length > 0}|{context.TraceIdentifier.Length > 0}|{hasBody}|{context.Request.Protocol}|{context.Request.Scheme}|{context.Request.Path}|{context.Request.QueryString}");
                        return;
                    case "/content-length-one-go":
                        await context.Response.Body.WriteAsync("one go"u8.ToArray());
                        return;
                    case "/trailers":
                        // The documented pattern: trailers only where the server supports them.
                        bool trailers = context.Response.SupportsTrailers();
                        if (trailers) context.Response.DeclareTrailer("x-checksum");
                        byte[] first = "trailed body, "u8.ToArray(), second = "then its checksum"u8.ToArray();
                        await context.Response.Body.WriteAsync(first);
                        await context.Response.Body.FlushAsync();
                        await context.Response.Body.WriteAsync(second);
                        if (trailers) context.Response.AppendTrailer("x-checksum", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. first, .. second])));
                        return;
                    case "/trailers-refused":
                        // Content-Length and trailers exclude each other on HTTP/1.1 (RFC 9112 §7.1.2).
                        context.Response.ContentLength = 2;
                        string refusal = context.Response.SupportsTrailers() ? "supported" : "refused";
                        try
                        {
                            context.Response.AppendTrailer("x-checksum", "1");
                        }
                        catch (InvalidOperationException)
                        {
                            refusal += ",threw";
                        }
                        context.Response.ContentLength = refusal.Length;
                        await context.Response.WriteAsync(refusal);
                        return;
                    case "/trailers-then-throw":
                        if (context.Response.SupportsTrailers()) context.Response.AppendTrailer("x-checksum", "1");
                        throw new InvalidOperationException("failed with trailers set, before the response started");
                    case "/trailers-checked":
                        // What the trailer collection refuses, and a replaced collection sent as it is.
                        var feature = context.Features.Get<IHttpResponseTrailersFeature>();
                        if (feature is null || !context.Response.SupportsTrailers())
                        {
                            await context.Response.WriteAsync("no trailers");
                            return;
                        }
                        string forbidden;
                        try
                        {
                            context.Response.AppendTrailer("Content-Type", "text/plain");
                            forbidden = "accepted";
                        }
                        catch (ArgumentException)
                        {
                            forbidden = "refused";
                        }
                        feature.Trailers = new HeaderDictionary { ["x-replaced"] = new(["a", "b"]) };
                        await context.Response.WriteAsync($"content-type trailer {forbidden}");
                        return;
                    case "/flushed":
                        await context.Response.Body.WriteAsync("first,"u8.ToArray());
                        await context.Response.Body.FlushAsync();
                        await context.Response.Body.WriteAsync("second"u8.ToArray());
                        return;
                    default:
                        context.Response.StatusCode = 404;
                        return;
                }
            });
        });

        app.UseExceptionHandler(handler => handler.Run(async context =>
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("handled: " + context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Error.Message);
        }));
        app.UseResponseCompression();
        app.UseStaticFiles();
        app.UseWebSockets();
        app.Map("/ws", EchoWebSocketAsync);

        app.MapGet("/hello/{name}", (string name) => Results.Text($"Hello, {name}!"));
        app.MapGet("/items/{id:int}", (int id) => TypedResults.Ok(new Item(id, $"item {id}", ["a", "b"])));
        app.MapGet("/json/{id:int}", (int id) => Results.Json(new Item(id, "json", []), AppJsonContext.Default.Item));
        app.MapPost("/items", (Item item) => TypedResults.Created($"/items/{item.Id}", item with { Name = item.Name.ToUpperInvariant() }));
        app.MapPost("/form", ([FromForm] string name, [FromForm] int count) => Results.Text($"{name} x{count}")).DisableAntiforgery();
        app.MapPost("/form-file", async (IFormFile file) =>
        {
            using var reader = new StreamReader(file.OpenReadStream());
            return Results.Text($"{file.FileName}:{file.Length}:{await reader.ReadToEndAsync()}");
        }).DisableAntiforgery();
        app.MapGet("/file", (IWebHostEnvironment env) => Results.File(Path.Combine(env.ContentRootPath, "data.bin"), "application/octet-stream", enableRangeProcessing: true));
        app.MapGet("/stream", () => Results.Stream(new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("streamed line\n", 1000)))), "text/plain"));
        app.MapGet("/compressible", () => Results.Text(string.Concat(Enumerable.Repeat("compress me please ", 2000)), "text/plain"));
        app.MapGet("/throw", string () => throw new InvalidOperationException("boom"));
        app.MapGet("/sse", (CancellationToken cancellationToken) => TypedResults.ServerSentEvents(Events(cancellationToken), eventType: "tick"));
        app.MapPost("/upload", async (HttpRequest request) =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                total += read;
            }
            return Results.Text($"{total}:{Convert.ToHexStringLower(sha.GetHashAndReset())}");
        });
        app.MapGet("/query", (string? q, int? page) => Results.Text($"q={q};page={page}"));
        app.MapGet("/headers", (HttpRequest request) => Results.Text($"ua={request.Headers.UserAgent};x={string.Join('|', request.Headers["X-Multi"].ToArray())}"));
        app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
        app.MapGet("/redirect", () => Results.Redirect("/hello/redirected"));
        app.MapPut("/items/{id:int}", (int id) => Results.NoContent());
    }

    private static async IAsyncEnumerable<string> Events([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 1; i <= 3; i++)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return $"event {i}";
        }
    }
}

/// <summary>What the application's endpoints report to the tests.</summary>
public sealed class Signals
{
    public TaskCompletionSource WaitEntered { get; private set; } = New();
    public TaskCompletionSource Aborted { get; private set; } = New();
    public TaskCompletionSource<bool> Completed { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Release { get; private set; } = New();
    public ScopedProbe? Probe { get; set; }
    public TaskCompletionSource<bool> ProbeDisposedAtCompletion { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Reset()
    {
        Probe = null;
        ProbeDisposedAtCompletion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        WaitEntered = New();
        Aborted = New();
        Completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Release = New();
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A scoped service that tells when its scope disposed it.</summary>
public sealed class ScopedProbe : IDisposable
{
    private static int s_next;

    public int Id { get; } = Interlocked.Increment(ref s_next);

    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose() => Disposed.TrySetResult();
}

using System.Text;
using Parley;
using Parley.Bench;
using Parley.Server;

// The Parley bench server: /plaintext, /json, /file (1 MiB), /alloc and /heap, with one handler switching on
// the raw path bytes (as the Kestrel app switches inside its single delegate).
//
// /file is sent with HttpResponse.SendFileAsync (sendfile(2) on Linux).

int port = BenchData.Port(args, 8081);
string filePath = BenchData.EnsureFile();
// One handle for the whole run, opened for asynchronous I/O so that sends can use sendfile(2).
Microsoft.Win32.SafeHandles.SafeFileHandle fileHandle = File.OpenHandle(filePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
long fileLength = RandomAccess.GetLength(fileHandle);
byte[] plaintext = "Hello, World!"u8.ToArray();
using AllocationSampler? sampler = AllocationSampler.StartIfRequested();
using IDisposable? telemetry = OpenTelemetryListening.StartIfRequested([ParleyTelemetry.ServerName], [ParleyTelemetry.ServerName]);

var options = new HttpServerOptions
{
    Host = "127.0.0.1",
    Port = port,
    MaxRequestsPerConnection = 0,
    AccessLog = null,
    // BENCH_ERROR_LOG=1: errors (failed or timed-out TLS handshakes among them) to stderr, for bench/tls.sh's idle step.
    ErrorLog = Environment.GetEnvironmentVariable("BENCH_ERROR_LOG") == "1"
        ? static (message, exception) => Console.Error.WriteLine(exception is null ? message : $"{message}: {exception.Message}")
        : null,
    KeepAliveTimeout = TimeSpan.FromSeconds(130), // Kestrel's default, so idle tests close nothing early
    // PARLEY_TRANSPORT=epoll selects the epoll event loops; the default is the portable Socket transport.
    Transport = Environment.GetEnvironmentVariable("PARLEY_TRANSPORT") == "epoll" ? TransportKind.Epoll : TransportKind.Sockets,
};

// BENCH_TLS_CERT and BENCH_TLS_KEY (PEM files): listen with HTTPS instead (bench/tls.sh).
string? tlsCertificate = Environment.GetEnvironmentVariable("BENCH_TLS_CERT");
if (!string.IsNullOrEmpty(tlsCertificate))
{
    options.Listeners.Add(ListenerOptions.Https("127.0.0.1", port, new ServerTlsOptions
    {
        Certificate = ServerCertificate.FromPemFiles(tlsCertificate, Environment.GetEnvironmentVariable("BENCH_TLS_KEY") ?? throw new InvalidOperationException("BENCH_TLS_KEY is not set")),
    }));
}

var server = new HttpServer(options, Handle);
await server.StartAsync();
Console.WriteLine($"ParleyBench listening on {(string.IsNullOrEmpty(tlsCertificate) ? "http" : "https")}://127.0.0.1:{port} (server GC: {System.Runtime.GCSettings.IsServerGC}, CPUs: {Environment.ProcessorCount})");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
await server.StopAsync(TimeSpan.FromSeconds(1));

ValueTask Handle(HttpRequest request, HttpResponse response)
{
    ReadOnlySpan<byte> path = request.RawPath;
    if (path.SequenceEqual("/plaintext"u8))
    {
        response.Headers.Set("Content-Type", "text/plain");
        response.ContentLength = plaintext.Length;
        response.Write(plaintext);
        return ValueTask.CompletedTask;
    }
    if (path.SequenceEqual("/json"u8))
    {
        ReadOnlySpan<byte> json = JsonBuffer.Serialize(new JsonMessage { Message = "Hello, World!" });
        response.WriteJson(json);
        return ValueTask.CompletedTask;
    }
    if (path.SequenceEqual("/file"u8)) return SendFileAsync(response);
    if (path.SequenceEqual("/alloc"u8))
    {
        response.WriteText(GC.GetTotalAllocatedBytes(precise: true).ToString(System.Globalization.CultureInfo.InvariantCulture), "text/plain");
        return ValueTask.CompletedTask;
    }
    if (path.SequenceEqual("/heap"u8))
    {
        // Live managed bytes after a full collection: with N idle connections open, (heap - heap at rest) / N
        // is what each idle connection holds.
        response.WriteText(GC.GetTotalMemory(forceFullCollection: true).ToString(System.Globalization.CultureInfo.InvariantCulture), "text/plain");
        return ValueTask.CompletedTask;
    }
    if (path.SequenceEqual("/alloc-types"u8))
    {
        response.WriteText(sampler?.Report() ?? "start with BENCH_ALLOC_SAMPLING=1\n", "text/plain");
        return ValueTask.CompletedTask;
    }
    response.StatusCode = 404;
    response.ContentLength = 0;
    return ValueTask.CompletedTask;
}

ValueTask SendFileAsync(HttpResponse response)
{
    // As Kestrel's SendFileAsync and nginx's sendfile: the kernel copies the pages to the socket.
    response.Headers.Set("Content-Type", "application/octet-stream");
    response.ContentLength = fileLength;
    return response.SendFileAsync(fileHandle, 0, fileLength);
}

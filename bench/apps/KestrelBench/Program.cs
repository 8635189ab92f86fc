using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Parley.Bench;

// Raw Kestrel with the same endpoints as ParleyBench: one app.Run delegate switching on the path, no
// routing middleware, no logging. Responses are written synchronously into the body PipeWriter and
// flushed by Kestrel at the end of the request (as TechEmpower's platform benchmarks do).
// /file is sent from disk with SendFileAsync (set BENCH_FILE_SOURCE=memory to send it from memory, as
// ParleyBench does until Parley has a static file handler).

int port = BenchData.Port(args, 8082);
string filePath = BenchData.EnsureFile();
bool fileFromMemory = Environment.GetEnvironmentVariable("BENCH_FILE_SOURCE") == "memory";
byte[] fileBytes = fileFromMemory ? File.ReadAllBytes(filePath) : [];
byte[] plaintext = "Hello, World!"u8.ToArray();
using AllocationSampler? sampler = AllocationSampler.StartIfRequested();
// Kestrel's metrics: the hosting layer's (http.server.*) and the server's own (kestrel.*); its spans come from "Microsoft.AspNetCore".
using IDisposable? telemetry = OpenTelemetryListening.StartIfRequested(["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"], ["Microsoft.AspNetCore"]);

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
// The slim builder leaves HTTPS configuration out; bench/tls.sh needs it.
if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("BENCH_TLS_CERT"))) builder.WebHost.UseKestrelHttpsConfiguration();
builder.WebHost.UseKestrel(kestrel =>
{
    // BENCH_TLS_CERT and BENCH_TLS_KEY (PEM files): listen with HTTPS instead (bench/tls.sh).
    string? tlsCertificate = Environment.GetEnvironmentVariable("BENCH_TLS_CERT");
    if (string.IsNullOrEmpty(tlsCertificate)) kestrel.Listen(IPAddress.Loopback, port);
    else
    {
        var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tlsCertificate, Environment.GetEnvironmentVariable("BENCH_TLS_KEY"));
        kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate));
    }
    kestrel.AddServerHeader = true;
});
var app = builder.Build();

app.Run(context =>
{
    HttpResponse response = context.Response;
    string? path = context.Request.Path.Value;
    switch (path)
    {
        case "/plaintext":
            response.StatusCode = 200;
            response.ContentType = "text/plain";
            response.ContentLength = plaintext.Length;
            response.BodyWriter.Write(plaintext);
            return Task.CompletedTask;
        case "/json":
        {
            ReadOnlySpan<byte> json = JsonBuffer.Serialize(new JsonMessage { Message = "Hello, World!" });
            response.StatusCode = 200;
            response.ContentType = "application/json";
            response.ContentLength = json.Length;
            response.BodyWriter.Write(json);
            return Task.CompletedTask;
        }
        case "/file":
            response.StatusCode = 200;
            response.ContentType = "application/octet-stream";
            response.ContentLength = BenchData.FileSize;
            if (fileFromMemory) return WriteAllAsync(response.BodyWriter, fileBytes);
            return context.Features.Get<IHttpResponseBodyFeature>()!.SendFileAsync(filePath, 0, BenchData.FileSize);
        case "/alloc":
        {
            byte[] text = System.Text.Encoding.ASCII.GetBytes(GC.GetTotalAllocatedBytes(precise: true).ToString(System.Globalization.CultureInfo.InvariantCulture));
            response.StatusCode = 200;
            response.ContentType = "text/plain";
            response.ContentLength = text.Length;
            response.BodyWriter.Write(text);
            return Task.CompletedTask;
        }
        case "/alloc-types":
        {
            byte[] text = System.Text.Encoding.UTF8.GetBytes(sampler?.Report() ?? "start with BENCH_ALLOC_SAMPLING=1\n");
            response.StatusCode = 200;
            response.ContentType = "text/plain";
            response.ContentLength = text.Length;
            response.BodyWriter.Write(text);
            return Task.CompletedTask;
        }
        default:
            response.StatusCode = 404;
            response.ContentLength = 0;
            return Task.CompletedTask;
    }
});

static async Task WriteAllAsync(System.IO.Pipelines.PipeWriter writer, byte[] bytes) => await writer.WriteAsync(bytes);

string scheme = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("BENCH_TLS_CERT")) ? "http" : "https";
Console.WriteLine($"KestrelBench listening on {scheme}://127.0.0.1:{port} (server GC: {System.Runtime.GCSettings.IsServerGC}, CPUs: {Environment.ProcessorCount})");
app.Run();

using System.Globalization;
using System.Net;
using System.Text.Json.Serialization;
using Parley;
using Parley.AspNetCore;

// One minimal-API application, served by Kestrel or by Parley (BENCH_SERVER = kestrel | parley |
// parley-epoll): GET /plaintext through Results.Text, GET /json through Results.Json with a
// source-generated serializer, both through routing; /alloc reports the bytes allocated so far.

int port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 18090;
string server = Environment.GetEnvironmentVariable("BENCH_SERVER") ?? "kestrel";

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
switch (server)
{
    case "kestrel":
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        break;
    case "parley":
    case "parley-epoll":
        builder.WebHost.UseParley(options =>
        {
            options.Urls.Add($"http://127.0.0.1:{port}");
            options.Transport = server == "parley" ? TransportKind.Sockets : TransportKind.Epoll;
        });
        break;
    default:
        throw new ArgumentException($"BENCH_SERVER '{server}': expected kestrel, parley or parley-epoll");
}
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, BenchJsonContext.Default));
var app = builder.Build();

app.MapGet("/plaintext", () => Results.Text("Hello, World!"));
app.MapGet("/json", () => Results.Json(new Message("Hello, World!"), BenchJsonContext.Default.Message));
app.MapGet("/alloc", () => Results.Text(GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture)));

Console.WriteLine($"{server} on port {port}");
app.Run();

internal sealed record Message(string message);

[JsonSerializable(typeof(Message))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;

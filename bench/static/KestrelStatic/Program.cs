// Usage: KestrelStatic ROOT PORT — serves ROOT with ASP.NET Core's static file middleware, no logging.
using Microsoft.Extensions.FileProviders;

string root = Path.GetFullPath(args[0]);
int port = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(options => options.ListenLocalhost(port));
var app = builder.Build();
app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root) });
app.Run();

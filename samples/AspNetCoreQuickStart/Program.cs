using Parley.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseParley(); // the one line that moves the app from Kestrel to Parley

var app = builder.Build();
app.MapGet("/", () => "Hello from ASP.NET Core on Parley");
app.Run();

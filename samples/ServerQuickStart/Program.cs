using System.Text.Json;
using Parley.Server;

var router = new Router()
    .MapGet("/", (request, response) =>
    {
        response.WriteText("Hello from Parley\n");
        return ValueTask.CompletedTask;
    })
    .MapGet("/users/{id:int}", (request, response) =>
    {
        int id = int.Parse(request.RouteValues["id"]!);
        response.WriteJson(JsonSerializer.SerializeToUtf8Bytes(new { id, name = $"user {id}" }));
        return ValueTask.CompletedTask;
    });

await using var server = new HttpServer(new HttpServerOptions { Port = 8080 }, router.Handler);
await server.StartAsync();
Console.WriteLine("Listening on http://127.0.0.1:8080/ (Enter stops)");
Console.ReadLine();
await server.StopAsync(); // lets requests in flight finish

using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Server;

namespace Parley.Cli;

/// <summary>Runs a handler until Ctrl+C or SIGTERM, with an access log line per request unless quiet.</summary>
internal static class ServerHost
{
    public static async Task<int> RunAsync(RequestHandler handler, string host, int port, bool quiet, TimeSpan drainTimeout, TransportKind transport, Func<string, string> banner)
    {
        var options = new HttpServerOptions { Host = host, Port = port, DrainTimeout = drainTimeout, Transport = transport };
        if (!quiet)
        {
            options.AccessLog = static entry => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:HH:mm:ss} {entry.Method} {entry.Target} {entry.StatusCode} {entry.BodyBytes}B {entry.Duration.TotalMilliseconds:0.###}ms (request {entry.RequestOnConnection} on its connection)"));
        }
        await using var server = new HttpServer(options, handler);
        try
        {
            await server.StartAsync();
        }
        catch (IOException ex)
        {
            // The message names the address and the reason ("cannot listen on 127.0.0.1:8080: address already in use").
            Console.Error.WriteLine($"parley: {ex.Message}");
            return 2;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });

        Console.Out.WriteLine(banner(FormatUrl(server)));
        await stop.Task;
        Console.Out.WriteLine("Stopping: finishing requests in flight...");
        await server.StopAsync(drainTimeout);
        Console.Out.WriteLine("Stopped.");
        return 0;
    }

    private static string FormatUrl(HttpServer server)
    {
        var endPoint = server.LocalEndPoint;
        string address = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString();
        return $"http://{address}:{endPoint.Port}/";
    }
}

using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Cli.Demo;
using Parley.Server;

namespace Parley.Cli;

/// <summary><c>parley serve</c>: runs the embedded demo site.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1, ::1, 0.0.0.0, * for all)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port to listen on", DefaultValueFactory = _ => 8080 };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print an access-log line per request" };
        var drain = new Option<double>("--drain-timeout") { Description = "Seconds a graceful stop waits for requests in flight", DefaultValueFactory = _ => 10 };
        port.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 0 or > 65535) result.AddError($"--port must be 0-65535, not {value}");
        });

        var command = new Command("serve", "Serve the embedded demo site of the classic HTTP session");
        command.Options.Add(host);
        command.Options.Add(port);
        command.Options.Add(quiet);
        command.Options.Add(drain);
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(quiet), TimeSpan.FromSeconds(parse.GetValue(drain))));
        return command;
    }

    private static async Task<int> RunAsync(string host, int port, bool quiet, TimeSpan drainTimeout)
    {
        var options = new HttpServerOptions { Host = host, Port = port, DrainTimeout = drainTimeout };
        if (!quiet)
        {
            options.AccessLog = static entry => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:HH:mm:ss} {entry.Method} {entry.Target} {entry.StatusCode} {entry.BodyBytes}B {entry.Duration.TotalMilliseconds:0.###}ms (request {entry.RequestOnConnection} on its connection)"));
        }
        await using var server = new HttpServer(options, DemoSite.Create());
        try
        {
            await server.StartAsync();
        }
        catch (SocketException ex)
        {
            Console.Error.WriteLine($"parley: cannot listen on {host}:{port}: {ex.Message}");
            return 2;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });

        Console.Out.WriteLine($"Parley demo site listening on {FormatUrl(server)} (Ctrl+C to stop)");
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

using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Server;

namespace Parley.Cli;

/// <summary>Runs a handler until Ctrl+C or SIGTERM, with an access log line per request unless quiet.</summary>
internal static class ServerHost
{
    /// <param name="listenSockets">
    /// Sockets already listening to serve on instead of binding <paramref name="host"/> and <paramref name="port"/>:
    /// from systemd socket activation, or a worker's from its supervisor (the main listener, then the redirect one).
    /// </param>
    /// <param name="worker">Whether this process is a worker of <c>--workers</c>: it says so instead of printing the banner.</param>
    public static async Task<int> RunAsync(RequestHandler handler, string host, int port, bool quiet, TimeSpan drainTimeout, TransportKind transport, Func<string, string> banner,
        HttpsSetup? https = null, IReadOnlyList<Socket>? listenSockets = null, bool worker = false, AccessLogSetting? accessLog = null, Action<HttpServerOptions>? configure = null)
    {
        var options = new HttpServerOptions { Host = host, Port = port, DrainTimeout = drainTimeout, Transport = transport };
        ServerTlsOptions? tls = https is null ? null : new ServerTlsOptions { Certificate = https.Certificate };
        listenSockets ??= [];
        // A worker's second socket is its redirect listener; socket activation's are all main listeners.
        int mainSockets = worker && https?.RedirectPort is not null ? 1 : listenSockets.Count;
        for (int i = 0; i < mainSockets; i++) options.Listeners.Add(ListenerOptions.FromSocket(listenSockets[i], tls));
        if (mainSockets == 0 && tls is not null) options.Listeners.Add(ListenerOptions.Https(host, port, tls));
        if (https is not null)
        {
            // Port 0 in the redirect listener means the HTTPS listener's port, whatever it was bound to.
            if (https.RedirectPort is int redirectPort)
            {
                options.Listeners.Add(listenSockets.Count > mainSockets
                    ? new ListenerOptions { ListenSocket = listenSockets[mainSockets], RedirectToHttpsPort = 0 }
                    : ListenerOptions.RedirectToHttps(host, redirectPort, 0));
            }
            // The walkthrough's field: browsers keep to HTTPS for this host for a year (sent over TLS only).
            options.StrictTransportSecurity = new StrictTransportSecurityOptions { MaxAge = TimeSpan.FromDays(365), IncludeSubDomains = true };
        }
        using AccessLogWriter? accessLogWriter = accessLog?.Open(Console.Error);
        if (accessLog is not null && accessLogWriter is null) return ParleyCommandLine.UsageError;
        // A worker's supervisor has said it already (the disposition is inherited by the workers).
        if (!worker && accessLog?.Path is not null && HangUpSignal.IsIgnored()) Console.Error.WriteLine(HangUpSignal.AccessLogWarning);
        options.AccessLogWriter = accessLogWriter;
        if (!quiet && accessLogWriter is null)
        {
            options.AccessLog = static entry => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:HH:mm:ss} {entry.Method} {entry.Target} {entry.StatusCode} {entry.BodyBytes}B {entry.Duration.TotalMilliseconds:0.###}ms (request {entry.RequestOnConnection} on its connection)"));
        }
        // Last, once the listeners are known: options such as --proxy-protocol act on each of them.
        configure?.Invoke(options);
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
        // A second signal during the drain delay ends the delay (the stop then goes on as usual).
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (!stop.TrySetResult()) _ = server.StopAsync();
        }
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        // SIGHUP after a log rotation renamed the file (logrotate's postrotate, or the supervisor passing it on).
        using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => { context.Cancel = true; accessLogWriter?.Reopen(); });
        string prefix = worker ? $"Worker {Environment.ProcessId}: " : "";
        if (worker)
        {
            _ = WorkerSupervisor.SupervisorGoneAsync().ContinueWith(_ => stop.TrySetResult(), TaskScheduler.Default);
            Console.Out.WriteLine($"{prefix}accepting on {FormatUrl(server.LocalEndPoint, https is null ? "http" : "https")}");
        }
        else
        {
            Console.Out.WriteLine(banner(FormatUrl(server.LocalEndPoint, https is null ? "http" : "https")));
        }
        if (https is not null && !worker)
        {
            if (https.RedirectPort is not null) Console.Out.WriteLine($"Redirecting {FormatUrl(server.LocalEndPoints[1], "http")} to HTTPS");
            foreach (string line in https.Notes) Console.Out.WriteLine(line);
            if (https.DevelopmentCertificatePath is { } path) Console.Out.WriteLine($"Trust it for one command: curl --cacert {path} https://localhost:{server.LocalEndPoint.Port}/");
        }
        await stop.Task;
        Console.Out.WriteLine(options.DrainDelay > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"{prefix}Stopping: readiness off, still serving for {options.DrainDelay.TotalSeconds:0.###} s (each response closes its connection), then finishing requests in flight...")
            : $"{prefix}Stopping: finishing requests in flight...");
        await server.StopAsync(drainTimeout);
        Console.Out.WriteLine($"{prefix}Stopped.");
        return 0;
    }

    internal static string FormatUrl(System.Net.IPEndPoint endPoint, string scheme)
    {
        string address = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString();
        return $"{scheme}://{address}:{endPoint.Port}/";
    }
}

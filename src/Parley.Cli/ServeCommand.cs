using System.CommandLine;
using Parley.Cli.Demo;
using Parley.Content;
using Parley.Content.StaticFiles;
using Parley.Server;

namespace Parley.Cli;

/// <summary><c>parley serve [DIR]</c>: serves a directory of files, or the embedded demo site without one.</summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter stderr)
    {
        var directory = new Argument<string?>("DIR")
        {
            Description = "Directory to serve; without it, the embedded demo site",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = result => result.Tokens is [{ Value: var path }] && (path.Length == 0 || !Directory.Exists(path))
                ? Invalid(result, path.Length == 0 ? "DIR wants a directory, not an empty string" : $"{Path.GetFullPath(path)} is not a directory")
                : result.Tokens.Count == 1 ? result.Tokens[0].Value : null,
        };
        var host = OptionValues.Text("--host", "Address to listen on (127.0.0.1, ::1, 0.0.0.0, localhost, * for all)", "127.0.0.1", OptionValues.ListenAddress);
        var port = OptionValues.Integer("--port", "TCP port to listen on (0: any free port; default 8080, or 8443 with --https)", 0, 65535, 8080, "a port number", "-p");
        var https = OptionValues.Flag("--https", "Serve HTTPS (TLS 1.2/1.3); without --cert or --pfx, with a self-signed development certificate for localhost");
        var cert = OptionValues.Text("--cert", "HTTPS: certificate file (PEM, may be followed by its intermediates); needs --key", null, OptionValues.ExistingFile);
        var key = OptionValues.Text("--key", "HTTPS: private key file (PEM) of --cert", null, OptionValues.ExistingFile);
        var keyPassword = OptionValues.Text("--key-password", "HTTPS: password of an encrypted --key", null, OptionValues.NotEmpty);
        var pfx = OptionValues.Text("--pfx", "HTTPS: certificate and key in a PKCS#12 file", null, OptionValues.ExistingFile);
        var pfxPassword = OptionValues.Text("--pfx-password", "HTTPS: password of --pfx", null, OptionValues.NotEmpty);
        var redirectHttp = OptionValues.OptionalInteger("--redirect-http", "HTTPS: also listen with plain HTTP on this port, redirecting every request to HTTPS (301; 308 for methods other than GET and HEAD)", 0, 65535, "a port number");
        var quiet = OptionValues.Flag("--quiet", "Do not print an access-log line per request", "-q");
        var accessLog = OptionValues.Text("--access-log", "Access log in FORMAT common, combined or json (one JSON object per line), to FILE or standard output; written off the request path, reopened on SIGHUP (log rotation)", null, AccessLogSetting.Problem);
        var workers = OptionValues.Integer("--workers", "Run N worker processes on the port (Linux; SO_REUSEPORT spreads connections between them); this process supervises them: it replaces one that exits and passes SIGTERM/SIGINT on", 1, 256, 1, "a number of processes");
        var drain = OptionValues.Seconds("--drain-timeout", "Seconds a graceful stop waits for requests in flight", 0, 3600, 10);
        // Epoll where it runs: the served handlers (files, demo pages) never block on the network, so the
        // event loops' inline handling is safe here, and it is what makes the static file server fast.
        bool epollRuns = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        var transport = OptionValues.Choice("--transport", "I/O layer: Epoll (Linux x64 event loops, handlers run inline; the default there) or Sockets (portable; the default elsewhere)", epollRuns ? TransportKind.Epoll : TransportKind.Sockets);
        var list = OptionValues.Flag("--list", "DIR: list directories that have no index.html");
        var cacheControl = OptionValues.Text("--cache-control", "DIR: Cache-Control value for files, e.g. \"public, max-age=3600\"", null, CacheControlProblem);
        var noCompress = OptionValues.Flag("--no-compress", "DIR: never compress on the fly (precompressed .br/.gz files are still used)");
        var dotfiles = OptionValues.Flag("--dotfiles", "DIR: serve and list names starting with '.'");
        var followSymlinks = OptionValues.Flag("--follow-symlinks", "DIR: follow symbolic links that lead outside DIR");
        var upstream = new UpstreamOptions();
        var noSecurityHeaders = OptionValues.Flag("--no-security-headers", "DIR: do not send X-Content-Type-Options, X-Frame-Options, Referrer-Policy, Content-Security-Policy");

        var command = new Command("serve", "Serve DIR as a static web site, or the embedded demo site of the classic HTTP session");
        command.Arguments.Add(directory);
        command.Validators.Add(result =>
        {
            // Presence only (GetResult): a value that failed its own check is reported by its option, and
            // reading it here would throw.
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            if ((Given(cert) || Given(key) || Given(pfx) || Given(redirectHttp)) && !Given(https)) result.AddError("--cert, --key, --pfx and --redirect-http go with --https");
            else if (Given(pfx) && (Given(cert) || Given(key))) result.AddError("give either --pfx or --cert with --key, not both");
            else if (Given(cert) != Given(key)) result.AddError("--cert and --key go together");
            upstream.Validate(result);
        });
        foreach (Option option in new Option[] { host, port, https, cert, key, keyPassword, pfx, pfxPassword, redirectHttp, quiet, accessLog, workers, drain, transport, list, cacheControl, noCompress, dotfiles, followSymlinks, noSecurityHeaders }.Concat(upstream.Options))
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellationToken) =>
        {
            string hostValue = parse.GetValue(host)!;
            bool httpsValue = parse.GetValue(https);
            int portValue = parse.GetResult(port) is { Implicit: false } ? parse.GetValue(port) : httpsValue ? 8443 : 8080;
            HttpsSetup? httpsSetup = null;
            if (httpsValue)
            {
                httpsSetup = HttpsSetup.Load(parse.GetValue(cert), parse.GetValue(key), parse.GetValue(keyPassword), parse.GetValue(pfx), parse.GetValue(pfxPassword), parse.GetValue(redirectHttp), stderr);
                if (httpsSetup is null) return Task.FromResult(ParleyCommandLine.UsageError);
            }
            bool quietValue = parse.GetValue(quiet);
            AccessLogSetting? accessLogValue = parse.GetValue(accessLog) is { } accessLogText ? AccessLogSetting.Parse(accessLogText) : null;
            TimeSpan drainTimeout = TimeSpan.FromSeconds(parse.GetValue(drain));
            TransportKind transportValue = parse.GetValue(transport);
            string? rootPath = parse.GetValue(directory);
            Server.RequestHandler handler;
            Func<string, string> banner;
            if (rootPath is null)
            {
                handler = DemoSite.Create();
                banner = url => $"Parley demo site listening on {url} (Ctrl+C to stop)";
                return ListenAsync(parse.GetValue(workers));
            }

            StaticFileHandler files;
            try
            {
                files = new StaticFileHandler(new StaticFileOptions
                {
                    Root = Path.GetFullPath(rootPath),
                    EnableDirectoryListing = parse.GetValue(list),
                    CacheControl = parse.GetValue(cacheControl),
                    EnableCompression = !parse.GetValue(noCompress),
                    ServeDotFiles = parse.GetValue(dotfiles),
                    FollowSymlinksOutsideRoot = parse.GetValue(followSymlinks),
                });
            }
            catch (DirectoryNotFoundException)
            {
                // Removed between the check and now.
                stderr.WriteLine($"parley: {Path.GetFullPath(rootPath)} is not a directory");
                return Task.FromResult(ParleyCommandLine.UsageError);
            }
            handler = parse.GetValue(noSecurityHeaders) ? files.Handler : SecurityHeaders.Wrap(files.Handler);
            banner = url => $"Parley serving {files.Root} on {url} (Ctrl+C to stop)";
            return ListenAsync(parse.GetValue(workers));

            // A worker serves its supervisor's sockets; a process started by systemd those it was passed;
            // with --workers, this process becomes the supervisor.
            Task<int> ListenAsync(int workerCount)
            {
                IReadOnlyList<System.Net.Sockets.Socket>? workerSockets = WorkerSupervisor.TakeWorkerSockets();
                IReadOnlyList<System.Net.Sockets.Socket> activated;
                try
                {
                    activated = workerSockets ?? SocketActivation.TakeListenSockets();
                }
                catch (InvalidOperationException ex)
                {
                    stderr.WriteLine($"parley: {ex.Message}");
                    return Task.FromResult(ParleyCommandLine.UsageError);
                }
                if (workerSockets is null && workerCount > 1)
                {
                    if (accessLogValue?.Path is not null && HangUpSignal.IsIgnored()) stderr.WriteLine(HangUpSignal.AccessLogWarning);
                    return SuperviseAsync(workerCount, activated.Count > 0, hostValue, portValue, httpsSetup, drainTimeout, banner, stderr);
                }
                return ServerHost.RunAsync(handler, hostValue, portValue, quietValue, drainTimeout, transportValue, banner, httpsSetup, activated, worker: workerSockets is not null,
                    accessLog: accessLogValue, configure: options => upstream.Apply(parse, options));
            }
        });
        return command;
    }

    private static async Task<int> SuperviseAsync(int workers, bool activated, string host, int port, HttpsSetup? https, TimeSpan drainTimeout, Func<string, string> banner, TextWriter stderr)
    {
        if (!OperatingSystem.IsLinux())
        {
            await stderr.WriteLineAsync("parley: --workers needs Linux (SO_REUSEPORT)");
            return ParleyCommandLine.UsageError;
        }
        if (activated)
        {
            await stderr.WriteLineAsync("parley: --workers does not go with socket activation (LISTEN_FDS): let the service manager start the processes");
            return ParleyCommandLine.UsageError;
        }
        System.Net.Sockets.Socket[]? main = WorkerSupervisor.Bind(host, port, workers, stderr);
        if (main is null) return ParleyCommandLine.UsageError;
        System.Net.Sockets.Socket[]? redirect = null;
        if (https?.RedirectPort is int redirectPort && (redirect = WorkerSupervisor.Bind(host, redirectPort, workers, stderr)) is null)
        {
            foreach (System.Net.Sockets.Socket socket in main) socket.Dispose();
            return ParleyCommandLine.UsageError;
        }
        var slots = new System.Net.Sockets.Socket[workers][];
        for (int i = 0; i < workers; i++) slots[i] = redirect is null ? [main[i]] : [main[i], redirect[i]];

        Console.Out.WriteLine(banner(ServerHost.FormatUrl((System.Net.IPEndPoint)main[0].LocalEndPoint!, https is null ? "http" : "https")));
        if (redirect is not null) Console.Out.WriteLine($"Redirecting {ServerHost.FormatUrl((System.Net.IPEndPoint)redirect[0].LocalEndPoint!, "http")} to HTTPS");
        if (https is not null)
        {
            foreach (string line in https.Notes) Console.Out.WriteLine(line);
        }
        Console.Out.WriteLine($"{workers} worker processes share the port (SO_REUSEPORT); one that exits is replaced");
        int status = await WorkerSupervisor.RunAsync(slots, drainTimeout, stderr);
        Console.Out.WriteLine("Stopped.");
        return status;
    }

    private static string? Invalid(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return null;
    }

    /// <summary>RFC 9111 §5.2: Cache-Control = #cache-directive; one line, no control characters.</summary>
    private static string? CacheControlProblem(string value) =>
        value.Trim().Length == 0 || value.AsSpan().IndexOfAnyInRange('\0', '\x1f') >= 0 || value.Contains('\x7f')
            ? $"wants a single-line value such as 'public, max-age=3600', not '{value}'"
            : null;
}

using System.CommandLine;
using Parley.Cli.Demo;
using Parley.Content;
using Parley.Content.StaticFiles;
using Parley.Server;

namespace Parley.Cli;

/// <summary><c>parley serve [DIR]</c>: serves a directory of files, or the embedded demo site without one.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo?>("DIR") { Description = "Directory to serve; without it, the embedded demo site", Arity = ArgumentArity.ZeroOrOne };
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1, ::1, 0.0.0.0, * for all)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port to listen on", DefaultValueFactory = _ => 8080 };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print an access-log line per request" };
        var drain = new Option<double>("--drain-timeout") { Description = "Seconds a graceful stop waits for requests in flight", DefaultValueFactory = _ => 10 };
        // Epoll where it runs: the served handlers (files, demo pages) never block on the network, so the
        // event loops' inline handling is safe here, and it is what makes the static file server fast.
        bool epollRuns = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        var transport = new Option<TransportKind>("--transport") { Description = "I/O layer: Epoll (Linux x64 event loops, handlers run inline; the default there) or Sockets (portable; the default elsewhere)", DefaultValueFactory = _ => epollRuns ? TransportKind.Epoll : TransportKind.Sockets };
        var list = new Option<bool>("--list") { Description = "DIR: list directories that have no index.html" };
        var cacheControl = new Option<string?>("--cache-control") { Description = "DIR: Cache-Control value for files, e.g. \"public, max-age=3600\"" };
        var noCompress = new Option<bool>("--no-compress") { Description = "DIR: never compress on the fly (precompressed .br/.gz files are still used)" };
        var dotfiles = new Option<bool>("--dotfiles") { Description = "DIR: serve and list names starting with '.'" };
        var followSymlinks = new Option<bool>("--follow-symlinks") { Description = "DIR: follow symbolic links that lead outside DIR" };
        var noSecurityHeaders = new Option<bool>("--no-security-headers") { Description = "DIR: do not send X-Content-Type-Options, X-Frame-Options, Referrer-Policy, Content-Security-Policy" };
        port.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 0 or > 65535) result.AddError($"--port must be 0-65535, not {value}");
        });
        cacheControl.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value is not null && (value.Length == 0 || value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)) result.AddError("--cache-control must be a non-empty single-line value");
        });

        var command = new Command("serve", "Serve DIR as a static web site, or the embedded demo site of the classic HTTP session");
        command.Arguments.Add(directory);
        foreach (Option option in new Option[] { host, port, quiet, drain, transport, list, cacheControl, noCompress, dotfiles, followSymlinks, noSecurityHeaders })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellationToken) =>
        {
            string hostValue = parse.GetValue(host)!;
            int portValue = parse.GetValue(port);
            bool quietValue = parse.GetValue(quiet);
            TimeSpan drainTimeout = TimeSpan.FromSeconds(parse.GetValue(drain));
            TransportKind transportValue = parse.GetValue(transport);
            DirectoryInfo? root = parse.GetValue(directory);
            if (root is null)
            {
                return ServerHost.RunAsync(DemoSite.Create(), hostValue, portValue, quietValue, drainTimeout, transportValue,
                    url => $"Parley demo site listening on {url} (Ctrl+C to stop)");
            }

            StaticFileHandler files;
            try
            {
                files = new StaticFileHandler(new StaticFileOptions
                {
                    Root = root.FullName,
                    EnableDirectoryListing = parse.GetValue(list),
                    CacheControl = parse.GetValue(cacheControl),
                    EnableCompression = !parse.GetValue(noCompress),
                    ServeDotFiles = parse.GetValue(dotfiles),
                    FollowSymlinksOutsideRoot = parse.GetValue(followSymlinks),
                });
            }
            catch (DirectoryNotFoundException)
            {
                Console.Error.WriteLine($"parley: {root.FullName} is not a directory");
                return Task.FromResult(2);
            }
            Server.RequestHandler handler = parse.GetValue(noSecurityHeaders) ? files.Handler : SecurityHeaders.Wrap(files.Handler);
            return ServerHost.RunAsync(handler, hostValue, portValue, quietValue, drainTimeout, transportValue,
                url => $"Parley serving {files.Root} on {url} (Ctrl+C to stop)");
        });
        return command;
    }
}

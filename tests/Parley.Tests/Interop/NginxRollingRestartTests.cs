using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Parley.Tests.Server;
using Xunit.Abstractions;

namespace Parley.Tests.Interop;

/// <summary>
/// nginx as a load balancer with upstream keep-alive over three <c>parley serve</c> instances: a bounded load
/// of form POSTs (which nginx does not retry on another instance once sent) runs while the instances are
/// restarted one at a time with SIGTERM. The drain (readiness off, a delay longer than nginx's upstream
/// keepalive_timeout during which every response closes its connection and idle ones are left alone, then
/// no new connections) must lose nothing: no 502, no "upstream prematurely closed connection".
/// </summary>
public sealed partial class NginxRollingRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Instances = 3;
    private const int Clients = 6;
    private const int MaxRequestsPerClient = 200_000;

    private static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "Parley.Cli.dll");

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"parley-nginx-lb-{Guid.NewGuid():N}");
    private readonly int[] _ports = new int[Instances];
    private readonly RunningTool?[] _parley = new RunningTool?[Instances];
    private readonly int _nginxPort = Loopback.FreePort();
    private RunningTool? _nginx;

    // Upstream connections idle longer than this are closed by nginx; Parley's drain delay must be longer.
    private const string UpstreamKeepaliveTimeout = "1s";
    private const string DrainDelaySeconds = "2";

    public async Task InitializeAsync()
    {
        string tmp = Path.Combine(_root, "tmp");
        Directory.CreateDirectory(tmp);
        // Each instance binds a free port of its own choosing, and is restarted on the same port.
        for (int i = 0; i < Instances; i++) _ports[i] = await StartParleyAsync(i, 0);
        // fail_timeout: an instance refused while it restarted is tried again after a second (the default
        // 10 s would leave no live instance when all three restart within 10 s).
        string servers = string.Join("\n", _ports.Select(port => $"        server 127.0.0.1:{port} fail_timeout=1s;"));
        string config = $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{_root}}/nginx.pid;
            error_log {{_root}}/error.log warn;
            events { worker_connections 512; }
            http {
                log_format upstream '$status $upstream_addr $upstream_status';
                access_log {{_root}}/access.log upstream;
                client_body_temp_path {{tmp}}/body;
                proxy_temp_path {{tmp}}/proxy;
                fastcgi_temp_path {{tmp}}/fastcgi;
                uwsgi_temp_path {{tmp}}/uwsgi;
                scgi_temp_path {{tmp}}/scgi;
                upstream parley {
            {{servers}}
                    keepalive 16;
                    keepalive_timeout {{UpstreamKeepaliveTimeout}};
                }
                server {
                    listen 127.0.0.1:{{_nginxPort}};
                    location / {
                        proxy_pass http://parley;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_next_upstream error timeout;
                        proxy_connect_timeout 5s;
                    }
                }
            }
            """;
        string configPath = Path.Combine(_root, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        _nginx = ExternalTool.Start("/usr/sbin/nginx", ["-p", _root, "-c", configPath, "-e", Path.Combine(_root, "error.log")]);
        await _nginx.WaitForPortAsync(_nginxPort, TimeSpan.FromSeconds(15));
    }

    private async Task<int> StartParleyAsync(int instance, int port)
    {
        RunningTool parley = ExternalTool.Start("dotnet",
        [
            CliAssembly, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--quiet", "--health",
            "--drain-delay", DrainDelaySeconds, "--drain-timeout", "10", "--trusted-proxy", "127.0.0.1",
        ]);
        _parley[instance] = parley;
        await WaitUntilAsync(() => ListeningLine().IsMatch(parley.StdOut) || parley.HasExited, $"instance {instance} listening");
        Match listening = ListeningLine().Match(parley.StdOut);
        Assert.True(listening.Success, parley.StdErr);
        return int.Parse(listening.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"listening on http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex ListeningLine();

    [Fact]
    public async Task Restarting_every_instance_under_a_POST_load_loses_no_request()
    {
        using var stopLoad = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        int succeeded = 0;
        var failures = new ConcurrentQueue<string>();
        async Task LoadAsync(int client)
        {
            RawConnection? connection = null;
            try
            {
                for (int i = 0; i < MaxRequestsPerClient && !stopLoad.IsCancellationRequested; i++)
                {
                    string value = $"c{client}n{i}";
                    try
                    {
                        connection ??= await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, _nginxPort));
                        string body = $"name={value}&message=hello";
                        await connection.SendAsync($"POST /contact_form.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\n\r\n{body}");
                        RawResponse response = await connection.ReadResponseAsync(timeout: TimeSpan.FromSeconds(30));
                        if (response.StatusCode == 200 && response.BodyText.Contains(value, StringComparison.Ordinal)) Interlocked.Increment(ref succeeded);
                        else failures.Enqueue($"{value}: {response.StatusLine}");
                        if (string.Equals(response.Header("Connection"), "close", StringComparison.OrdinalIgnoreCase))
                        {
                            await connection.DisposeAsync();
                            connection = null;
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        failures.Enqueue($"{value}: {ex.GetType().Name}: {ex.Message}");
                        if (connection is not null) await connection.DisposeAsync();
                        connection = null;
                    }
                }
            }
            finally
            {
                if (connection is not null) await connection.DisposeAsync();
            }
        }

        var clock = Stopwatch.StartNew();
        Task[] load = [.. Enumerable.Range(0, Clients).Select(client => Task.Run(() => LoadAsync(client)))];
        await WaitUntilAsync(() => Volatile.Read(ref succeeded) >= 300, "the load got going");
        for (int i = 0; i < Instances; i++)
        {
            RunningTool old = _parley[i]!;
            Process.Start("kill", ["-TERM", old.ProcessId.ToString(CultureInfo.InvariantCulture)]).WaitForExit();
            Assert.Equal(0, await old.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("Stopping: readiness off", old.StdOut);
            old.Dispose();
            long logged = new FileInfo(Path.Combine(_root, "access.log")).Length;
            Assert.Equal(_ports[i], await StartParleyAsync(i, _ports[i]));
            // As a rolling deploy does: the next instance goes only once nginx sends to this one again.
            string upstream = $"127.0.0.1:{_ports[i]}";
            await WaitUntilAsync(() => AccessLines(logged).Any(line => line.StartsWith($"200 {upstream} ", StringComparison.Ordinal)), $"nginx sent to instance {i} again");
        }
        stopLoad.Cancel();
        await Task.WhenAll(load);
        clock.Stop();

        string errorLog = File.Exists(Path.Combine(_root, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(_root, "error.log")) : "";
        string[] accessLines = AccessLines();
        int retried = accessLines.Count(line => line.Contains(", ", StringComparison.Ordinal));
        var perInstance = _ports.Select(port => accessLines.Count(line => UpstreamOf(line).EndsWith($":{port}", StringComparison.Ordinal))).ToArray();
        output.WriteLine($"{succeeded} POSTs answered in {clock.Elapsed.TotalSeconds:F1} s through nginx while {Instances} instances restarted; " +
            $"{failures.Count} failed; {retried} passed to another instance after a refused connection; per instance {string.Join("/", perInstance)}");
        foreach (var kind in errorLog.Split('\n').Select(line => ErrorKind().Match(line)).Where(m => m.Success).GroupBy(m => m.Groups[1].Value))
        {
            output.WriteLine($"nginx error.log: {kind.Count()} x {kind.Key}");
        }
        Assert.True(failures.IsEmpty, $"{failures.Count} of {succeeded + failures.Count} POSTs failed: {string.Join("; ", failures.Take(5))}");
        Assert.DoesNotContain("prematurely closed", errorLog);
        Assert.DoesNotContain("reset by peer", errorLog);
        Assert.All(perInstance, count => Assert.True(count > 0, "an instance served nothing"));
    }

    private string[] AccessLines(long from = 0)
    {
        using var stream = new FileStream(Path.Combine(_root, "access.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = from;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    // The last upstream address an access-log line names ("200 127.0.0.1:1, 127.0.0.1:2 502, 200").
    private static string UpstreamOf(string line)
    {
        Match match = UpstreamAddresses().Match(line);
        return match.Success ? match.Groups[1].Value : "";
    }

    [GeneratedRegex(@"\[(?:error|warn)\] \d+#\d+: \*\d+ ([^,]*)")]
    private static partial Regex ErrorKind();

    [GeneratedRegex(@"^\d{3} (?:[\d.:]+, )*([\d.:]+) ")]
    private static partial Regex UpstreamAddresses();

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(90)) throw new TimeoutException($"waited 90 s for: {what}");
            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        _nginx?.Dispose();
        foreach (RunningTool? parley in _parley)
        {
            if (parley is not null) await parley.DisposeAsync();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

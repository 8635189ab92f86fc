using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley;
using Parley.Client;
using Parley.Server;

// Client benchmark: many small GETs over keep-alive against one local Parley server, sequential and 16
// concurrent, for ParleyClient, HttpClient (SocketsHttpHandler), curl and a raw-socket floor.
//
//   dotnet run -c Release --project bench/ClientBench [-- requests [rounds [tls]]]
//
// With "tls" the same runs go over https (TlsSetup.cs), and the handshake time saved by session
// resumption is measured first.
//
// Three processes: this launcher, the server (pinned to CPU 0, epoll transport, one event loop) and the
// client (pinned to CPU 1), so the client's CPU and allocation counters measure the client alone and the
// server never competes with it for a core. See README.md for exactly what is measured.

const int Concurrency = 16;

switch (args)
{
    case ["resume", string url, string resumePem, string countText]:
        // The resumption measurement alone, against any https server (e.g. nginx with ssl_session_tickets).
        await TlsSetup.MeasureResumptionAsync(new Uri(url), resumePem, int.Parse(countText, CultureInfo.InvariantCulture));
        return 0;
    case ["serve", .. var serveArgs]:
        return await ServeAsync(serveArgs is ["tls"]);
    case ["client", string portText, string requestsText, string roundsText, .. var tlsArgs]:
        return await ClientAsync(int.Parse(portText, CultureInfo.InvariantCulture),
            int.Parse(requestsText, CultureInfo.InvariantCulture), int.Parse(roundsText, CultureInfo.InvariantCulture),
            tlsArgs is [string pemPath] ? pemPath : null);
    default:
        return Launch(args);
}

// The launcher: server on CPU 0, client on CPU 1 (taskset), output passed through.
static int Launch(string[] args)
{
    int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
    int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
    bool tls = args.Length > 2 && args[2] == "tls";
    string entry = Path.Combine(AppContext.BaseDirectory, "ClientBench.dll");
    bool pin = File.Exists("/usr/bin/taskset") && Environment.ProcessorCount >= 2;
    if (!pin) Console.WriteLine("warning: not pinning (needs /usr/bin/taskset and 2 cores): server and client share the cores");

    using Process server = Start(pin ? "0" : null, entry, tls ? "serve tls" : "serve", redirectInput: true);
    string? line = server.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the server did not start");
    try
    {
        Console.WriteLine(line);
        string[] words = line.Split(' ');
        string port = words[1];
        // A TLS server's line ends with "pem PATH": the certificate the clients trust.
        string pem = tls ? " " + words[^1] : "";
        using Process client = Start(pin ? "1" : null, entry, $"client {port} {requests} {rounds}{pem}", redirectInput: false);
        while (client.StandardOutput.ReadLine() is { } output) Console.WriteLine(output);
        client.WaitForExit();
        return client.ExitCode;
    }
    finally
    {
        server.StandardInput.WriteLine();
        if (!server.WaitForExit(3000)) server.Kill();
    }

    static Process Start(string? cpu, string entry, string arguments, bool redirectInput)
    {
        // Under `dotnet run` this process is the apphost; under `dotnet ClientBench.dll`, the dotnet host.
        string self = Environment.ProcessPath ?? "dotnet";
        string command = Path.GetFileNameWithoutExtension(self) == "dotnet" ? $"{self} {entry} {arguments}" : $"{self} {arguments}";
        var psi = cpu is null
            ? new ProcessStartInfo("/bin/sh", ["-c", $"exec {command}"])
            : new ProcessStartInfo("/usr/bin/taskset", $"-c {cpu} {command}");
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardInput = redirectInput;
        return Process.Start(psi)!;
    }
}

static async Task<int> ServeAsync(bool tls)
{
    var options = new HttpServerOptions
    {
        Host = "127.0.0.1", Port = 0, ErrorLog = null, MaxRequestsPerConnection = int.MaxValue,
        // Rounds on a loaded machine can leave a client's connections idle for minutes: keep them.
        KeepAliveTimeout = TimeSpan.FromMinutes(30),
        Transport = OperatingSystem.IsLinux() ? TransportKind.Epoll : TransportKind.Sockets, EpollThreadCount = 1,
    };
    string pemNote = "";
    if (tls)
    {
        (var certificate, string pemPath) = TlsSetup.MakeCertificate();
        TlsSetup.Listen(options, certificate);
        pemNote = $" tls pem {pemPath}";
    }
    await using var server = new HttpServer(options, static (request, response) =>
    {
        response.WriteText("Hello, World!");
        return ValueTask.CompletedTask;
    });
    await server.StartAsync();
    Console.WriteLine($"server {server.LocalEndPoint.Port} pid {Environment.ProcessId} transport {options.Transport} cpus {CpusAllowed()}{pemNote}");
    Console.ReadLine();
    return 0;
}

static async Task<int> ClientAsync(int port, int requests, int rounds, string? tlsPem)
{
    var uri = new Uri($"{(tlsPem is null ? "http" : "https")}://127.0.0.1:{port}/plaintext");
    Console.WriteLine($"client pid {Environment.ProcessId} cpus {CpusAllowed()} ({Environment.ProcessorCount} for .NET); " +
        $"{requests} GETs of a 13-byte body per run, {rounds} rounds, median of rounds");

    var parleyOptions = new ParleyClientOptions { UserAgent = null };
    var parleyEpollOptions = new ParleyClientOptions { UserAgent = null, Transport = TransportKind.Epoll };
    var handler = new SocketsHttpHandler { UseCookies = false, AutomaticDecompression = DecompressionMethods.None };
    if (tlsPem is not null)
    {
        TlsSetup.Trust(parleyOptions, tlsPem);
        TlsSetup.Trust(parleyEpollOptions, tlsPem);
        TlsSetup.Trust(handler, tlsPem);
        await TlsSetup.MeasureResumptionAsync(uri, tlsPem, 200);
    }
    using var parley = new ParleyClient(parleyOptions);
    using var parleyEpoll = new ParleyClient(parleyEpollOptions);
    using var http = new HttpClient(handler);

    async Task ParleyGet()
    {
        using ParleyResponse response = await parley.SendAsync(new ParleyRequest("GET", uri));
        _ = await response.ReadAsByteArrayAsync();
    }

    async Task ParleyEpollGet()
    {
        using ParleyResponse response = await parleyEpoll.SendAsync(new ParleyRequest("GET", uri));
        _ = await response.ReadAsByteArrayAsync();
    }

    async Task HttpClientGet()
    {
        using HttpResponseMessage response = await http.GetAsync(uri);
        _ = await response.Content.ReadAsByteArrayAsync();
    }

    // The floor: the socket round trip alone (pre-encoded request, the response is only searched for the
    // end of its body, one pooled socket per worker). No client can be faster against the same server.
    var rawSockets = new System.Collections.Concurrent.ConcurrentBag<Socket>();
    byte[] rawRequest = System.Text.Encoding.ASCII.GetBytes($"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    async Task RawSocketGet()
    {
        if (!rawSockets.TryTake(out Socket? socket))
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port);
        }
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        await socket.SendAsync(rawRequest);
        int total = 0;
        while (total < 13 || !buffer.AsSpan(0, total).EndsWith("Hello, World!"u8))
        {
            int received = await socket.ReceiveAsync(buffer.AsMemory(total));
            if (received == 0)
            {
                // The server closed this pooled socket: start over on a new one.
                socket.Dispose();
                socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, port);
                await socket.SendAsync(rawRequest);
                total = 0;
                continue;
            }
            total += received;
        }
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        rawSockets.Add(socket);
    }

    var clients = new List<(string Name, Func<Task>? Get)>
    {
        ("raw socket", RawSocketGet), ("ParleyClient", ParleyGet), ("Parley epoll", ParleyEpollGet), ("HttpClient", HttpClientGet),
    };
    // The raw-socket floor speaks plain HTTP only.
    if (tlsPem is not null) clients.RemoveAt(0);
    string? curl = new[] { "/usr/bin/curl", "/usr/local/bin/curl" }.FirstOrDefault(File.Exists);
    string? curlConfig = null;
    if (curl is not null)
    {
        // One curl process fetches N URLs, keeping its connections alive between them.
        curlConfig = Path.GetTempFileName();
        IEnumerable<string> lines = Enumerable.Repeat($"url = \"{uri}\"\noutput = \"/dev/null\"", requests).Prepend("silent");
        if (tlsPem is not null) lines = lines.Prepend($"cacert = \"{tlsPem}\"");
        await File.WriteAllLinesAsync(curlConfig, lines);
        clients.Add(("curl", null));
    }

    // CLIENTBENCH_ONLY=name,name runs only those clients (for profiling one of them).
    if (Environment.GetEnvironmentVariable("CLIENTBENCH_ONLY") is { Length: > 0 } only)
    {
        clients.RemoveAll(c => !only.Split(',').Contains(c.Name));
    }

    var clock = Stopwatch.StartNew();
    try
    {
        // Warm-up: tiering (Tier0 -> instrumented -> Tier1), connection pools filled for both modes.
        foreach ((string _, Func<Task>? get) in clients)
        {
            if (get is null) continue;
            for (int i = 0; i < 2; i++)
            {
                await RunAsync(get, Math.Min(requests, 5000), 1);
                await RunAsync(get, Math.Min(requests, 5000), Concurrency);
            }
        }

        // Rounds: every client and mode once per round, the starting client rotating from round to round.
        var results = new Dictionary<(string Name, int Concurrency), List<Result>>();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < clients.Count; k++)
            {
                (string name, Func<Task>? get) = clients[(round + k) % clients.Count];
                foreach (int concurrency in new[] { 1, Concurrency })
                {
                    Result? result = get is not null
                        ? await RunAsync(get, requests, concurrency)
                        : await RunCurlAsync(curl!, curlConfig!, requests, concurrency);
                    if (result is null) continue;
                    if (!results.TryGetValue((name, concurrency), out List<Result>? list)) results[(name, concurrency)] = list = [];
                    list.Add(result.Value);
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"client",-13} {"mode",-14} {"req/s",9} {"(min-max)",17} {"B/req",8} {"CPU µs/req",11} {"TP items/req",13}");
        foreach (((string name, int concurrency), List<Result> list) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-13} {Mode(concurrency),-14} {Median(list, r => r.Rate),9:0} {$"({list.Min(r => r.Rate):0}-{list.Max(r => r.Rate):0})",17} " +
                $"{(name == "curl" ? "n/a" : Median(list, r => r.Bytes).ToString("0", CultureInfo.InvariantCulture)),8} {Median(list, r => r.CpuMicroseconds),11:0.0} {(name == "curl" ? "n/a" : Median(list, r => r.WorkItems).ToString("0.00", CultureInfo.InvariantCulture)),13}"));
        }
        Console.WriteLine();
        foreach (string parleyName in new[] { "ParleyClient", "Parley epoll" })
        foreach (int concurrency in new[] { 1, Concurrency })
        {
            if (!results.TryGetValue((parleyName, concurrency), out List<Result>? parleyResults)
                || !results.TryGetValue(("HttpClient", concurrency), out List<Result>? httpResults)) continue;
            // Same round, same conditions: the median of the per-round ratios.
            var ratios = parleyResults.Zip(httpResults, (p, h) => p.Rate / h.Rate).ToList();
            var cpuRatios = parleyResults.Zip(httpResults, (p, h) => h.CpuMicroseconds / p.CpuMicroseconds).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{parleyName} / HttpClient, {Mode(concurrency)}: req/s {Median(ratios, x => x):0.00}x (rounds {string.Join(' ', ratios.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))}), " +
                $"CPU per request {Median(cpuRatios, x => x):0.00}x less, bytes per request {Median(httpResults, r => r.Bytes) / Median(parleyResults, r => r.Bytes):0.0}x fewer"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"elapsed {clock.Elapsed.TotalSeconds:0} s"));
    }
    finally
    {
        if (curlConfig is not null) File.Delete(curlConfig);
    }
    return 0;

    static string Mode(int concurrency) => concurrency == 1 ? "sequential" : $"{concurrency} concurrent";
}

static double Median<T>(List<T> items, Func<T, double> selector)
{
    double[] values = items.Select(selector).Order().ToArray();
    return values.Length % 2 == 1 ? values[values.Length / 2] : (values[values.Length / 2 - 1] + values[values.Length / 2]) / 2;
}

// One run: `count` requests split over `concurrency` workers, each awaiting its requests one after another.
static async Task<Result> RunAsync(Func<Task> get, int count, int concurrency)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    TimeSpan cpuBefore = CpuTime();
    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    long workItemsBefore = ThreadPool.CompletedWorkItemCount;
    var clock = Stopwatch.StartNew();
    var workers = new Task[concurrency];
    int share = count / concurrency;
    for (int w = 0; w < concurrency; w++)
    {
        workers[w] = Task.Run(async () =>
        {
            for (int i = 0; i < share; i++) await get();
        });
    }
    await Task.WhenAll(workers);
    clock.Stop();
    long workItems = ThreadPool.CompletedWorkItemCount - workItemsBefore;
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    TimeSpan cpu = CpuTime() - cpuBefore;
    int done = share * concurrency;
    return new Result(done / clock.Elapsed.TotalSeconds, allocated / (double)done, cpu.TotalMicroseconds / done, workItems / (double)done);
}

// curl on the client's CPU (inherited affinity): sequential is one process fetching N URLs over one
// keep-alive connection; concurrent is `--parallel --parallel-max 16`. Its CPU time is the children's
// rusage; the rate includes process start.
static async Task<Result?> RunCurlAsync(string curl, string config, int count, int concurrency)
{
    string[] arguments = concurrency == 1
        ? ["--config", config]
        : ["--parallel", "--parallel-max", concurrency.ToString(CultureInfo.InvariantCulture), "--config", config];
    TimeSpan cpuBefore = ChildrenCpuTime();
    var clock = Stopwatch.StartNew();
    using Process process = Process.Start(new ProcessStartInfo(curl, arguments) { RedirectStandardError = true })!;
    string errors = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    clock.Stop();
    TimeSpan cpu = ChildrenCpuTime() - cpuBefore;
    if (process.ExitCode != 0)
    {
        Console.WriteLine($"curl {string.Join(' ', arguments)} exited with {process.ExitCode}: {errors.Trim()}");
        return null;
    }
    return new Result(count / clock.Elapsed.TotalSeconds, double.NaN, cpu.TotalMicroseconds / count, double.NaN);
}

static TimeSpan CpuTime()
{
    using Process self = Process.GetCurrentProcess();
    return self.TotalProcessorTime;
}

static TimeSpan ChildrenCpuTime()
{
    if (!OperatingSystem.IsLinux() || Native.getrusage(-1 /* RUSAGE_CHILDREN */, out Native.RUsage usage) != 0) return TimeSpan.Zero;
    return TimeSpan.FromMicroseconds(usage.UserSeconds * 1e6 + usage.UserMicroseconds + usage.SystemSeconds * 1e6 + usage.SystemMicroseconds);
}

static string CpusAllowed()
{
    if (!File.Exists("/proc/self/status")) return "?";
    string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
    return line?["Cpus_allowed_list:".Length..].Trim() ?? "?";
}

internal readonly record struct Result(double Rate, double Bytes, double CpuMicroseconds, double WorkItems);

internal static partial class Native
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVcsw, NIvcsw;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    internal static partial int getrusage(int who, out RUsage usage);
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using Parley.Client;
using Parley.Server;

// Client benchmark: many small GETs over keep-alive against one local Parley server running in a child
// process (so the allocation counters measure the client alone), sequential and 16 concurrent, for
// ParleyClient, HttpClient (SocketsHttpHandler) and curl (one process, N URLs, keep-alive).
//
//   dotnet run -c Release --project bench/ClientBench [-- requests]

if (args is ["serve", ..])
{
    var options = new HttpServerOptions { Host = "127.0.0.1", Port = 0, ErrorLog = null, MaxRequestsPerConnection = int.MaxValue };
    await using var server = new HttpServer(options, static (request, response) =>
    {
        response.WriteText("Hello, World!");
        return ValueTask.CompletedTask;
    });
    await server.StartAsync();
    Console.WriteLine(server.LocalEndPoint.Port);
    Console.ReadLine();
    return 0;
}

int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
const int Concurrency = 16;

using Process serverProcess = StartServer(out int port);
try
{
    var uri = new Uri($"http://127.0.0.1:{port}/plaintext");
    Console.WriteLine($"Client benchmark: {requests} GETs of a 13-byte body per run, server in process {serverProcess.Id} on port {port}, {Environment.ProcessorCount} cores");
    Console.WriteLine($"{"client",-12} {"mode",-14} {"req/s",10} {"B/req",8} {"CPU µs/req",10}");

    using var parley = new ParleyClient(new ParleyClientOptions { UserAgent = null });
    using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AutomaticDecompression = DecompressionMethods.None });

    async Task ParleyGet()
    {
        using ParleyResponse response = await parley.SendAsync(new ParleyRequest("GET", uri));
        _ = await response.ReadAsByteArrayAsync();
    }

    // The floor: what the socket round trip alone costs (pre-encoded request, no parsing, one connection
    // per worker). No client can be faster than this on the same server.
    var rawSockets = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.Socket>();
    byte[] rawRequest = System.Text.Encoding.ASCII.GetBytes($"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    async Task RawSocketGet()
    {
        if (!rawSockets.TryTake(out System.Net.Sockets.Socket? socket))
        {
            socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port);
        }
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        await socket.SendAsync(rawRequest);
        int total = 0;
        while (total < 13 || !buffer.AsSpan(0, total).EndsWith("Hello, World!"u8))
        {
            total += await socket.ReceiveAsync(buffer.AsMemory(total));
        }
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        rawSockets.Add(socket);
    }

    async Task HttpClientGet()
    {
        using HttpResponseMessage response = await http.GetAsync(uri);
        _ = await response.Content.ReadAsByteArrayAsync();
    }

    // The machine is shared and noisy: clients take turns over several rounds, and the best round counts.
    var clients = new[] { ("raw socket", (Func<Task>)RawSocketGet), ("ParleyClient", ParleyGet), ("HttpClient", HttpClientGet) };
    var best = new Dictionary<string, (double Rate, double Bytes, double Cpu)>();
    foreach ((string name, Func<Task> get) in clients)
    {
        await RunAsync(name, get, Math.Min(requests, 5000), 1); // warm-up: tiering and pools
        await RunAsync(name, get, Math.Min(requests, 5000), Concurrency);
    }
    for (int round = 0; round < 3; round++)
    {
        foreach ((string name, Func<Task> get) in clients)
        {
            foreach (int concurrency in new[] { 1, Concurrency })
            {
                (double rate, double bytes, double cpu) = await RunAsync(name, get, requests, concurrency);
                string key = $"{name,-12} {(concurrency == 1 ? "sequential" : $"{concurrency} concurrent"),-14}";
                best[key] = best.TryGetValue(key, out var old) ? (Math.Max(old.Rate, rate), Math.Min(old.Bytes, bytes), Math.Min(old.Cpu, cpu)) : (rate, bytes, cpu);
            }
        }
    }
    foreach ((string key, (double rate, double bytes, double cpu)) in best)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key} {rate,10:0} {bytes,8:0} {cpu,10:0.0}"));
    }
    await RunCurlAsync(uri, Math.Min(requests, 10_000));
}
finally
{
    serverProcess.StandardInput.WriteLine();
    if (!serverProcess.WaitForExit(3000)) serverProcess.Kill();
}
return 0;

static async Task<(double Rate, double Bytes, double Cpu)> RunAsync(string name, Func<Task> get, int count, int concurrency)
{
    GC.Collect();
    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
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
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    int done = share * concurrency;
    return (done / clock.Elapsed.TotalSeconds, allocated / (double)done, cpu.TotalMicroseconds / done);
}

static async Task RunCurlAsync(Uri uri, int count)
{
    string? curl = new[] { "/usr/bin/curl", "/usr/local/bin/curl" }.FirstOrDefault(File.Exists);
    if (curl is null)
    {
        Console.WriteLine("curl         (not installed)");
        return;
    }
    string config = Path.GetTempFileName();
    try
    {
        // One curl process, N URLs: curl keeps the connection alive between them.
        await File.WriteAllLinesAsync(config, Enumerable.Repeat($"url = \"{uri}\"\noutput = \"/dev/null\"", count).Prepend("silent"));
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(new ProcessStartInfo(curl, ["--config", config]) { RedirectStandardError = true })!;
        await process.WaitForExitAsync();
        clock.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"curl",-12} {"sequential",-14} {count / clock.Elapsed.TotalSeconds,10:0} {"n/a",8}  (exit {process.ExitCode}, includes process start)"));
    }
    finally
    {
        File.Delete(config);
    }
}

static Process StartServer(out int port)
{
    string entry = Path.Combine(AppContext.BaseDirectory, "ClientBench.dll");
    var psi = new ProcessStartInfo("dotnet", [entry, "serve"]) { RedirectStandardOutput = true, RedirectStandardInput = true };
    Process process = Process.Start(psi)!;
    string? line = process.StandardOutput.ReadLine();
    port = int.Parse(line ?? throw new InvalidOperationException("the server did not start"), CultureInfo.InvariantCulture);
    return process;
}

using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Parley.Server;
using Parley.Tests.Observability;

namespace Parley.Tests.Server;

/// <summary>
/// <see cref="AccessLogWriter"/>: the exact lines of each format, lines dropped and counted (never a request
/// held up) while the file does not keep up, and reopening the file after a rotation renamed it.
/// </summary>
[Collection(TelemetryCollection.Name)]
public partial class AccessLogTests : TransportTests
{
    private static readonly RequestHandler Hello = (request, response) =>
    {
        if (request.Path == "/missing") response.StatusCode = 404;
        else response.WriteText("hello");
        return ValueTask.CompletedTask;
    };

    // A Referer with a quote and a backslash, a User-Agent with a byte beyond ASCII (obs-text, RFC 9110 §5.5).
    private const string Requests =
        "GET /a?b=%22c HTTP/1.1\r\nHost: x\r\nReferer: http://r/\"q\\\r\nUser-Agent: agent\xE9 1.0\r\n\r\n" +
        "HEAD /missing HTTP/1.0\r\nHost: x\r\n\r\n";

    [Theory]
    [InlineData(AccessLogFormat.Common,
        "127.0.0.1 - - [TIME +0000] \"GET /a?b=%22c HTTP/1.1\" 200 5",
        "127.0.0.1 - - [TIME +0000] \"HEAD /missing HTTP/1.0\" 404 -")]
    [InlineData(AccessLogFormat.Combined,
        "127.0.0.1 - - [TIME +0000] \"GET /a?b=%22c HTTP/1.1\" 200 5 \"http://r/\\x22q\\x5C\" \"agent\\xE9 1.0\"",
        "127.0.0.1 - - [TIME +0000] \"HEAD /missing HTTP/1.0\" 404 - \"-\" \"-\"")]
    [InlineData(AccessLogFormat.JsonLines,
        "{\"time\":\"TIME\",\"remote\":\"127.0.0.1\",\"method\":\"GET\",\"target\":\"/a?b=%22c\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":5,\"duration_ms\":MS,\"referer\":\"http://r/\\\"q\\\\\",\"user_agent\":\"agent\\u00E9 1.0\",\"connection\":1,\"request_on_connection\":1}",
        "{\"time\":\"TIME\",\"remote\":\"127.0.0.1\",\"method\":\"HEAD\",\"target\":\"/missing\",\"protocol\":\"HTTP/1.0\",\"status\":404,\"bytes\":0,\"duration_ms\":MS,\"referer\":null,\"user_agent\":null,\"connection\":1,\"request_on_connection\":2}")]
    public async Task Each_format_writes_the_expected_lines(AccessLogFormat format, string first, string second)
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-access-{Guid.NewGuid():N}.log");
        try
        {
            DateTime before = DateTime.UtcNow.AddSeconds(-1);
            using (var writer = new AccessLogWriter(format, path))
            {
                await using TestServer server = await StartAsync(Hello, options => options.AccessLogWriter = writer);
                await using RawConnection connection = await server.ConnectAsync();
                await connection.SendAsync(Requests);
                Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
                Assert.Equal(404, (await connection.ReadResponseAsync(headRequest: true)).StatusCode);
                await connection.IsClosedByServerAsync();
            }
            DateTime after = DateTime.UtcNow.AddSeconds(1);

            string[] lines = File.ReadAllText(path, Encoding.Latin1).Split('\n');
            Assert.Equal(3, lines.Length);
            Assert.Equal("", lines[2]);
            Assert.Equal(first, Normalize(lines[0], format, before, after));
            Assert.Equal(second, Normalize(lines[1], format, before, after));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_access_log_callback_gets_what_was_asked_and_answered_and_a_refused_request_as_dashes()
    {
        var entries = new List<AccessLogEntry>();
        await using TestServer server = await StartAsync(Hello, options =>
        {
            options.AccessLog = entry =>
            {
                lock (entries) entries.Add(entry);
            };
            options.MaxRequestBodySize = 10;
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /a?b=%22c HTTP/1.1\r\nHost: x\r\n\r\nHEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            Assert.Equal(404, (await connection.ReadResponseAsync(headRequest: true)).StatusCode);
        }
        // Refused before any handler ran: a body over the limit (RFC 9110 §15.5.14), a request line that does not parse.
        Assert.StartsWith("HTTP/1.1 413 ", await server.ExchangeUntilCloseAsync("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400 ", await server.ExchangeUntilCloseAsync("NOT AN HTTP REQUEST\r\n\r\n"));
        TimeSpan elapsed = clock.Elapsed;
        await WaitUntilAsync(() =>
        {
            lock (entries) return entries.Count == 4;
        });

        AccessLogEntry[] logged;
        lock (entries) logged = [.. entries];
        Assert.Equal(("GET", "/a?b=%22c", 200, 5L, 1), (logged[0].Method, logged[0].Target, logged[0].StatusCode, logged[0].BodyBytes, logged[0].RequestOnConnection));
        Assert.Equal(("HEAD", "/missing", 404, 2), (logged[1].Method, logged[1].Target, logged[1].StatusCode, logged[1].RequestOnConnection));
        Assert.Equal(("-", "-", 413), (logged[2].Method, logged[2].Target, logged[2].StatusCode));
        Assert.Equal(("-", "-", 400), (logged[3].Method, logged[3].Target, logged[3].StatusCode));
        // Each duration is the request's own, within the time the test took (not counted from some other clock's zero).
        Assert.All(logged, entry => Assert.InRange(entry.Duration, TimeSpan.Zero, elapsed));
    }

    [Fact]
    public async Task A_line_gives_the_forwarded_client_and_the_arrival_time_and_of_a_refused_request_only_the_connection()
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-access-{Guid.NewGuid():N}.log");
        try
        {
            DateTime sent, entered = default;
            using (var writer = new AccessLogWriter(AccessLogFormat.JsonLines, path))
            {
                await using TestServer server = await StartAsync(async (request, response) =>
                {
                    entered = DateTime.UtcNow;
                    // A handler that takes a while: the line's time is when the request came, not when it was answered.
                    await Task.Delay(300);
                    response.WriteText("slow");
                }, options =>
                {
                    options.AccessLogWriter = writer;
                    options.MaxRequestBodySize = 10;
                    options.TrustedProxies.Add(IPNetwork.Parse("127.0.0.0/8"));
                });
                sent = DateTime.UtcNow;
                Assert.Contains("slow", await server.ExchangeUntilCloseAsync("GET /slow HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n"));
                Assert.StartsWith("HTTP/1.1 413 ", await server.ExchangeUntilCloseAsync("POST /big HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nContent-Length: 11\r\n\r\n"));
                Assert.StartsWith("HTTP/1.1 400 ", await server.ExchangeUntilCloseAsync("NOT AN HTTP REQUEST\r\n\r\n"));
                await WaitUntilAsync(() => writer.WrittenLines == 3);
            }

            JsonElement[] lines = [.. File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement)];
            Assert.Equal(3, lines.Length);
            Assert.Equal(("203.0.113.7", "GET", "/slow", 200), Summary(lines[0]));
            // The time is written to the millisecond, cut (not rounded): at most the handler's start, at least the send's.
            DateTime arrived = lines[0].GetProperty("time").GetDateTime().ToUniversalTime();
            Assert.True(arrived >= sent.AddMilliseconds(-1) && arrived <= entered, $"sent {sent:O}, handler entered {entered:O}, line {File.ReadAllLines(path)[0]}");
            Assert.Equal(("127.0.0.1", null, null, 413), Summary(lines[1]));
            Assert.Equal(("127.0.0.1", null, null, 400), Summary(lines[2]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (string? Remote, string? Method, string? Target, int Status) Summary(JsonElement line) =>
        (line.GetProperty("remote").GetString(), line.GetProperty("method").GetString(), line.GetProperty("target").GetString(), line.GetProperty("status").GetInt32());

    /// <summary>Replaces the time (checked to lie within the test) and the duration by placeholders.</summary>
    private static string Normalize(string line, AccessLogFormat format, DateTime before, DateTime after)
    {
        Match time = (format == AccessLogFormat.JsonLines ? JsonTime() : CommonTime()).Match(line);
        Assert.True(time.Success, line);
        DateTime logged = format == AccessLogFormat.JsonLines
            ? DateTime.Parse(time.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)
            : DateTime.ParseExact(time.Groups[1].Value, "dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        Assert.InRange(logged, before, after);
        line = line.Replace(time.Groups[1].Value, "TIME", StringComparison.Ordinal);
        return Duration().Replace(line, "\"duration_ms\":MS");
    }

    [Fact]
    public async Task A_writer_that_does_not_keep_up_drops_lines_and_counts_them_without_holding_requests_up()
    {
        using var dropped = new MeterListener();
        long droppedMeasured = 0;
        dropped.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument is { Name: "parley.server.access_log.dropped", Meter.Name: ParleyTelemetry.ServerName }) listener.EnableMeasurementEvents(instrument);
        };
        dropped.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref droppedMeasured, value));
        dropped.Start();

        var stuck = new StuckStream();
        const int RequestCount = 200;
        using (var writer = new AccessLogWriter(AccessLogFormat.Common, stuck, bufferSize: 4096))
        {
            await using TestServer server = await StartAsync(Hello, options => options.AccessLogWriter = writer);
            await using RawConnection connection = await server.ConnectAsync();
            await connection.SendAsync("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
            await connection.ReadResponseAsync();
            // The writer thread now sits in a write that does not return, as on a disk that hangs.
            Assert.True(stuck.WriteEntered.Wait(TimeSpan.FromSeconds(10)), "the first line was never written");
            for (int i = 1; i < RequestCount; i++)
            {
                await connection.SendAsync($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
                Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            }
            // Half the buffer (2 KiB) holds some twenty lines; the rest were dropped.
            Assert.InRange(writer.DroppedLines, RequestCount - 40, RequestCount - 10);
            Assert.Equal(writer.DroppedLines, Interlocked.Read(ref droppedMeasured));
            stuck.Release.Set();
            writer.Dispose();
            Assert.Equal(RequestCount, writer.WrittenLines + writer.DroppedLines);
            Assert.Equal(writer.WrittenLines, Encoding.ASCII.GetString(stuck.Written.ToArray()).Count(c => c == '\n'));
        }
    }

    [Fact]
    public async Task Reopen_after_a_rename_writes_later_lines_to_a_new_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"parley-access-{Guid.NewGuid():N}.log");
        try
        {
            using var writer = new AccessLogWriter(AccessLogFormat.Common, path);
            await using TestServer server = await StartAsync(Hello, options => options.AccessLogWriter = writer);
            await GetAsync(server, "/before");
            await WaitUntilAsync(() => writer.WrittenLines == 1);
            File.Move(path, path + ".1");

            writer.Reopen();
            await WaitUntilAsync(() => File.Exists(path));
            await GetAsync(server, "/after");
            await WaitUntilAsync(() => writer.WrittenLines == 2);

            Assert.Contains("\"GET /before HTTP/1.1\" 200 5", Assert.Single(File.ReadAllLines(path + ".1")));
            Assert.Contains("\"GET /after HTTP/1.1\" 200 5", Assert.Single(File.ReadAllLines(path)));
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".1");
        }
    }

    private static async Task GetAsync(TestServer server, string path)
    {
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("the access log did not get there within 10 s");
            await Task.Delay(10);
        }
    }

    /// <summary>A stream whose writes wait until <see cref="Release"/> is set, like a disk that hangs.</summary>
    private sealed class StuckStream : WriteOnlyTestStream
    {
        public ManualResetEventSlim WriteEntered { get; } = new();
        public ManualResetEventSlim Release { get; } = new();
        public MemoryStream Written { get; } = new();

        public override void Write(byte[] buffer, int offset, int count)
        {
            WriteEntered.Set();
            Release.Wait();
            lock (Written) Written.Write(buffer, offset, count);
        }

        public override void Flush()
        {
        }
    }

    [Fact]
    public async Task An_access_log_callback_that_throws_costs_no_response_and_is_reported_to_the_error_log()
    {
        int calls = 0;
        await using TestServer server = await StartAsync(Hello, options => options.AccessLog = _ =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("the log broke");
        });
        await using RawConnection connection = await server.ConnectAsync();
        // Both responses arrive on the kept-alive connection: the failing log cut neither.
        for (int i = 1; i <= 2; i++)
        {
            await connection.SendAsync($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        }
        Assert.Equal(2, Volatile.Read(ref calls));
        lock (server.Errors) Assert.Equal(["the access log callback failed: InvalidOperationException: the log broke", "the access log callback failed: InvalidOperationException: the log broke"], server.Errors);
        Assert.Equal(0, server.FailureCount("connection-failed"));
    }

    [GeneratedRegex(@"\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) \+0000\]")]
    private static partial Regex CommonTime();

    [GeneratedRegex(@"""time"":""(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)""")]
    private static partial Regex JsonTime();

    [GeneratedRegex(@"""duration_ms"":\d+(\.\d{1,3})?")]
    private static partial Regex Duration();
}

/// <summary>The same on the epoll transport.</summary>
[Collection(TelemetryCollection.Name)]
public class EpollAccessLogTests : AccessLogTests
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

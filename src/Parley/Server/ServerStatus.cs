using System.Text.Json;

namespace Parley.Server;

/// <summary>The failures the status page counts by kind, besides the error responses it counts by status.</summary>
internal enum FailureKind
{
    /// <summary>A handler threw (its request was answered 500, or cut off when its response had begun).</summary>
    HandlerException,
    /// <summary>A handler abandoned its response (<see cref="HttpResponse.Abort"/>).</summary>
    HandlerAborted,
    /// <summary>The client closed or reset the connection while a request was in progress.</summary>
    ClientDisconnected,
    /// <summary>The request body stopped arriving (DataTimeout, MinRequestBodyDataRate).</summary>
    RequestBodyTimeout,
    /// <summary>The client stopped reading the response (DataTimeout).</summary>
    ResponseWriteTimeout,
    /// <summary>A TLS handshake failed (a bad ClientHello, no common protocol, an unknown name).</summary>
    TlsHandshakeFailed,
    /// <summary>A TLS handshake did not finish within the listener's handshake timeout.</summary>
    TlsHandshakeTimeout,
    /// <summary>A connection on a PROXY protocol listener opened with a malformed header.</summary>
    ProxyHeaderInvalid,
    /// <summary>A PROXY protocol header did not arrive within the request head timeout.</summary>
    ProxyHeaderTimeout,
    /// <summary>A connection refused because MaxConcurrentConnections were open.</summary>
    OverCapacity,
    /// <summary>A connection failed in the server itself (logged to the error log).</summary>
    ConnectionFailed,
}

/// <summary>
/// The server-wide figures of the status page: error responses by status, failures by kind, and the request
/// rate from the totals the heartbeat samples once a second. Counting happens only on errors; nothing here is
/// touched per request.
/// </summary>
internal sealed class ServerStatus
{
    private static readonly string[] KindNames =
    [
        "handler-exception", "handler-aborted", "client-disconnected", "request-body-timeout", "response-write-timeout",
        "tls-handshake-failed", "tls-handshake-timeout", "proxy-header-invalid", "proxy-header-timeout", "over-capacity", "connection-failed",
    ];

    private const int FirstStatus = 400;
    // Enough for the rates over the last minute at one sample a second.
    private const int SampleCapacity = 61;

    private readonly long[] _statusCounts = new long[200];
    private readonly long[] _kindCounts = new long[KindNames.Length];
    private readonly Lock _sampleLock = new();
    private readonly long[] _sampleTicks = new long[SampleCapacity];
    private readonly long[] _sampleRequests = new long[SampleCapacity];
    private int _sampleCount;
    private int _nextSample;

    /// <summary>When the server started, wall clock and <see cref="Environment.TickCount64"/>.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    public long StartedTicks { get; private set; }

    public void MarkStarted()
    {
        StartedAt = DateTimeOffset.UtcNow;
        StartedTicks = Environment.TickCount64;
        Sample(StartedTicks, 0);
    }

    /// <summary>Counts an error response the server sent (a 4xx rejection, any 5xx).</summary>
    public void CountStatus(int statusCode)
    {
        if ((uint)(statusCode - FirstStatus) < (uint)_statusCounts.Length) Interlocked.Increment(ref _statusCounts[statusCode - FirstStatus]);
    }

    public void Count(FailureKind kind) => Interlocked.Increment(ref _kindCounts[(int)kind]);

    /// <summary>Keeps the request total at <paramref name="ticks"/>: called once a second by the heartbeat.</summary>
    public void Sample(long ticks, long totalRequests)
    {
        lock (_sampleLock)
        {
            _sampleTicks[_nextSample] = ticks;
            _sampleRequests[_nextSample] = totalRequests;
            _nextSample = (_nextSample + 1) % SampleCapacity;
            if (_sampleCount < SampleCapacity) _sampleCount++;
        }
    }

    /// <summary>
    /// Requests per second between the last sample and the one <paramref name="seconds"/> samples before it
    /// (or the oldest kept); 0 before there are two samples.
    /// </summary>
    public double RequestsPerSecond(int seconds)
    {
        lock (_sampleLock)
        {
            if (_sampleCount < 2) return 0;
            int latest = (_nextSample - 1 + SampleCapacity) % SampleCapacity;
            int back = Math.Min(seconds, _sampleCount - 1);
            int earlier = (latest - back + SampleCapacity) % SampleCapacity;
            long elapsed = _sampleTicks[latest] - _sampleTicks[earlier];
            long requests = _sampleRequests[latest] - _sampleRequests[earlier];
            return elapsed <= 0 || requests <= 0 ? 0 : Math.Round(requests * 1000.0 / elapsed, 2);
        }
    }

    /// <summary>Writes the <c>errors</c> object: <c>byStatus</c> (only the statuses seen) and every failure kind.</summary>
    public void WriteErrors(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("errors");
        writer.WriteStartObject("byStatus");
        Span<byte> name = stackalloc byte[3];
        for (int i = 0; i < _statusCounts.Length; i++)
        {
            long count = Volatile.Read(ref _statusCounts[i]);
            if (count == 0) continue;
            int status = FirstStatus + i;
            name[0] = (byte)('0' + status / 100);
            name[1] = (byte)('0' + status / 10 % 10);
            name[2] = (byte)('0' + status % 10);
            writer.WriteNumber(name, count);
        }
        writer.WriteEndObject();
        writer.WriteStartObject("byKind");
        for (int i = 0; i < KindNames.Length; i++) writer.WriteNumber(KindNames[i], Volatile.Read(ref _kindCounts[i]));
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

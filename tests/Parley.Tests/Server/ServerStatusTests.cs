using System.Text.Json;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The status page's server-wide figures, on their own: the request rate from the heartbeat's samples (the
/// first sample at the start, the window's ends, the ring of 61 samples wrapping), the error responses by
/// status (400 to 599 only, named by their three digits) and every failure kind by its page name.
/// </summary>
public class ServerStatusTests
{
    private static JsonElement Errors(ServerStatus status)
    {
        var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            status.WriteErrors(writer);
            writer.WriteEndObject();
        }
        return JsonDocument.Parse(stream.ToArray()).RootElement.GetProperty("errors");
    }

    private static Dictionary<string, long> Counts(JsonElement element) =>
        element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    [Fact]
    public void Before_two_samples_the_rate_is_zero_and_the_start_is_the_first_sample()
    {
        var status = new ServerStatus();
        Assert.Equal(0, status.RequestsPerSecond(1));
        status.Sample(1_000, 5);
        // One sample is no interval yet.
        Assert.Equal(0, status.RequestsPerSecond(1));

        var started = new ServerStatus();
        started.MarkStarted();
        Assert.InRange(started.StartedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.InRange(started.StartedTicks, Environment.TickCount64 - 60_000, Environment.TickCount64);
        // The start is a sample of 0 requests: the first heartbeat's sample already gives a rate.
        started.Sample(started.StartedTicks + 1_000, 7);
        Assert.Equal(7, started.RequestsPerSecond(1));
    }

    [Fact]
    public void The_rate_is_the_requests_between_the_latest_sample_and_the_one_so_many_seconds_before_it()
    {
        var status = new ServerStatus();
        // Totals at one sample a second: 0, 10, 30, 60, 100 (10, 20, 30 and 40 a second).
        long[] totals = [0, 10, 30, 60, 100];
        for (int i = 0; i < totals.Length; i++) status.Sample(50_000 + i * 1_000L, totals[i]);
        Assert.Equal(40, status.RequestsPerSecond(1));
        Assert.Equal(35, status.RequestsPerSecond(2));
        Assert.Equal(30, status.RequestsPerSecond(3));
        // Asking further back than the samples kept: from the oldest one.
        Assert.Equal(25, status.RequestsPerSecond(4));
        Assert.Equal(25, status.RequestsPerSecond(10));
        Assert.Equal(25, status.RequestsPerSecond(60));
    }

    [Fact]
    public void The_rate_is_rounded_to_two_decimals_and_is_zero_without_time_or_requests_between()
    {
        var status = new ServerStatus();
        status.Sample(10_000, 0);
        status.Sample(13_000, 1);
        // 1 request in 3 s.
        Assert.Equal(0.33, status.RequestsPerSecond(1));
        status.Sample(13_500, 2);
        // 1 request in 500 ms: the samples' own interval, not a second.
        Assert.Equal(2, status.RequestsPerSecond(1));
        Assert.Equal(0.57, status.RequestsPerSecond(2));

        var still = new ServerStatus();
        still.Sample(10_000, 4);
        still.Sample(11_000, 4);
        Assert.Equal(0, still.RequestsPerSecond(1));

        // Two samples at one tick (a clock that did not move): no rate rather than a division by zero.
        var sameTick = new ServerStatus();
        sameTick.Sample(10_000, 0);
        sameTick.Sample(10_000, 5);
        Assert.Equal(0, sameTick.RequestsPerSecond(1));

        // A total that went down (never by the server's counting): no negative rate.
        var fewer = new ServerStatus();
        fewer.Sample(10_000, 9);
        fewer.Sample(11_000, 3);
        Assert.Equal(0, fewer.RequestsPerSecond(1));
    }

    [Fact]
    public void After_more_than_a_minute_of_samples_the_last_60_seconds_are_measured_across_the_ring()
    {
        var status = new ServerStatus();
        // 130 samples, one a second, the total growing by the second's number: the rate over the last n
        // seconds is known for any n, and the ring of 61 samples has wrapped twice.
        long total = 0;
        for (int second = 0; second < 130; second++)
        {
            total += second;
            status.Sample(100_000 + second * 1_000L, total);
        }
        // Over the last 60 s: seconds 70 to 129, (70 + 129) * 60 / 2 requests.
        Assert.Equal(99.5, status.RequestsPerSecond(60));
        Assert.Equal(124.5, status.RequestsPerSecond(10));
        Assert.Equal(129, status.RequestsPerSecond(1));
        // No further back than the ring holds.
        Assert.Equal(99.5, status.RequestsPerSecond(100));
    }

    [Fact]
    public void Error_responses_are_counted_from_400_to_599_and_named_by_their_status()
    {
        var status = new ServerStatus();
        foreach (int code in new[] { 400, 404, 404, 431, 500, 503, 503, 503, 599 }) status.CountStatus(code);
        // Outside the range: not counted, and no failure either.
        foreach (int code in new[] { 0, 200, 399, 600, 601, -1, int.MinValue, int.MaxValue }) status.CountStatus(code);

        JsonElement errors = Errors(status);
        Assert.Equal(
            new Dictionary<string, long> { ["400"] = 1, ["404"] = 2, ["431"] = 1, ["500"] = 1, ["503"] = 3, ["599"] = 1 },
            Counts(errors.GetProperty("byStatus")));
        // In order of status.
        Assert.Equal(["400", "404", "431", "500", "503", "599"], errors.GetProperty("byStatus").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Every_failure_kind_is_written_by_its_name_with_its_own_count()
    {
        var status = new ServerStatus();
        // Kind number i counted i + 1 times: each count lands under its own name only.
        FailureKind[] kinds = Enum.GetValues<FailureKind>();
        for (int i = 0; i < kinds.Length; i++)
        {
            for (int n = 0; n <= i; n++) status.Count(kinds[i]);
        }

        JsonElement errors = Errors(status);
        Assert.Empty(errors.GetProperty("byStatus").EnumerateObject());
        Assert.Equal(
            new[]
            {
                ("handler-exception", 1L), ("handler-aborted", 2L), ("client-disconnected", 3L), ("request-body-timeout", 4L),
                ("response-write-timeout", 5L), ("tls-handshake-failed", 6L), ("tls-handshake-timeout", 7L),
                ("proxy-header-invalid", 8L), ("proxy-header-timeout", 9L), ("over-capacity", 10L), ("connection-failed", 11L),
            },
            errors.GetProperty("byKind").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())));

        // Nothing counted: every kind is still written, at 0.
        Assert.All(Counts(Errors(new ServerStatus()).GetProperty("byKind")).Values, count => Assert.Equal(0, count));
        Assert.Equal(kinds.Length, Counts(Errors(new ServerStatus()).GetProperty("byKind")).Count);
    }
}

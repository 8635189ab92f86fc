using System.Diagnostics;
using System.Text.RegularExpressions;
using Parley.Client;
using Parley.Tests.Client;

namespace Parley.Tests.Observability;

/// <summary>
/// The client connection's own telemetry: http.client.open_connections moves between active and idle
/// with each reuse and sums to zero once the connection closes, a connection opened while nobody listened
/// is never counted, and a request carries its span as W3C trace context.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class ConnectionTelemetryTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static IEnumerable<Measurement> Of(TelemetryRecorder recorder, string instrument, int port) =>
        recorder.Measurements(instrument).Where(m => Equals(m.Tags["server.port"], port));

    private static ScriptedServer SmallResponses() => new(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));

    [Fact]
    public async Task A_reused_connection_moves_from_idle_to_active_and_back_and_is_timed_once_when_closed()
    {
        using var recorder = new TelemetryRecorder();
        await using ScriptedServer server = SmallResponses();
        var client = new ParleyClient();
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        client.Dispose();

        await recorder.WaitForMeasurementAsync("http.client.connection.duration", m => Equals(m.Tags["server.port"], server.Port));
        Assert.Equal(1, server.Accepted);
        Assert.Equal(new[] { "active:1", "active:-1", "idle:1", "idle:-1", "active:1", "active:-1", "idle:1", "idle:-1" },
            Of(recorder, "http.client.open_connections", server.Port).Select(m => $"{m.Tags["http.connection.state"]}:{m.Value}"));
        Assert.All(Of(recorder, "http.client.open_connections", server.Port), m => Assert.Equal("1.1", m.Tags["network.protocol.version"]));
        Measurement closed = Assert.Single(Of(recorder, "http.client.connection.duration", server.Port));
        Assert.Equal("1.1", closed.Tags["network.protocol.version"]);
        Assert.Equal("http", closed.Tags["url.scheme"]);
        Assert.Equal("127.0.0.1", closed.Tags["server.address"]);
    }

    [Fact]
    public async Task A_connection_opened_while_nobody_listened_is_never_counted()
    {
        // The premise: no other listener has the client's connection instruments on.
        Assert.False(ClientTelemetry.OpenConnections.Enabled);
        Assert.False(ClientTelemetry.ConnectionDuration.Enabled);
        await using ScriptedServer server = SmallResponses();
        var client = new ParleyClient();
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));

        using var recorder = new TelemetryRecorder();
        // Reused (active, then idle again) and closed, all while listened to.
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));
        client.Dispose();
        await recorder.WaitForMeasurementAsync("http.client.request.duration", m => Equals(m.Tags["server.port"], server.Port));
        Assert.Equal(1, server.Accepted);
        // Counting only its later moves would leave the sum of open connections below zero.
        Assert.Empty(Of(recorder, "http.client.open_connections", server.Port));
        Assert.Empty(Of(recorder, "http.client.connection.duration", server.Port));
    }

    [Fact]
    public async Task A_request_carries_its_span_as_traceparent_unless_the_caller_set_one()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 204 No Content\r\n\r\n"));
        using var client = new ParleyClient();
        using var parent = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C);
        parent.TraceStateString = "vendor=abc";
        parent.Start();
        using (await client.GetAsync(server.Url, Test))
        {
        }
        var own = ParleyRequest.Get(server.Url);
        own.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using (await client.SendAsync(own, Test))
        {
        }
        parent.Stop();

        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ClientName && Equals(a.GetTagItem("server.port"), server.Port));
        Assert.Equal(parent.TraceId, span.TraceId);
        Assert.Contains($"\r\ntraceparent: {span.Id}\r\ntracestate: vendor=abc\r\n", server.Requests[0]);
        Assert.Single(Regex.Matches(server.Requests[1], "traceparent", RegexOptions.IgnoreCase));
        Assert.Contains("\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n", server.Requests[1]);
    }
}

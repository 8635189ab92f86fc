using System.Diagnostics;
using Parley.Client;
using Parley.Tests.Client;

namespace Parley.Tests.Observability;

/// <summary>
/// The client's request duration and span for the less common outcomes: an HTTP/1.0 answer, a canceled
/// request, and a method outside the known set (OpenTelemetry HTTP client conventions).
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class ClientTelemetryTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    // The test's own request, told from other tests' by the scripted server's port.
    private static Task<Measurement> ClientDurationAsync(TelemetryRecorder recorder, int port) =>
        recorder.WaitForMeasurementAsync("http.client.request.duration", m => Equals(m.Tags["server.port"], port));

    private static Task<Activity> ClientSpanAsync(TelemetryRecorder recorder, int port) =>
        recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ClientName && Equals(a.GetTagItem("server.port"), port));

    [Fact]
    public async Task An_HTTP_1_0_answer_is_recorded_as_protocol_version_1_0()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var client = new ParleyClient();
        Assert.Equal("ok", await client.GetStringAsync(server.Url, Test));

        Measurement duration = await ClientDurationAsync(recorder, server.Port);
        Assert.Equal("1.0", duration.Tags["network.protocol.version"]);
        Assert.Equal(200, duration.Tags["http.response.status_code"]);
        Assert.False(duration.Tags.ContainsKey("error.type"));
        Activity span = await ClientSpanAsync(recorder, server.Port);
        Assert.Equal("1.0", span.GetTagItem("network.protocol.version"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task A_canceled_request_is_recorded_with_error_type_canceled_and_no_status()
    {
        using var recorder = new TelemetryRecorder();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new ScriptedServer(async exchange =>
        {
            received.TrySetResult();
            await exchange.HangAsync();
        });
        using var client = new ParleyClient();
        using var cancel = new CancellationTokenSource();
        Task<ParleyResponse> pending = client.GetAsync(server.Url, cancel.Token).AsTask();
        await received.Task.WaitAsync(Test);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        Measurement duration = await ClientDurationAsync(recorder, server.Port);
        Assert.Equal("canceled", duration.Tags["error.type"]);
        Assert.False(duration.Tags.ContainsKey("http.response.status_code"));
        Assert.False(duration.Tags.ContainsKey("network.protocol.version"));
        Activity span = await ClientSpanAsync(recorder, server.Port);
        Assert.Equal("canceled", span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task A_method_outside_the_known_set_is_named_HTTP_and_recorded_as_OTHER()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = new ScriptedServer(exchange =>
            exchange.SendAsync("HTTP/1.1 204 No Content\r\n\r\n"));
        using var client = new ParleyClient();
        using (await client.SendAsync(new ParleyRequest("PURGE", server.Url), Test)) { }

        Activity span = await ClientSpanAsync(recorder, server.Port);
        Assert.Equal("HTTP", span.DisplayName);
        Assert.Equal("_OTHER", span.GetTagItem("http.request.method"));
        Assert.Equal("http", span.GetTagItem("url.scheme"));
        Assert.Equal(server.Url, span.GetTagItem("url.full"));
        Assert.Equal(204, span.GetTagItem("http.response.status_code"));
        Measurement duration = await ClientDurationAsync(recorder, server.Port);
        Assert.Equal("_OTHER", duration.Tags["http.request.method"]);
    }
}

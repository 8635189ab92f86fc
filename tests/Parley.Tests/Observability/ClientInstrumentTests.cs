using System.Diagnostics.Metrics;
using Parley.Client;
using Parley.Tests.Client;

namespace Parley.Tests.Observability;

/// <summary>
/// The client's instruments as an exporter sees them (names, units and the OpenTelemetry HTTP client
/// conventions' descriptions), and the error type of a failure Parley has no kind for.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class ClientInstrumentTests
{
    private static CancellationToken Test => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task The_client_instruments_carry_the_conventions_names_units_and_descriptions()
    {
        // One exchange, so that the client's instruments exist before the listener asks for them.
        await using (var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 204 No Content\r\n\r\n")))
        using (var client = new ParleyClient())
        using (await client.GetAsync(server.Url, Test)) { }

        var published = new Dictionary<string, string>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == ParleyTelemetry.ClientName)
                {
                    lock (published) published[instrument.Name] = $"{instrument.Unit} | {instrument.Description}";
                }
            };
            listener.Start();
        }

        Assert.Equal(new Dictionary<string, string>
        {
            ["http.client.request.duration"] = "s | Duration of HTTP client requests.",
            ["http.client.active_requests"] = "{request} | Number of outbound HTTP requests that are currently active on the client.",
            ["http.client.open_connections"] = "{connection} | Number of outbound HTTP connections that are currently active or idle on the client.",
            ["http.client.connection.duration"] = "s | The duration of the successfully established outbound HTTP connections.",
        }, published);
    }

    [Fact]
    public async Task A_failure_without_a_Parley_kind_is_recorded_under_its_exception_type()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = new ScriptedServer(exchange => exchange.SendAsync("HTTP/1.1 204 No Content\r\n\r\n"));
        var client = new ParleyClient();
        client.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.GetAsync(server.Url, Test));

        Measurement duration = await recorder.WaitForMeasurementAsync("http.client.request.duration", m => Equals(m.Tags["server.port"], server.Port));
        Assert.Equal("System.ObjectDisposedException", duration.Tags["error.type"]);
        Assert.False(duration.Tags.ContainsKey("http.response.status_code"));
        Assert.Equal(0, server.Accepted);
    }
}

using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Observability;

/// <summary>
/// Parley's metrics and spans as the OpenTelemetry SDK exports them (its in-memory exporter): names, units
/// and attributes, and one trace across a Parley client → Parley server hop.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class OpenTelemetrySdkTests
{
    [Fact]
    public async Task The_SDK_exports_the_instruments_and_spans_with_their_names_units_and_attributes()
    {
        var metrics = new List<Metric>();
        var spans = new List<Activity>();
        using MeterProvider meters = Sdk.CreateMeterProviderBuilder()
            .AddMeter(ParleyTelemetry.ServerName, ParleyTelemetry.ClientName).AddInMemoryExporter(metrics).Build();
        using TracerProvider tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(ParleyTelemetry.ServerName, ParleyTelemetry.ClientName).AddInMemoryExporter(spans).Build();

        Router routes = new Router().MapGet("/items/{id:int}", (request, response) =>
        {
            response.WriteText($"item {request.RouteValues["id"]}");
            return ValueTask.CompletedTask;
        });
        await using (TestServer server = await TestServer.StartAsync(routes.Handler))
        {
            using var client = new ParleyClient();
            Assert.Equal("item 7", await client.GetStringAsync($"{server.BaseUri}items/7"));
        }
        // A TLS connection, for the handshake's duration.
        await using (TestServer tls = await TestServer.StartAsync(routes.Handler, tls: true))
        {
            await using RawConnection connection = await tls.ConnectAsync();
            await connection.SendAsync("GET /items/8 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        }
        meters.ForceFlush();
        tracer.ForceFlush();

        Dictionary<string, object?> request = AssertMetric(metrics, "http.server.request.duration", "s", tags => Equals(tags.GetValueOrDefault("url.scheme"), "http"));
        Assert.Equal("GET", request["http.request.method"]);
        Assert.Equal(200, Convert.ToInt32(request["http.response.status_code"]));
        Assert.Equal("/items/{id:int}", request["http.route"]);
        Assert.Equal("1.1", request["network.protocol.version"]);
        AssertMetric(metrics, "http.server.active_requests", "{request}", tags => tags.ContainsKey("http.request.method"));

        Dictionary<string, object?> connectionTags = AssertMetric(metrics, "parley.server.connection.duration", "s", tags => tags.ContainsKey("server.port"));
        Assert.Equal("127.0.0.1", connectionTags["server.address"]);
        Assert.Equal("ipv4", connectionTags["network.type"]);
        Assert.Equal("tcp", connectionTags["network.transport"]);
        AssertMetric(metrics, "parley.server.active_connections", "{connection}", tags => Equals(tags.GetValueOrDefault("network.transport"), "tcp"));
        Dictionary<string, object?> handshake = AssertMetric(metrics, "parley.server.tls_handshake.duration", "s", tags => tags.ContainsKey("tls.protocol.version"));
        Assert.Contains(handshake["tls.protocol.version"], new object[] { "1.2", "1.3" });

        Dictionary<string, object?> sent = AssertMetric(metrics, "http.client.request.duration", "s", tags => tags.ContainsKey("server.port"));
        Assert.Equal("127.0.0.1", sent["server.address"]);
        Assert.Equal(200, Convert.ToInt32(sent["http.response.status_code"]));
        Dictionary<string, object?> clientActive = AssertMetric(metrics, "http.client.active_requests", "{request}", tags => tags.ContainsKey("server.port"));
        Assert.Equal("GET", clientActive["http.request.method"]);
        Assert.Equal("http", clientActive["url.scheme"]);
        AssertMetric(metrics, "http.client.open_connections", "{connection}", tags => tags.ContainsKey("http.connection.state"));
        AssertMetric(metrics, "http.client.connection.duration", "s", tags => tags.ContainsKey("server.port"));

        // One trace: the client span is the server span's parent.
        Activity clientSpan = Assert.Single(spans, span => span.Source.Name == ParleyTelemetry.ClientName);
        Activity serverSpan = spans.First(span => span.Source.Name == ParleyTelemetry.ServerName && Equals(span.GetTagItem("url.scheme"), "http"));
        Assert.Equal(ActivityKind.Client, clientSpan.Kind);
        Assert.Equal(ActivityKind.Server, serverSpan.Kind);
        Assert.Equal(clientSpan.TraceId, serverSpan.TraceId);
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        Assert.True(serverSpan.HasRemoteParent);
        Assert.Equal("GET", clientSpan.DisplayName);
        Assert.Equal("GET /items/{id:int}", serverSpan.DisplayName);
        Assert.Equal("/items/7", serverSpan.GetTagItem("url.path"));
        Assert.Equal("/items/{id:int}", serverSpan.GetTagItem("http.route"));
        Assert.Equal(200, Convert.ToInt32(serverSpan.GetTagItem("http.response.status_code")));
        Assert.EndsWith("/items/7", (string)clientSpan.GetTagItem("url.full")!);
        Assert.Equal("GET", clientSpan.GetTagItem("http.request.method"));
        Assert.Equal("127.0.0.1", clientSpan.GetTagItem("server.address"));
        Assert.Equal("1.1", clientSpan.GetTagItem("network.protocol.version"));
        Assert.Equal(200, Convert.ToInt32(clientSpan.GetTagItem("http.response.status_code")));
        Assert.Equal("GET", serverSpan.GetTagItem("http.request.method"));
        Assert.Equal("1.1", serverSpan.GetTagItem("network.protocol.version"));
    }

    /// <summary>The metric's unit, and the attributes of its first point that <paramref name="match"/> accepts.</summary>
    private static Dictionary<string, object?> AssertMetric(List<Metric> metrics, string name, string unit, Func<Dictionary<string, object?>, bool> match)
    {
        Metric metric = metrics.LastOrDefault(m => m.Name == name) ?? throw new Xunit.Sdk.XunitException($"no metric {name}; exported: {string.Join(", ", metrics.Select(m => m.Name).Distinct())}");
        Assert.Equal(unit, metric.Unit);
        foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
        {
            var tags = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in point.Tags) tags[tag.Key] = tag.Value;
            if (match(tags)) return tags;
        }
        throw new Xunit.Sdk.XunitException($"no point of {name} has the attributes looked for");
    }

    [Fact]
    public async Task A_connection_beyond_MaxConcurrentConnections_is_counted_as_rejected()
    {
        var metrics = new List<Metric>();
        using MeterProvider meters = Sdk.CreateMeterProviderBuilder().AddMeter(ParleyTelemetry.ServerName).AddInMemoryExporter(metrics).Build();
        await using TestServer server = await TestServer.StartAsync((request, response) =>
        {
            response.WriteText("ok");
            return ValueTask.CompletedTask;
        }, options => options.MaxConcurrentConnections = 1);
        await using RawConnection held = await server.ConnectAsync();
        await held.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await held.ReadResponseAsync()).StatusCode);

        await using RawConnection refused = await server.ConnectAsync();
        Assert.Contains("503", await refused.ReadUntilCloseAsync());
        // The server counts a refusal before it answers it, so the 503 read means the count is in.
        meters.ForceFlush();
        Dictionary<string, object?> rejected = AssertMetric(metrics, "parley.server.rejected_connections", "{connection}", tags => Equals(tags.GetValueOrDefault("server.port"), server.Port));
        Assert.Equal("127.0.0.1", rejected["server.address"]);
        Assert.Equal("tcp", rejected["network.transport"]);
        Metric metric = metrics.Last(m => m.Name == "parley.server.rejected_connections");
        Assert.Equal(MetricType.LongSum, metric.MetricType);
        long total = 0;
        foreach (ref readonly MetricPoint point in metric.GetMetricPoints()) total += point.GetSumLong();
        Assert.Equal(1, total);
    }
}

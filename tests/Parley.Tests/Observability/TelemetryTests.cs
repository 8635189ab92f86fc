using System.Diagnostics;
using Parley.Client;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Observability;

/// <summary>
/// Metrics and spans under the OpenTelemetry HTTP semantic conventions' names, units and attributes, seen
/// through the base library's listeners, for a routed request, a 404, a failing handler, and a trace that
/// crosses a Parley client → Parley server hop; the W3C trace context fields each side reads and writes.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed partial class TelemetryTests
{
    private static Router Routes() => new Router()
        .MapGet("/items/{id:int}", (request, response) =>
        {
            response.WriteText($"item {request.RouteValues["id"]}");
            return ValueTask.CompletedTask;
        })
        .MapGet("/later/{id}", async (request, response) =>
        {
            // A handler that goes asynchronous: the span ends on another frame than the one that started it.
            await Task.Yield();
            response.WriteText($"later {request.RouteValues["id"]}");
        })
        .MapGet("/fail", (_, _) => throw new InvalidOperationException("handler failed on purpose"));

    [Fact]
    public async Task A_routed_request_is_measured_with_its_route_status_and_protocol()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        using var client = new ParleyClient();
        Assert.Equal("item 42", await client.GetStringAsync($"{server.BaseUri}items/42"));

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", m => Equals(m.Tags.GetValueOrDefault("http.route"), "/items/{id:int}"));
        Assert.Equal("s", duration.Unit);
        Assert.InRange(duration.Value, 0, 10);
        Assert.Equal("GET", duration.Tags["http.request.method"]);
        Assert.Equal(200, duration.Tags["http.response.status_code"]);
        Assert.Equal("http", duration.Tags["url.scheme"]);
        Assert.Equal("1.1", duration.Tags["network.protocol.version"]);
        Assert.False(duration.Tags.ContainsKey("error.type"));

        // One +1 when the request started and one -1 when it ended, with the same attributes.
        IReadOnlyList<Measurement> active = recorder.Measurements("http.server.active_requests");
        Assert.Equal(new[] { 1.0, -1.0 }, active.Select(m => m.Value));
        Assert.All(active, m =>
        {
            Assert.Equal("{request}", m.Unit);
            Assert.Equal("GET", m.Tags["http.request.method"]);
            Assert.Equal("http", m.Tags["url.scheme"]);
        });

        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("GET /items/{id:int}", span.DisplayName);
        Assert.Equal("/items/{id:int}", span.GetTagItem("http.route"));
        Assert.Equal("/items/42", span.GetTagItem("url.path"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task A_404_has_no_route_and_is_not_a_server_error()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        using var client = new ParleyClient();
        using (ParleyResponse response = await client.GetAsync($"{server.BaseUri}nowhere")) Assert.Equal(404, response.StatusCode);

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal(404, duration.Tags["http.response.status_code"]);
        Assert.False(duration.Tags.ContainsKey("http.route"));
        Assert.False(duration.Tags.ContainsKey("error.type"));
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("GET", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);

        // For the client, a 4xx is an error (the conventions' rule), named by its status code.
        Measurement clientDuration = await recorder.WaitForMeasurementAsync("http.client.request.duration", _ => true);
        Assert.Equal(404, clientDuration.Tags["http.response.status_code"]);
        Assert.Equal("404", clientDuration.Tags["error.type"]);
    }

    [Fact]
    public async Task A_failing_handler_records_a_500_with_the_exception_type_as_error_type()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        using var client = new ParleyClient();
        using (ParleyResponse response = await client.GetAsync($"{server.BaseUri}fail")) Assert.Equal(500, response.StatusCode);

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal(500, duration.Tags["http.response.status_code"]);
        Assert.Equal("/fail", duration.Tags["http.route"]);
        Assert.Equal("System.InvalidOperationException", duration.Tags["error.type"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("GET /fail", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("System.InvalidOperationException", span.GetTagItem("error.type"));
    }

    [Fact]
    public async Task An_unknown_method_is_recorded_as_OTHER()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
        await connection.ReadResponseAsync();

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal("_OTHER", duration.Tags["http.request.method"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("HTTP", span.DisplayName);
    }

    [Fact]
    public async Task The_server_continues_the_trace_of_an_incoming_traceparent_and_keeps_its_tracestate()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /later/7 HTTP/1.1\r\nHost: x\r\n"
            + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: vendor=opaque\r\n\r\n");
        await connection.ReadResponseAsync();

        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", span.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", span.ParentSpanId.ToHexString());
        Assert.True(span.HasRemoteParent);
        Assert.Equal("vendor=opaque", span.TraceStateString);

        // The next request on the connection, without a traceparent, starts a trace of its own.
        await connection.SendAsync("GET /later/8 HTTP/1.1\r\nHost: x\r\n\r\n");
        await connection.ReadResponseAsync();
        Activity next = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName && (string?)a.GetTagItem("url.path") == "/later/8");
        Assert.NotEqual(span.TraceId, next.TraceId);
        Assert.Equal(default, next.ParentSpanId);
    }

    [Fact]
    public async Task A_trace_crosses_a_Parley_client_to_Parley_server_hop()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        using var client = new ParleyClient();
        Assert.Equal("item 5", await client.GetStringAsync($"{server.BaseUri}items/5"));

        Activity clientSpan = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ClientName);
        Activity serverSpan = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal(ActivityKind.Client, clientSpan.Kind);
        Assert.Equal("GET", clientSpan.DisplayName);
        Assert.Equal($"{server.BaseUri}items/5", clientSpan.GetTagItem("url.full"));
        Assert.Equal("127.0.0.1", clientSpan.GetTagItem("server.address"));
        Assert.Equal(server.Port, clientSpan.GetTagItem("server.port"));
        Assert.Equal(200, clientSpan.GetTagItem("http.response.status_code"));
        Assert.Equal(clientSpan.TraceId, serverSpan.TraceId);
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        // Two requests on one connection are two traces: the first span is not the parent of the next.
        Assert.Equal("item 6", await client.GetStringAsync($"{server.BaseUri}items/6"));
        Activity second = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName && (string?)a.GetTagItem("url.path") == "/items/6");
        Assert.NotEqual(serverSpan.TraceId, second.TraceId);
    }

    // Answers with the trace context fields the request carried, each value on a line of its own.
    private static readonly RequestHandler EchoTraceContext = (request, response) =>
    {
        response.WriteText($"traceparent={string.Join("|", request.Headers.GetValues("traceparent"))}\n" +
            $"tracestate={string.Join("|", request.Headers.GetValues("tracestate"))}");
        return ValueTask.CompletedTask;
    };

    [Fact]
    public async Task The_client_injects_its_span_as_traceparent_and_passes_the_callers_tracestate_on()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(EchoTraceContext);
        recorder.OnlyPort(server.Port);
        using var client = new ParleyClient();
        // The application's own span, with vendor state (W3C Trace Context §3.3): the client span is its child.
        using Activity caller = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();
        caller.TraceStateString = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
        string echoed = await client.GetStringAsync($"{server.BaseUri}traced");
        caller.Stop();

        Activity clientSpan = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ClientName);
        Assert.Equal(caller.TraceId, clientSpan.TraceId);
        Assert.Equal(caller.SpanId, clientSpan.ParentSpanId);
        // W3C Trace Context §3.2: version-traceid-parentid-flags, the parent id being the client span's, the
        // flags its own (sampled, here, as the listener records everything).
        Assert.True(clientSpan.ActivityTraceFlags.HasFlag(ActivityTraceFlags.Recorded));
        Assert.Equal($"traceparent=00-{caller.TraceId.ToHexString()}-{clientSpan.SpanId.ToHexString()}-{(int)clientSpan.ActivityTraceFlags:x2}\n" +
            "tracestate=congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", echoed);
    }

    [Fact]
    public async Task A_traceparent_the_caller_set_is_sent_as_it_is_and_alone()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(EchoTraceContext);
        recorder.OnlyPort(server.Port);
        using var client = new ParleyClient();
        var request = ParleyRequest.Get($"{server.BaseUri}traced");
        const string Own = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        request.Headers.Set("traceparent", Own);
        await using ParleyResponse response = await client.SendAsync(request);
        Assert.Equal($"traceparent={Own}\ntracestate=", await response.ReadAsStringAsync());
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_url_scheme_is_the_one_the_proxy_forwarded()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler,
            options => options.TrustedProxies.Add(System.Net.IPNetwork.Parse("127.0.0.1/32")));
        recorder.OnlyPort(server.Port);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /items/7 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);

        // OpenTelemetry's HTTP server conventions: url.scheme is the original client request's scheme.
        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", m => Equals(m.Tags.GetValueOrDefault("http.route"), "/items/{id:int}"));
        Assert.Equal("https", duration.Tags["url.scheme"]);
        Assert.All(recorder.Measurements("http.server.active_requests"), m => Assert.Equal("https", m.Tags["url.scheme"]));
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("https", span.GetTagItem("url.scheme"));
    }

    [Fact]
    public async Task The_client_measures_its_requests_and_its_connections_by_state()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        var client = new ParleyClient();
        Assert.Equal("item 1", await client.GetStringAsync($"{server.BaseUri}items/1"));

        Measurement duration = await recorder.WaitForMeasurementAsync("http.client.request.duration", _ => true);
        Assert.Equal("s", duration.Unit);
        Assert.Equal("GET", duration.Tags["http.request.method"]);
        Assert.Equal("127.0.0.1", duration.Tags["server.address"]);
        Assert.Equal(server.Port, duration.Tags["server.port"]);
        Assert.Equal("http", duration.Tags["url.scheme"]);
        Assert.Equal(200, duration.Tags["http.response.status_code"]);
        Assert.Equal("1.1", duration.Tags["network.protocol.version"]);
        Assert.Equal(new[] { 1.0, -1.0 }, recorder.Measurements("http.client.active_requests").Select(m => m.Value));

        client.Dispose();
        Measurement closed = await recorder.WaitForMeasurementAsync("http.client.connection.duration", _ => true);
        Assert.Equal("s", closed.Unit);
        Assert.Equal(server.Port, closed.Tags["server.port"]);
        // Opened active, idle once the response was read, closed from idle: the sum per state is zero.
        var open = recorder.Measurements("http.client.open_connections");
        Assert.Equal(new[] { "active:1", "active:-1", "idle:1", "idle:-1" },
            open.Select(m => $"{m.Tags["http.connection.state"]}:{m.Value}"));
        Assert.All(open, m => Assert.Equal("{connection}", m.Unit));
    }

    [Fact]
    public async Task A_refused_connection_is_a_client_error_named_by_its_kind()
    {
        using var recorder = new TelemetryRecorder();
        int port;
        await using (var server = await TestServer.StartAsync(Routes().Handler)) port = server.Port;
        recorder.OnlyPort(port);
        using var client = new ParleyClient();
        await Assert.ThrowsAsync<ParleyHttpException>(() => client.GetAsync($"http://127.0.0.1:{port}/").AsTask());

        Measurement duration = await recorder.WaitForMeasurementAsync("http.client.request.duration", _ => true);
        Assert.False(duration.Tags.ContainsKey("http.response.status_code"));
        Assert.Equal("connect_failed", duration.Tags["error.type"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ClientName);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }
}

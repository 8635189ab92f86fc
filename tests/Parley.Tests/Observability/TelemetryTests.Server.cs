using System.Diagnostics;
using System.Net;
using System.Security.Authentication;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Observability;

/// <summary>
/// The server's own instruments beyond a request's: each connection counted open and closed and timed with
/// its listener's attributes, the TLS handshake timed with the protocol agreed or the failure's type; and
/// what a request's measurements and span say when it ends unusually (HTTP/1.0, an abandoned response, a
/// client gone mid-body), when only one of metrics and spans is listened to, and across requests of one
/// connection.
/// </summary>
public sealed partial class TelemetryTests
{
    private static readonly RequestHandler Echo = async (request, response) =>
    {
        if (request.Path == "/abort")
        {
            response.Abort();
            return;
        }
        if (request.Path == "/fail") throw new InvalidOperationException("handler failed on purpose");
        if (request.Path == "/unavailable")
        {
            response.StatusCode = 503;
            response.WriteText("try later");
            return;
        }
        byte[] body = await request.ReadBodyAsync(1024);
        response.WriteText($"{request.Path} {body.Length}");
    };

    /// <summary>server.address, server.port, network.type and network.transport of a loopback IPv4 listener.</summary>
    private static void AssertListenerTags(Measurement measurement, int port)
    {
        Assert.Equal("127.0.0.1", measurement.Tags["server.address"]);
        Assert.Equal(port, measurement.Tags["server.port"]);
        Assert.Equal("ipv4", measurement.Tags["network.type"]);
        Assert.Equal("tcp", measurement.Tags["network.transport"]);
    }

    [Fact]
    public async Task A_connection_is_counted_open_then_closed_and_timed_once_with_its_listeners_attributes()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        var clock = Stopwatch.StartNew();
        await using (RawConnection connection = await server.ConnectAsync())
        {
            // Counted open as it is accepted, before any request.
            Measurement opened = await recorder.WaitForMeasurementAsync("parley.server.active_connections", _ => true);
            Assert.Equal((1.0, "{connection}"), (opened.Value, opened.Unit));
            AssertListenerTags(opened, server.Port);
            await connection.SendAsync("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
            await connection.SendAsync("GET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);
        }
        // The client closed its kept-alive connection: the server counts it closed and records how long it lasted.
        Measurement duration = await recorder.WaitForMeasurementAsync("parley.server.connection.duration", _ => true);
        double elapsed = clock.Elapsed.TotalSeconds;
        Assert.Equal("s", duration.Unit);
        Assert.InRange(duration.Value, 0, elapsed);
        AssertListenerTags(duration, server.Port);
        Assert.Single(recorder.Measurements("parley.server.connection.duration"));
        IReadOnlyList<Measurement> active = recorder.Measurements("parley.server.active_connections");
        Assert.Equal(new[] { 1.0, -1.0 }, active.Select(m => m.Value));
        AssertListenerTags(active[1], server.Port);

        // Each request measured once, and nothing more when the connection closed after them.
        Assert.Equal(new[] { 1.0, -1.0, 1.0, -1.0 }, recorder.Measurements("http.server.active_requests").Select(m => m.Value));
        Assert.Equal(new object?[] { 200, 200 }, recorder.Measurements("http.server.request.duration").Select(m => m.Tags.GetValueOrDefault("http.response.status_code")));
        // Each span ended once: the close changed nothing of the last one.
        Assert.Equal(new[] { "GET /items/{id:int}", "GET /items/{id:int}" }, recorder.Spans.Where(a => a.Source.Name == ParleyTelemetry.ServerName).Select(a => a.DisplayName));
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, "1.2")]
    [InlineData(SslProtocols.Tls13, "1.3")]
    public async Task A_TLS_handshake_is_timed_with_the_protocol_version_it_agreed_on(SslProtocols protocol, string version)
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler, options => options.Listeners[0].Tls!.EnabledProtocols = protocol, tls: true);
        recorder.OnlyPort(server.Port);
        var clock = Stopwatch.StartNew();
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /items/3 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);

        Measurement handshake = await recorder.WaitForMeasurementAsync("parley.server.tls_handshake.duration", _ => true);
        Assert.Equal("s", handshake.Unit);
        Assert.InRange(handshake.Value, 0, clock.Elapsed.TotalSeconds);
        Assert.Equal(version, handshake.Tags["tls.protocol.version"]);
        Assert.False(handshake.Tags.ContainsKey("error.type"));
        AssertListenerTags(handshake, server.Port);
        Assert.Single(recorder.Measurements("parley.server.tls_handshake.duration"));
        // The request is https, and measured once the handshake is done.
        Measurement request = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal("https", request.Tags["url.scheme"]);
    }

    [Fact]
    public async Task A_failed_TLS_handshake_is_timed_with_the_failures_type_as_error_type()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler, tls: true);
        recorder.OnlyPort(server.Port);
        await using (RawConnection garbled = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port)))
        {
            // A TLS record that announces a ClientHello and holds none of it (RFC 8446 §4.1.2).
            await garbled.SendAsync([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]);
            await garbled.ReadUntilCloseAsync();
        }

        Measurement handshake = await recorder.WaitForMeasurementAsync("parley.server.tls_handshake.duration", _ => true);
        Assert.Equal("s", handshake.Unit);
        // The exception's full type name, as the conventions ask of error.type.
        string errorType = Assert.IsType<string>(handshake.Tags["error.type"]);
        Assert.Matches(@"^System(\.\w+)+Exception$", errorType);
        Assert.False(handshake.Tags.ContainsKey("tls.protocol.version"));
        AssertListenerTags(handshake, server.Port);
        // No request, and the connection counted open and closed all the same.
        await recorder.WaitForMeasurementAsync("parley.server.connection.duration", _ => true);
        Assert.Empty(recorder.Measurements("http.server.request.duration"));
        Assert.Equal(new[] { 1.0, -1.0 }, recorder.Measurements("parley.server.active_connections").Select(m => m.Value));
    }

    [Fact]
    public async Task Plain_HTTP_sent_to_a_TLS_port_is_no_handshake_and_is_not_timed_as_one()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler, tls: true);
        recorder.OnlyPort(server.Port);
        await using (RawConnection plain = await RawConnection.OpenAsync(new IPEndPoint(IPAddress.Loopback, server.Port)))
        {
            await plain.SendAsync("GET /items/1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 400 ", await plain.ReadUntilCloseAsync());
        }
        // Once the connection is over, everything it would have recorded is recorded.
        await recorder.WaitForMeasurementAsync("parley.server.connection.duration", _ => true);
        Assert.Empty(recorder.Measurements("parley.server.tls_handshake.duration"));
    }

    [Fact]
    public async Task An_HTTP_1_0_request_is_measured_and_traced_as_protocol_version_1_0_with_its_method_and_scheme()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        Assert.StartsWith("HTTP/1.1 200 ", await server.ExchangeUntilCloseAsync("GET /items/10 HTTP/1.0\r\n\r\n"));

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal("1.0", duration.Tags["network.protocol.version"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("1.0", span.GetTagItem("network.protocol.version"));
        Assert.Equal("GET", span.GetTagItem("http.request.method"));
        Assert.Equal("http", span.GetTagItem("url.scheme"));
        Assert.Equal("/items/10", span.GetTagItem("url.path"));
    }

    [Fact]
    public async Task An_abandoned_response_has_no_status_code_and_aborted_as_error_type()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Echo);
        recorder.OnlyPort(server.Port);
        Assert.Equal("", await server.ExchangeUntilCloseAsync("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n"));

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.False(duration.Tags.ContainsKey("http.response.status_code"));
        Assert.Equal("aborted", duration.Tags["error.type"]);
        Assert.Equal("GET", duration.Tags["http.request.method"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Null(span.GetTagItem("http.response.status_code"));
        Assert.Equal("aborted", span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        // Ended once, though the connection closed after it.
        await recorder.WaitForMeasurementAsync("parley.server.connection.duration", _ => true);
        Assert.Equal(new[] { 1.0, -1.0 }, recorder.Measurements("http.server.active_requests").Select(m => m.Value));
        Assert.Single(recorder.Measurements("http.server.request.duration"));
    }

    [Fact]
    public async Task A_client_gone_in_the_middle_of_its_body_ends_the_request_without_status_and_with_the_failures_type()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Echo);
        recorder.OnlyPort(server.Port);
        await using (RawConnection uploading = await server.ConnectAsync())
        {
            await uploading.SendAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
            // Started: the handler waits for the rest of the body.
            await recorder.WaitForMeasurementAsync("http.server.active_requests", m => m.Value == 1);
            uploading.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            uploading.Socket.Close();
        }

        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.False(duration.Tags.ContainsKey("http.response.status_code"));
        Assert.Matches(@"^System(\.\w+)+Exception$", Assert.IsType<string>(duration.Tags["error.type"]));
        Assert.Equal("POST", duration.Tags["http.request.method"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal(duration.Tags["error.type"], span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        await recorder.WaitForMeasurementAsync("parley.server.connection.duration", _ => true);
        Assert.Equal(new[] { 1.0, -1.0 }, recorder.Measurements("http.server.active_requests").Select(m => m.Value));
        Assert.Single(recorder.Measurements("http.server.request.duration"));
    }

    [Fact]
    public async Task A_failure_is_the_error_type_of_its_own_request_only_not_of_the_next_on_the_connection()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Echo);
        recorder.OnlyPort(server.Port);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
        await connection.SendAsync("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);

        Measurement fine = await recorder.WaitForMeasurementAsync("http.server.request.duration", m => Equals(m.Tags.GetValueOrDefault("http.response.status_code"), 200));
        Assert.False(fine.Tags.ContainsKey("error.type"));
        Measurement failed = Assert.Single(recorder.Measurements("http.server.request.duration"), m => Equals(m.Tags["http.response.status_code"], 500));
        Assert.Equal("System.InvalidOperationException", failed.Tags["error.type"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName && Equals(a.GetTagItem("url.path"), "/fine"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Null(span.GetTagItem("error.type"));
    }

    [Fact]
    public async Task With_only_the_metrics_listened_to_a_request_is_measured_with_its_failure_and_one_cut_short_is_ended()
    {
        using var recorder = new TelemetryRecorder(spans: false);
        // The premise: nothing else listens to the server's spans.
        Assert.False(ServerTelemetry.Source.HasListeners());
        await using var server = await TestServer.StartAsync(Echo);
        recorder.OnlyPort(server.Port);
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);
            // A request the client leaves before its answer: ended when the connection closes.
            await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
            await recorder.WaitForMeasurementAsync("http.server.active_requests", m => m.Value == 1 && Equals(m.Tags["http.request.method"], "POST"));
            connection.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            connection.Socket.Close();
        }

        await recorder.WaitForMeasurementAsync("parley.server.connection.duration", _ => true);
        Measurement failed = Assert.Single(recorder.Measurements("http.server.request.duration"), m => Equals(m.Tags["http.request.method"], "GET"));
        Assert.Equal("System.InvalidOperationException", failed.Tags["error.type"]);
        Measurement cut = Assert.Single(recorder.Measurements("http.server.request.duration"), m => Equals(m.Tags["http.request.method"], "POST"));
        Assert.Matches(@"^System(\.\w+)+Exception$", Assert.IsType<string>(cut.Tags["error.type"]));
        Assert.Equal(new[] { 1.0, -1.0, 1.0, -1.0 }, recorder.Measurements("http.server.active_requests").Select(m => m.Value));
        Assert.Equal(2, recorder.Measurements("http.server.request.duration").Count);
    }

    [Fact]
    public async Task With_only_the_spans_listened_to_a_request_is_traced_with_its_route_status_and_failure()
    {
        using var recorder = new TelemetryRecorder(metrics: false);
        // The premise: nothing else listens to the server's request metrics.
        Assert.False(ServerTelemetry.RequestDuration.Enabled);
        Assert.False(ServerTelemetry.ActiveRequests.Enabled);
        await using var server = await TestServer.StartAsync(Routes().Handler);
        recorder.OnlyPort(server.Port);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);

        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("GET /fail", span.DisplayName);
        Assert.Equal("/fail", span.GetTagItem("http.route"));
        Assert.Equal(500, span.GetTagItem("http.response.status_code"));
        Assert.Equal("System.InvalidOperationException", span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Theory]
    [InlineData(TransportKind.Sockets)]
    [InlineData(TransportKind.Epoll)]
    public async Task A_span_has_no_parent_but_the_callers_even_when_the_server_was_started_inside_an_activity(TransportKind transport)
    {
        using var recorder = new TelemetryRecorder();
        TestServer server;
        // The application starts the server inside an activity of its own: the connections' work inherits it.
        using (Activity startup = new Activity("startup").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            server = await TestServer.StartAsync(Routes().Handler, options => options.Transport = transport);
        }
        await using (server)
        {
            recorder.OnlyPort(server.Port);
            await using RawConnection connection = await server.ConnectAsync();
            await connection.SendAsync("GET /items/4 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await connection.ReadResponseAsync()).StatusCode);

            Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
            Assert.Equal(default, span.ParentSpanId);
            Assert.Null(span.Parent);
            Assert.False(span.HasRemoteParent);
        }
    }
    [Fact]
    public void The_server_publishes_its_instruments_with_their_names_units_and_descriptions()
    {
        var published = new List<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == ParleyTelemetry.ServerName) published.Add($"{instrument.Name} ({instrument.Unit}, {instrument.GetType().Name}): {instrument.Description}");
            },
        };
        Assert.Equal(ParleyTelemetry.ServerName, ServerTelemetry.Meter.Name);
        Assert.Equal(ParleyTelemetry.ServerName, ServerTelemetry.Source.Name);
        listener.Start();
        Assert.Equal(
            new[]
            {
                "http.server.active_requests ({request}, UpDownCounter`1): Number of active HTTP server requests.",
                "http.server.request.duration (s, Histogram`1): Duration of HTTP server requests.",
                "parley.server.access_log.dropped ({line}, Counter`1): Access log lines dropped because the log's buffer was full.",
                "parley.server.active_connections ({connection}, UpDownCounter`1): Number of connections that are currently open on the server.",
                "parley.server.connection.duration (s, Histogram`1): The duration of connections on the server.",
                "parley.server.rejected_connections ({connection}, Counter`1): Number of connections refused because the server had MaxConcurrentConnections open.",
                "parley.server.tls_handshake.duration (s, Histogram`1): The duration of TLS handshakes on the server.",
            },
            published.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_connection_refused_over_capacity_is_counted_with_its_listeners_attributes_and_never_opened()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Routes().Handler, options => options.MaxConcurrentConnections = 1);
        recorder.OnlyPort(server.Port);
        await using RawConnection held = await server.ConnectAsync();
        await held.SendAsync("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await held.ReadResponseAsync()).StatusCode);
        await using (RawConnection refused = await server.ConnectAsync())
        {
            Assert.StartsWith("HTTP/1.1 503 ", await refused.ReadUntilCloseAsync());
        }

        // Counted before the 503 is sent.
        Measurement rejected = Assert.Single(recorder.Measurements("parley.server.rejected_connections"));
        Assert.Equal((1.0, "{connection}"), (rejected.Value, rejected.Unit));
        AssertListenerTags(rejected, server.Port);
        // Only the held connection was ever open.
        Assert.Equal(new[] { 1.0 }, recorder.Measurements("parley.server.active_connections").Select(m => m.Value));
    }
    [Fact]
    public async Task A_server_error_the_handler_answered_itself_has_its_status_code_as_error_type()
    {
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(Echo);
        recorder.OnlyPort(server.Port);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync("GET /unavailable HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(503, (await connection.ReadResponseAsync()).StatusCode);

        // No exception: the conventions' error.type for a 5xx is its status code.
        Measurement duration = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal(503, duration.Tags["http.response.status_code"]);
        Assert.Equal("503", duration.Tags["error.type"]);
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        Assert.Equal("503", span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task With_only_the_request_duration_listened_to_a_request_cut_short_is_still_measured()
    {
        using var recorder = new TelemetryRecorder(spans: false, onlyInstrument: "http.server.request.duration");
        // The premise: nothing else listens to the server's spans or its active request count.
        Assert.False(ServerTelemetry.Source.HasListeners());
        Assert.False(ServerTelemetry.ActiveRequests.Enabled);
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            reading.TrySetResult();
            response.WriteText($"got {(await request.ReadBodyAsync(1024)).Length}");
        });
        recorder.OnlyPort(server.Port);
        await using (RawConnection connection = await server.ConnectAsync())
        {
            await connection.SendAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
            // The handler waits for the rest of the body.
            await reading.Task.WaitAsync(ServerTiming.HangBound);
            connection.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            connection.Socket.Close();
        }

        Measurement cut = await recorder.WaitForMeasurementAsync("http.server.request.duration", _ => true);
        Assert.Equal("POST", cut.Tags["http.request.method"]);
        Assert.False(cut.Tags.ContainsKey("http.response.status_code"));
        Assert.Matches(@"^System(\.\w+)+Exception$", Assert.IsType<string>(cut.Tags["error.type"]));
    }

    [Theory]
    [InlineData("/throw-at-once", "handler failed for GET /throw-at-once")]
    [InlineData("/throw-later", "handler failed for GET /throw-later")]
    [InlineData("/short", "GET /short: response body shorter than its Content-Length; connection closed")]
    public async Task The_error_log_reports_a_failed_request_with_the_requests_span_current(string path, string message)
    {
        RequestHandler handler = async (request, response) =>
        {
            if (request.Path == "/throw-at-once") throw new InvalidOperationException("failed before any await");
            await Task.Yield();
            if (request.Path == "/throw-later") throw new InvalidOperationException("failed after an await");
            response.ContentLength = 10;
            response.Write("short"u8);
        };
        using var recorder = new TelemetryRecorder();
        await using var server = await TestServer.StartAsync(handler);
        recorder.OnlyPort(server.Port);
        var logged = new List<(string Message, string? SpanId)>();
        server.Server.Options.ErrorLog = (text, _) =>
        {
            lock (logged) logged.Add((text, Activity.Current?.SpanId.ToHexString()));
        };
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(500, (await connection.ReadResponseAsync()).StatusCode);

        // The line is logged before the 500 is sent, and the span ends after it.
        Activity span = await recorder.WaitForSpanAsync(a => a.Source.Name == ParleyTelemetry.ServerName);
        lock (logged) Assert.Equal([(message, span.SpanId.ToHexString())], logged);
    }
}

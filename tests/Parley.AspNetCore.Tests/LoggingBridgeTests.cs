using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Server;

namespace Parley.AspNetCore.Tests;

/// <summary>UseLogging: the engine's access log and error log reach Microsoft.Extensions.Logging loggers.</summary>
public sealed class LoggingBridgeTests
{
    [Fact]
    public async Task Access_entries_and_engine_errors_reach_the_loggers_with_their_properties()
    {
        var provider = new RecordingProvider();
        using ILoggerFactory factory = LoggerFactory.Create(builder => builder.AddProvider(provider).SetMinimumLevel(LogLevel.Information));
        var options = new HttpServerOptions { Port = 0 }.UseLogging(factory);
        await using var server = new HttpServer(options, (request, response) =>
        {
            if (request.Path == "/fail") throw new InvalidOperationException("broken handler");
            response.WriteText("hello");
            return ValueTask.CompletedTask;
        });
        await server.StartAsync();

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(server.LocalEndPoint);
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /hi?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            await RawHttp.ReadToEndAsync(socket);
        }

        Entry hello = provider.Entries.First(entry => entry.Category == ParleyLoggingExtensions.AccessLogCategory);
        Assert.Equal(LogLevel.Information, hello.Level);
        Assert.Equal("AccessLog", hello.EventId.Name);
        Assert.Equal("GET", hello.Properties["Method"]);
        Assert.Equal("/hi?x=1", hello.Properties["Target"]);
        Assert.Equal(200, hello.Properties["StatusCode"]);
        Assert.Equal(5L, hello.Properties["BodyBytes"]);
        Assert.Equal(1, hello.Properties["RequestOnConnection"]);
        Assert.Matches(@"^GET /hi\?x=1 200 5B [\d.]+ms \(request 1 on its connection\)$", hello.Message);

        Entry failed = provider.Entries.Where(entry => entry.Category == ParleyLoggingExtensions.AccessLogCategory).ElementAt(1);
        Assert.Equal(500, failed.Properties["StatusCode"]);
        Entry error = Assert.Single(provider.Entries, entry => entry.Category == ParleyLoggingExtensions.ErrorLogCategory);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Equal("handler failed for GET /fail", error.Message);
        Assert.Equal("broken handler", Assert.IsType<InvalidOperationException>(error.Exception).Message);
    }

    private sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Properties, Exception? Exception);

    private sealed class RecordingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Recorder(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var properties = new Dictionary<string, object?>();
                if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach ((string key, object? value) in pairs) properties[key] = value;
                }
                entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), properties, exception));
            }
        }
    }
}

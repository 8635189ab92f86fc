using System.Net;
using System.Net.Sockets;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>Defaults and derived values of the listener options, and a listener's connection attributes.</summary>
public class ListenerOptionsTests
{
    [Fact]
    public void The_default_host_is_the_IPv4_loopback()
    {
        Assert.Equal("127.0.0.1", new HttpServerOptions().Host);
        Assert.Equal("127.0.0.1", new ListenerOptions().Host);
    }

    [Theory]
    [InlineData(false, false, "max-age=31536000")]
    [InlineData(true, false, "max-age=31536000; includeSubDomains")]
    [InlineData(false, true, "max-age=31536000; preload")]
    [InlineData(true, true, "max-age=31536000; includeSubDomains; preload")]
    public void The_HSTS_field_value_names_the_options_set(bool includeSubDomains, bool preload, string expected)
    {
        var options = new StrictTransportSecurityOptions { IncludeSubDomains = includeSubDomains, Preload = preload };
        Assert.Equal(expected, options.FieldValue);
    }

    [Fact]
    public void The_HSTS_max_age_is_in_whole_seconds()
    {
        Assert.Equal("max-age=90", new StrictTransportSecurityOptions { MaxAge = TimeSpan.FromSeconds(90.9) }.FieldValue);
    }

    [Theory]
    [InlineData("127.0.0.1", false, "127.0.0.1", "ipv4")]
    [InlineData("::1", false, "::1", "ipv6")]
    // A dual-mode IPv6 socket bound to an IPv4 address: the address as IPv4, the socket's family as is.
    [InlineData("::ffff:127.0.0.1", true, "127.0.0.1", "ipv6")]
    public void A_listeners_connection_tags_name_its_address_port_and_network(string address, bool dualMode, string serverAddress, string networkType)
    {
        IPAddress ip = IPAddress.Parse(address);
        using var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (dualMode) socket.DualMode = true;
        socket.Bind(new IPEndPoint(ip, 0));
        var listener = new BoundListener(new ListenerOptions(), socket, null, (_, _) => ValueTask.CompletedTask);
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;

        KeyValuePair<string, object?>[] tags = listener.ConnectionTags;

        Assert.Equal(
            [
                new("server.address", serverAddress),
                new("server.port", port),
                new("network.type", networkType),
                new("network.transport", "tcp"),
            ],
            tags);
        // Built once: every connection shares the array.
        Assert.Same(tags, listener.ConnectionTags);
    }
}

/// <summary>The default error log, which writes to standard error (so it runs alone: it swaps Console.Error).</summary>
[Collection(ProcessStateCollection.Name)]
public class DefaultErrorLogTests
{
    [Fact]
    public void The_default_error_log_writes_the_message_then_the_exception_on_standard_error()
    {
        Exception exception;
        try
        {
            throw new InvalidOperationException("the handler failed");
        }
        catch (InvalidOperationException ex)
        {
            exception = ex;
        }
        var captured = new StringWriter();
        TextWriter original = Console.Error;
        Console.SetError(captured);
        try
        {
            Action<string, Exception?> log = new HttpServerOptions().ErrorLog!;
            log("request failed", exception);
            log("connection reset", null);
        }
        finally
        {
            Console.SetError(original);
        }
        // Each call is one WriteLine (atomic on Console.Error); anything a server still shutting down wrote
        // meanwhile may sit between them.
        string text = captured.ToString();
        string nl = Environment.NewLine;
        Assert.Contains($"request failed{nl}{exception}{nl}", text);
        Assert.Contains($"connection reset{nl}", text);
        Assert.DoesNotContain($"connection reset{nl}{nl}", text);
    }
}

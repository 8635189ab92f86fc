using System.Security.Cryptography;
using System.Text;
using Parley.Server;
using Parley.Tests.Server;

namespace Parley.Tests.Conformance;

/// <summary>Every conformance row, by RFC section.</summary>
public static class ConformanceTable
{
    public static IReadOnlyList<ConformanceCase> Cases { get; } =
    [
        .. MessageAndRequestLineCases.All(),
        .. TargetAndHostCases.All(),
        .. FieldLineCases.All(),
        .. FramingCases.All(),
        .. ChunkedCases.All(),
        .. ConnectionCases.All(),
    ];

    public static IReadOnlyDictionary<string, ConformanceCase> ById { get; } = Cases.ToDictionary(c => c.Id);

    /// <summary>
    /// The handler every case runs against: it reads the whole body and echoes what it saw and a digest,
    /// so a request smuggled inside a body would show up as an extra response.
    /// </summary>
    public static async ValueTask EchoDigest(HttpRequest request, HttpResponse response)
    {
        if (request.Path == "/__probe")
        {
            response.WriteText("probe");
            return;
        }
        byte[] body = await request.ReadBodyAsync(1_000_000);
        if (request.Method == "CONNECT") response.StatusCode = 405;
        response.WriteText($"method={request.Method} form={request.TargetForm} host={request.Host} path={Uri.EscapeDataString(request.Path)} " +
            $"len={body.Length} sha256={Convert.ToHexString(SHA256.HashData(body))}\n");
    }

    /// <summary>Sent right behind every case: answered only if the case left the connection open and in sync.</summary>
    public const string Probe = "GET /__probe HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n";
}

/// <summary>One echo server per transport, shared by all rows of a test class.</summary>
public sealed class ConformanceServers : IAsyncDisposable
{
    private readonly Dictionary<TransportKind, Task<TestServer>> _servers = [];

    public Task<TestServer> GetAsync(TransportKind transport)
    {
        lock (_servers)
        {
            if (!_servers.TryGetValue(transport, out Task<TestServer>? server))
            {
                server = TestServer.StartAsync(ConformanceTable.EchoDigest, options => options.Transport = transport);
                _servers[transport] = server;
            }
            return server;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Task<TestServer> server in _servers.Values) await (await server).DisposeAsync();
    }
}

/// <summary>
/// The raw-socket conformance suite (RFC 9112 §2-§9, RFC 9110 §5-§8, §15): each row's bytes are sent in
/// one write followed by a probe request; the server must answer the row with its status, and then either
/// close (the probe unanswered) or stay in sync (the probe answered). Never a response too many.
/// </summary>
public class ConformanceTests(ConformanceServers servers) : TransportTests, IClassFixture<ConformanceServers>
{
    public static TheoryData<string> CaseIds => [.. ConformanceTable.Cases.Select(c => c.Id)];

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task Case(string id)
    {
        ConformanceCase c = ConformanceTable.ById[id];
        TestServer server = await servers.GetAsync(Transport);
        await using RawConnection connection = await server.ConnectAsync();
        await connection.SendAsync(Encoding.Latin1.GetBytes(c.Request + ConformanceTable.Probe));
        string all = await connection.ReadUntilCloseAsync(TimeSpan.FromSeconds(10));
        string context = $"{c.Id}\nsent: {ResponseStream.Escape(c.Request)}\ngot: {ResponseStream.Escape(all)}";

        List<ParsedResponse> responses = ResponseStream.Parse(all, c.Head);
        int expectedCount = c.Responses + (c.Connection == After.Open ? 1 : 0);
        Assert.True(responses.Count == expectedCount, $"expected {expectedCount} responses, got {responses.Count}\n{context}");
        for (int i = 0; i < c.Responses; i++)
        {
            Assert.True(responses[i].Status == c.Status, $"response {i + 1}: expected {c.Status}, got {responses[i].Status}\n{context}");
        }
        ParsedResponse first = responses[0];
        if (c.BodyLength is long length) Assert.True(first.Body.Contains($" len={length} "), $"expected the handler to read {length} body bytes\n{context}");
        if (c.BodyContains is string text) Assert.True(first.Body.Contains(text), $"expected the body to contain '{text}'\n{context}");
        if (c.Connection == After.Open)
        {
            Assert.True(responses[^1].Body == "probe", $"the probe behind the request was not answered last\n{context}");
        }
        else
        {
            Assert.DoesNotContain(responses, r => r.Body == "probe");
            if (c.Status >= 400) Assert.True(ResponseStream.Field(responses[^1].Head, "Connection") == "close", $"an error that closes must say Connection: close\n{context}");
        }
        Assert.DoesNotContain(responses, r => r.Body.Contains("path=%2Fsmuggled"));
    }
}

/// <summary>The same table on the epoll transport.</summary>
public class EpollConformanceTests(ConformanceServers servers) : ConformanceTests(servers)
{
    protected override TransportKind Transport => TransportKind.Epoll;
}

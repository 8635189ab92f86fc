using System.Diagnostics;

namespace Parley.Client;

// The connection's metrics: http.client.open_connections by state (active while it carries a request,
// idle while pooled) and http.client.connection.duration when it closes. One call per change of state,
// and none when no one listens.
internal sealed partial class ClientConnection
{
    private const int NotCounted = 0, CountedActive = 1, CountedIdle = 2;
    private int _countedState;
    private long _openedTimestamp;

    /// <summary>Counts the new connection as open and active; called once it is established.</summary>
    private void BeginConnectionTelemetry()
    {
        if (!TelemetrySupport.IsSupported) return;
        if (ClientTelemetry.ConnectionDuration.Enabled) _openedTimestamp = Stopwatch.GetTimestamp();
        if (!ClientTelemetry.OpenConnections.Enabled) return;
        _countedState = CountedActive;
        ClientTelemetry.OpenConnections.Add(1, ConnectionTags(CountedActive));
    }

    /// <summary>Moves the open-connections count from one state to the other, if this connection is counted.</summary>
    private void MoveConnectionState(int from, int to)
    {
        if (!TelemetrySupport.IsSupported) return;
        if (Volatile.Read(ref _countedState) != from || Interlocked.CompareExchange(ref _countedState, to, from) != from) return;
        ClientTelemetry.OpenConnections.Add(-1, ConnectionTags(from));
        ClientTelemetry.OpenConnections.Add(1, ConnectionTags(to));
    }

    private void MarkActive() => MoveConnectionState(CountedIdle, CountedActive);

    private void MarkIdle() => MoveConnectionState(CountedActive, CountedIdle);

    private void EndConnectionTelemetry()
    {
        if (!TelemetrySupport.IsSupported) return;
        int state = Interlocked.Exchange(ref _countedState, NotCounted);
        if (state != NotCounted) ClientTelemetry.OpenConnections.Add(-1, ConnectionTags(state));
        if (_openedTimestamp != 0 && ClientTelemetry.ConnectionDuration.Enabled)
        {
            TagList tags = OriginTags();
            tags.Add(HttpTelemetry.ProtocolVersion, "1.1");
            ClientTelemetry.ConnectionDuration.Record(Stopwatch.GetElapsedTime(_openedTimestamp).TotalSeconds, tags);
        }
    }

    private TagList ConnectionTags(int state)
    {
        TagList tags = OriginTags();
        tags.Add(HttpTelemetry.ProtocolVersion, "1.1");
        tags.Add("http.connection.state", state == CountedIdle ? "idle" : "active");
        return tags;
    }

    private TagList OriginTags() => new()
    {
        { HttpTelemetry.ServerAddress, Owner.Origin.Host },
        { HttpTelemetry.ServerPort, Owner.Origin.Port },
        { HttpTelemetry.Scheme, Owner.Origin.Scheme },
    };
}

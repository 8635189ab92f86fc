namespace Parley.Tests.Server;

/// <summary>
/// The server's timing promises, as its tests state them. A timeout is enforced by a heartbeat that
/// runs once a second, so a connection is closed between its deadline and one heartbeat after it; a
/// test also allows for a loaded machine's late timers and late reads. Speed belongs to benchmarks.
/// </summary>
public static class ServerTiming
{
    /// <summary>How often the server checks its connections' deadlines (HttpServer's heartbeat timer).</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How early a deadline can fall by a test's precise clock: the server computes deadlines from
    /// Environment.TickCount64, a coarse clock that lags the precise one by up to a few milliseconds
    /// (a run saw a 5 s timeout close at 4.99x s).
    /// </summary>
    public static readonly TimeSpan CoarseClock = TimeSpan.FromMilliseconds(20);

    /// <summary>What a busy 2-core machine may add to any wait: late timers, late thread-pool work.</summary>
    public static readonly TimeSpan LoadAllowance = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a test waits for something the server is sure to do (close a connection, let go of it) before
    /// calling it a hang. Only a broken server uses it up, so it is far beyond what a loaded machine needs: a
    /// bound of 5 s was seen to run out while the server was merely late.
    /// </summary>
    public static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);
}

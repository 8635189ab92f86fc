using System.Net;

namespace Parley.Cli.Demo;

/// <summary>
/// The 301s the demo answered lately, one per client address, so that the page a browser lands on can show
/// the redirect it followed without a word: the 301 itself stays exactly what the walkthrough sends (no
/// cookie, no query on its Location). Bounded: an entry lives <see cref="Lifetime"/>, and at most
/// <see cref="Capacity"/> addresses are remembered, the oldest forgotten first.
/// </summary>
internal sealed class RedirectTrail(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    public const int Capacity = 256;

    /// <summary>
    /// One redirect: when, the request and response heads, and the connection that carried it (its TCP
    /// peer: behind a proxy the client's forwarded address has no port that tells connections apart).
    /// </summary>
    public sealed record Entry(long Timestamp, string RequestHead, string ResponseHead, IPEndPoint? Connection, int RequestNumber);

    private readonly Dictionary<IPAddress, Entry> _byAddress = [];

    public void Record(IPEndPoint? client, IPEndPoint? connection, string requestHead, string responseHead, int requestNumber)
    {
        if (client is null) return;
        var entry = new Entry(time.GetTimestamp(), requestHead, responseHead, connection, requestNumber);
        lock (_byAddress)
        {
            Forget(expiredOnly: true);
            if (_byAddress.Count >= Capacity && !_byAddress.ContainsKey(client.Address)) Forget(expiredOnly: false);
            _byAddress[client.Address] = entry;
        }
    }

    /// <summary>The latest redirect answered to this client's address within <see cref="Lifetime"/>, forgotten once taken.</summary>
    public Entry? Take(IPEndPoint? client)
    {
        if (client is null) return null;
        lock (_byAddress)
        {
            if (!_byAddress.Remove(client.Address, out Entry? entry)) return null;
            return Age(entry) <= Lifetime ? entry : null;
        }
    }

    public TimeSpan Age(Entry entry) => time.GetElapsedTime(entry.Timestamp);

    // Drops the expired entries, or, with expiredOnly false, the oldest one.
    private void Forget(bool expiredOnly)
    {
        KeyValuePair<IPAddress, Entry>? oldest = null;
        foreach (KeyValuePair<IPAddress, Entry> pair in _byAddress)
        {
            if (expiredOnly && Age(pair.Value) > Lifetime) _byAddress.Remove(pair.Key);
            else if (oldest is null || pair.Value.Timestamp < oldest.Value.Value.Timestamp) oldest = pair;
        }
        if (!expiredOnly && oldest is { } victim) _byAddress.Remove(victim.Key);
    }
}

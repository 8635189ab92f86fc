namespace Parley.Server;

/// <summary>
/// The open connections of a server, for its heartbeat and its stop to visit: one slot each in an array,
/// with the free slots kept on a stack. Twelve bytes a connection, where a concurrent dictionary spends a
/// node object and a bucket on each (about 50 bytes, a twentieth of the 1 KiB an idle connection is
/// allowed, docs/benchmarks.md).
/// Adding and removing take a lock (once per connection, not per request); visiting takes none.
/// </summary>
internal sealed class ConnectionRegistry<TConnection> where TConnection : class, IRegisteredConnection
{
    private readonly Lock _lock = new();
    private TConnection?[] _slots = new TConnection?[64];
    private int[] _free = new int[64];
    private int _freeCount;
    // Slots below this index have been handed out at least once.
    private int _used;

    public void Add(TConnection connection)
    {
        lock (_lock)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                if (_used == _slots.Length)
                {
                    var bigger = new TConnection?[_slots.Length * 2];
                    _slots.CopyTo(bigger, 0);
                    // Published whole: a visitor reads either array, and the old one still holds every
                    // connection it had.
                    Volatile.Write(ref _slots, bigger);
                }
                slot = _used;
                Volatile.Write(ref _used, _used + 1);
            }
            connection.RegistrySlot = slot;
            Volatile.Write(ref _slots[slot], connection);
        }
    }

    /// <summary>Takes the connection out; false when it was not in (it was removed already).</summary>
    public bool Remove(TConnection connection)
    {
        lock (_lock)
        {
            int slot = connection.RegistrySlot;
            if (slot < 0) return false;
            connection.RegistrySlot = -1;
            _slots[slot] = null;
            if (_freeCount == _free.Length) Array.Resize(ref _free, _free.Length * 2);
            _free[_freeCount++] = slot;
            return true;
        }
    }

    /// <summary>
    /// The slots to visit, some empty. Without a lock: a connection added meanwhile may be missed and one
    /// removed meanwhile visited, which every visit (heartbeat, idle close, forced close) allows.
    /// </summary>
    public ReadOnlySpan<TConnection?> Slots
    {
        get
        {
            TConnection?[] slots = Volatile.Read(ref _slots);
            return slots.AsSpan(0, Math.Min(Volatile.Read(ref _used), slots.Length));
        }
    }
}

/// <summary>What a <see cref="ConnectionRegistry{TConnection}"/> keeps on each member: its slot.</summary>
internal interface IRegisteredConnection
{
    /// <summary>The member's slot in its registry; -1 while it is in none.</summary>
    int RegistrySlot { get; set; }
}

using System.Runtime.InteropServices;
using static Parley.Server.Transport.LinuxNative;

namespace Parley.Server.Transport;

/// <summary>
/// One event-loop thread over one epoll instance. Connections are registered edge-triggered for input
/// and output once; each readiness event completes the connection's pending operation right here, so
/// the connection's code (parse, handle, write) continues on this thread without a hand-off.
/// </summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;

    private readonly int _epollFd;
    private readonly Thread _thread;
    private readonly object _slotsLock = new();
    private readonly Stack<int> _freeSlots = new();
    private EpollTransport?[] _slots = new EpollTransport?[64];
    private int _slotCount;
    private volatile bool _stopping;

    public EpollLoop(int index)
    {
        _epollFd = epoll_create1(EPOLL_CLOEXEC);
        if (_epollFd < 0) throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        _thread = new Thread(Run) { IsBackground = true, Name = $"parley-epoll-{index}" };
        _thread.Start();
    }

    /// <summary>True where this transport can run.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public void Register(EpollTransport connection)
    {
        int slot;
        lock (_slotsLock)
        {
            if (!_freeSlots.TryPop(out slot))
            {
                slot = _slotCount++;
                if (slot == _slots.Length)
                {
                    var bigger = new EpollTransport?[_slots.Length * 2];
                    _slots.CopyTo(bigger, 0);
                    Volatile.Write(ref _slots, bigger);
                }
            }
            Volatile.Write(ref _slots[slot], connection);
        }
        connection.Slot = slot;
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = (ulong)slot };
        if (epoll_ctl(_epollFd, EPOLL_CTL_ADD, connection.Fd, &ev) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Release(slot);
            throw new IOException($"epoll_ctl(ADD) failed: errno {errno}");
        }
    }

    public void Unregister(EpollTransport connection)
    {
        // Closing the descriptor removes it from the epoll set too; deleting first makes sure no event
        // for a reused slot number is attributed to the next connection for long.
        epoll_ctl(_epollFd, EPOLL_CTL_DEL, connection.Fd, null);
        Release(connection.Slot);
    }

    public void Stop() => _stopping = true;

    private void Release(int slot)
    {
        lock (_slotsLock)
        {
            Volatile.Write(ref _slots[slot], null);
            _freeSlots.Push(slot);
        }
    }

    private void Run()
    {
        EpollEvent* events = (EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(EpollEvent));
        try
        {
            while (!_stopping)
            {
                // A bounded wait so that a stopped server's loop ends by itself.
                int count = epoll_wait(_epollFd, events, MaxEvents, 1000);
                if (count < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR) continue;
                    break;
                }
                EpollTransport?[] slots = Volatile.Read(ref _slots);
                for (int i = 0; i < count; i++)
                {
                    ulong slot = events[i].Data;
                    if (slot < (ulong)slots.Length && Volatile.Read(ref slots[(int)slot]) is { } connection)
                    {
                        connection.OnEvents(events[i].Events);
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
            close(_epollFd);
        }
    }
}

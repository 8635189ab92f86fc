using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Parley.Server.Transport.LinuxNative;

namespace Parley.Server.Transport;

/// <summary>
/// One event-loop thread over one epoll instance. The loops accept connections themselves (accept4(2) on
/// the server's listening socket, which every loop watches) and share them out; each loop registers its
/// connections, edge-triggered for input and output, once; each readiness event completes the connection's pending operation right here, so the
/// connection's code (parse, handle, write) continues on this thread without a hand-off.
/// </summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;
    // Accepts per readiness report: the listener is level-triggered, so what is left is reported again,
    // after the events of connections already open had their turn.
    private const int MaxAcceptsPerWake = 64;
    // The epoll data words of the listening sockets count down from here, one per listener; connections use
    // (generation << 32 | slot), whose slot never comes near these values.
    private const ulong ListenerData = ulong.MaxValue;
    internal const int MaxListeners = 256;
    // How long accepting pauses when the process is out of descriptors or memory.
    private const int AcceptPauseMilliseconds = 50;

    private readonly int _epollFd;
    private readonly Thread _thread;
    private readonly object _slotsLock = new();
    private readonly Stack<int> _freeSlots = new();
    private EpollTransport?[] _slots = new EpollTransport?[64];
    private int _slotCount;
    private uint _generation;
    private volatile bool _stopping;

    private HttpServer? _server;
    private Listening[] _listeners = [];
    private int _listenersHeld;
    private long _acceptResumeAt;
    private volatile bool _stopAccepting;
    private readonly TaskCompletionSource _acceptStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EpollLoop(int index)
    {
        _epollFd = epoll_create1(EPOLL_CLOEXEC);
        if (_epollFd < 0) throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        _thread = new Thread(Run) { IsBackground = true, Name = $"parley-epoll-{index}" };
        _thread.Start();
    }

    /// <summary>True where this transport can run.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Completes once this loop no longer uses the listening socket.</summary>
    public Task AcceptStopped => _acceptStopped.Task;

    /// <summary>
    /// Starts accepting on <paramref name="listeners"/> (bound, listening, non-blocking); a connection is
    /// handed to the server with the index of the listener it came from. The loop holds a reference on each
    /// handle until it stops accepting, so disposing a listener never closes a descriptor number this thread
    /// may still pass to accept4.
    /// </summary>
    public void StartAccepting(HttpServer server, SafeSocketHandle[] listeners)
    {
        if (listeners.Length > MaxListeners) throw new ArgumentException($"at most {MaxListeners} listeners", nameof(listeners));
        _server = server;
        var held = new Listening[listeners.Length];
        for (int i = 0; i < listeners.Length; i++)
        {
            bool added = false;
            listeners[i].DangerousAddRef(ref added);
            held[i] = new Listening(listeners[i], i);
        }
        _listeners = held;
        _listenersHeld = held.Length;
        foreach (Listening listener in held)
        {
            if (!Watch(listener))
            {
                int errno = Marshal.GetLastPInvokeError();
                ReleaseListeners();
                throw new IOException($"epoll_ctl(ADD listener) failed: errno {errno}");
            }
        }
    }

    /// <summary>
    /// Asks the loop to stop accepting. The caller then shuts the listeners down, which reports a hang-up on
    /// them; the loop also checks after every wait, so it lets go within a second at worst.
    /// </summary>
    public void StopAccepting()
    {
        _stopAccepting = true;
        if (Volatile.Read(ref _listenersHeld) == 0) _acceptStopped.TrySetResult();
    }

    // Level-triggered with EPOLLEXCLUSIVE (epoll_ctl(2), Linux 4.5): one connection waiting wakes one loop
    // (or a few), not every loop watching the same listener.
    private bool Watch(Listening listener)
    {
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLEXCLUSIVE, Data = ListenerData - (ulong)listener.Index };
        listener.Watched = epoll_ctl(_epollFd, EPOLL_CTL_ADD, listener.Fd, &ev) == 0;
        return listener.Watched;
    }

    private void Unwatch(Listening listener)
    {
        if (!listener.Watched) return;
        epoll_ctl(_epollFd, EPOLL_CTL_DEL, listener.Fd, null);
        listener.Watched = false;
    }

    private void ReleaseListeners()
    {
        if (_listenersHeld == 0) return;
        foreach (Listening listener in _listeners)
        {
            Unwatch(listener);
            listener.Handle.DangerousRelease();
        }
        _acceptResumeAt = 0;
        _listeners = [];
        Volatile.Write(ref _listenersHeld, 0);
        _acceptStopped.TrySetResult();
    }

    private void AcceptReady(Listening listener)
    {
        HttpServer server = _server!;
        byte* address = stackalloc byte[SockAddrSize];
        for (int i = 0; i < MaxAcceptsPerWake; i++)
        {
            if (_stopAccepting)
            {
                ReleaseListeners();
                return;
            }
            int length = SockAddrSize;
            // accept4(2): the new socket is non-blocking and close-on-exec from the start (no fcntl), and the
            // peer's address comes with it (no getpeername). TCP_NODELAY is inherited from the listener.
            int fd = accept4(listener.Fd, address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN) return;
                // accept(2): pending network errors of the new connection are reported by accept itself
                // and are to be treated like EAGAIN by retrying; the other connections are unaffected.
                if (errno is EINTR or ECONNABORTED || IsPendingNetworkError(errno)) continue;
                if (errno == EINVAL || server.ClosesIdleConnections)
                {
                    // The listener was shut down: the server is stopping.
                    ReleaseListeners();
                    return;
                }
                // Out of descriptors or memory: keep serving the open connections and retry shortly,
                // rather than spin on a listener that stays readable.
                server.Options.ErrorLog.Report($"accept failed: errno {errno}", null);
                Unwatch(listener);
                _acceptResumeAt = Environment.TickCount64 + AcceptPauseMilliseconds;
                return;
            }
            server.OnEpollAccepted(fd, new ReadOnlySpan<byte>(address, Math.Min(length, SockAddrSize)), listener.Index);
        }
    }

    // accept(2), "Error handling": ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
    // EOPNOTSUPP, ENETUNREACH.
    private static bool IsPendingNetworkError(int errno) => errno is 100 or 71 or 92 or 112 or 64 or 113 or 95 or 101;

    /// <summary>Registers a new connection's descriptor; safe from any thread (epoll_ctl(2) is).</summary>
    public void Register(EpollTransport connection)
    {
        int slot;
        uint generation;
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
            generation = ++_generation;
            Volatile.Write(ref _slots[slot], connection);
        }
        connection.Slot = slot;
        connection.Generation = generation;
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = (ulong)generation << 32 | (uint)slot };
        if (epoll_ctl(_epollFd, EPOLL_CTL_ADD, connection.Fd, &ev) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Release(slot);
            throw new IOException($"epoll_ctl(ADD) failed: errno {errno}");
        }
    }

    /// <summary>
    /// Forgets a connection whose descriptor is about to be closed. No EPOLL_CTL_DEL: closing the last
    /// descriptor of the socket removes it from the epoll set (epoll(7), Q6). An event for it that is
    /// already fetched is dropped by the generation check, even once the slot serves another connection.
    /// </summary>
    public void Unregister(EpollTransport connection) => Release(connection.Slot);

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
                // A bounded wait so that a stopped server's loop ends by itself (and a paused accept resumes).
                int count = epoll_wait(_epollFd, events, MaxEvents, _acceptResumeAt != 0 ? AcceptPauseMilliseconds : 1000);
                if (count < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR) continue;
                    break;
                }
                EpollTransport?[] slots = Volatile.Read(ref _slots);
                for (int i = 0; i < count; i++)
                {
                    ulong data = events[i].Data;
                    if (data > ListenerData - MaxListeners)
                    {
                        int index = (int)(ListenerData - data);
                        if (index < _listeners.Length) AcceptReady(_listeners[index]);
                        continue;
                    }
                    uint slot = (uint)data;
                    if (slot < (uint)slots.Length && Volatile.Read(ref slots[slot]) is { } connection && connection.Generation == (uint)(data >> 32))
                    {
                        connection.OnEvents(events[i].Events);
                    }
                }
                if (_listenersHeld != 0) CheckListeners();
            }
        }
        finally
        {
            NativeMemory.Free(events);
            ReleaseListeners();
            close(_epollFd);
        }
    }

    private void CheckListeners()
    {
        if (_stopAccepting)
        {
            ReleaseListeners();
        }
        else if (_acceptResumeAt != 0 && Environment.TickCount64 >= _acceptResumeAt)
        {
            _acceptResumeAt = 0;
            foreach (Listening listener in _listeners)
            {
                if (!listener.Watched && !Watch(listener)) _acceptResumeAt = Environment.TickCount64 + AcceptPauseMilliseconds;
            }
        }
    }

    /// <summary>A listening socket this loop accepts on.</summary>
    private sealed class Listening(SafeSocketHandle handle, int index)
    {
        public SafeSocketHandle Handle { get; } = handle;
        public int Fd { get; } = (int)handle.DangerousGetHandle();
        public int Index { get; } = index;
        public bool Watched { get; set; }
    }
}

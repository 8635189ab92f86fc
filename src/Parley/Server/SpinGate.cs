using System.Runtime.CompilerServices;

namespace Parley.Server;

/// <summary>
/// Mutual exclusion over a few lines of state, held in one int: entering is one compare-exchange and
/// leaving one store. A <c>lock</c> on an object calls into the runtime and looks up the current thread
/// on every enter: perf showed it as a tenth of the user time of a plaintext request on the epoll
/// transport, and System.Threading.Lock still looks the thread up. The sections this guards are short
/// (a few fields, or one non-blocking system call), never wait for another lock and never re-enter, so
/// the gate need not know its owner; a thread that finds it taken spins, then yields, until it is free.
/// </summary>
internal struct SpinGate
{
    private int _taken;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        if (Interlocked.CompareExchange(ref _taken, 1, 0) != 0) EnterContended();
    }

    /// <summary>Leaves the gate (a release store: what was written inside is seen by the next to enter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit() => Volatile.Write(ref _taken, 0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        // SpinWait goes from spinning to yielding and sleeping, so a holder preempted on the same core runs.
        var spin = new SpinWait();
        do
        {
            spin.SpinOnce();
        }
        while (Volatile.Read(ref _taken) != 0 || Interlocked.CompareExchange(ref _taken, 1, 0) != 0);
    }
}

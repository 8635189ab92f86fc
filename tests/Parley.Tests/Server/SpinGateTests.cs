using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>The gate that replaces <c>lock</c> on the per-request paths: one thread inside at a time.</summary>
public class SpinGateTests
{
    private sealed class Counter
    {
        public SpinGate Gate;
        public long Value;
        public long Inside;
        public long Overlaps;
    }

    [Fact]
    public void Threads_that_pass_the_gate_never_overlap_and_lose_no_update()
    {
        const int threads = 4, rounds = 20_000;
        var counter = new Counter();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < rounds; i++)
            {
                counter.Gate.Enter();
                // A read-modify-write held open for a moment: two threads inside at once see each other and lose updates.
                if (Interlocked.Increment(ref counter.Inside) != 1) Interlocked.Increment(ref counter.Overlaps);
                long value = Volatile.Read(ref counter.Value);
                Thread.SpinWait(20);
                Volatile.Write(ref counter.Value, value + 1);
                Interlocked.Decrement(ref counter.Inside);
                counter.Gate.Exit();
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.Equal(0, counter.Overlaps);
        Assert.Equal((long)threads * rounds, counter.Value);
    }
}

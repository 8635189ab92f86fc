using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>The server's registry of open connections: slots handed out, freed and reused, visited without a lock.</summary>
public class ConnectionRegistryTests
{
    private sealed class Member(int id) : IRegisteredConnection
    {
        public int Id { get; } = id;

        public int RegistrySlot { get; set; } = -1;
    }

    private static List<int> Visit(ConnectionRegistry<Member> registry)
    {
        var ids = new List<int>();
        foreach (Member? member in registry.Slots)
        {
            if (member is not null) ids.Add(member.Id);
        }
        ids.Sort();
        return ids;
    }

    [Fact]
    public void Visits_every_member_added_and_none_removed_across_growth()
    {
        var registry = new ConnectionRegistry<Member>();
        Member[] members = Enumerable.Range(0, 1000).Select(i => new Member(i)).ToArray();
        foreach (Member member in members) registry.Add(member);
        Assert.Equal(Enumerable.Range(0, 1000), Visit(registry));
        Assert.Equal(1000, members.Select(m => m.RegistrySlot).Distinct().Count());

        foreach (Member member in members.Where(m => m.Id % 3 == 0)) Assert.True(registry.Remove(member));
        Assert.Equal(Enumerable.Range(0, 1000).Where(i => i % 3 != 0), Visit(registry));
        Assert.All(members.Where(m => m.Id % 3 == 0), m => Assert.Equal(-1, m.RegistrySlot));
    }

    [Fact]
    public void Removing_twice_is_refused_the_second_time()
    {
        var registry = new ConnectionRegistry<Member>();
        var member = new Member(1);
        registry.Add(member);
        Assert.True(registry.Remove(member));
        Assert.False(registry.Remove(member));
        Assert.Empty(Visit(registry));
    }

    [Fact]
    public void A_freed_slot_is_reused_before_the_array_grows()
    {
        var registry = new ConnectionRegistry<Member>();
        var first = new Member(1);
        var second = new Member(2);
        registry.Add(first);
        registry.Add(second);
        int freed = first.RegistrySlot;
        registry.Remove(first);
        var third = new Member(3);
        registry.Add(third);
        Assert.Equal(freed, third.RegistrySlot);
        Assert.Equal(2, registry.Slots.Length);
        Assert.Equal([2, 3], Visit(registry));
    }

    [Fact]
    public async Task Concurrent_adds_and_removes_leave_exactly_the_members_still_in()
    {
        var registry = new ConnectionRegistry<Member>();
        const int PerThread = 5000;
        Task[] workers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                var member = new Member(t * PerThread + i);
                registry.Add(member);
                // Every odd member leaves again, so that slots are freed and reused while others are added.
                if (i % 2 == 1) Assert.True(registry.Remove(member));
            }
        })).ToArray();
        // Visiting meanwhile must never fail.
        while (!workers.All(w => w.IsCompleted)) _ = Visit(registry);
        await Task.WhenAll(workers);
        List<int> expected = Enumerable.Range(0, 4 * PerThread).Where(i => i % 2 == 0).ToList();
        Assert.Equal(expected, Visit(registry));
    }
}

using System;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.Tests.Extents;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.PageAllocators;

/// <summary>A decay or purge pass runs on application threads and the background purger: it must not allocate on the GC heap.</summary>
public sealed unsafe class PurgePassAllocationTests
{
    [Fact]
    public void APurgePassOverManyExtentsAllocatesNothingOnTheGcHeap()
    {
        using var shard = new Shard(muzzyDecayMs: 10_000);
        FreeSeparated(shard, 4);
        // The first pass compiles everything it calls.
        shard.Pac.PurgeAll();

        const int Extents = 64;
        FreeSeparated(shard, Extents);
        long callsBefore = shard.Context.Stats.DirtyPurgeCalls;
        long before = GC.GetAllocatedBytesForCurrentThread();
        shard.Pac.PurgeAll();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Reach: every freed extent went through the pass, one purge call each (held separators keep them apart).
        Assert.Equal(Extents, shard.Context.Stats.DirtyPurgeCalls - callsBefore);
        Assert.Equal(0, allocated);
        shard.Validate();
    }

    [Fact]
    public void TheBackgroundPassOverGradualDecayAllocatesNothingOnTheGcHeap()
    {
        // What the purger thread calls for each shard, on a fake clock so the epochs advance here.
        var clock = new FakeTimeProvider();
        using var shard = new Shard(dirtyDecayMs: 1_000, muzzyDecayMs: 1_000, time: clock);
        FreeSeparated(shard, 4);
        Pass(shard, clock);

        const int Extents = 64;
        FreeSeparated(shard, Extents);
        ExtentStats stats = shard.Context.Stats;
        long dirtyBefore = stats.DirtyPurgeCalls, muzzyBefore = stats.MuzzyPurgeCalls;
        long allocated = Pass(shard, clock);

        // Reach: the passes took every freed extent dirty -> muzzy -> retained along the decay curve.
        Assert.Equal(Extents, stats.DirtyPurgeCalls - dirtyBefore);
        Assert.Equal(Extents, stats.MuzzyPurgeCalls - muzzyBefore);
        Assert.Equal(0, allocated);
        shard.Validate();
    }

    // The purger's calls for one shard, at every tenth of the decay time until both caches are
    // empty; returns what those calls (not the clock's advance) allocated on the GC heap.
    private static long Pass(Shard shard, FakeTimeProvider clock)
    {
        long allocated = 0;
        for (int step = 0; step < 40 && (shard.Context.Dirty.Npages != 0 || shard.Context.Muzzy.Npages != 0); step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            long before = GC.GetAllocatedBytesForCurrentThread();
            shard.Pac.TimeUntilDeferredWork();
            shard.Pac.DoDeferredWork();
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0u, (uint)shard.Context.Dirty.Npages);
        Assert.Equal(0u, (uint)shard.Context.Muzzy.Npages);
        return allocated;
    }

    // Frees n two-page extents with a held one-page extent after each, so they cannot coalesce.
    private static void FreeSeparated(Shard shard, int n)
    {
        var freed = new nint[n];
        for (int i = 0; i < n; i++)
        {
            freed[i] = (nint)shard.Alloc(2);
            shard.Alloc(1);
        }

        foreach (nint e in freed) shard.Free((Edata*)e);
    }
}

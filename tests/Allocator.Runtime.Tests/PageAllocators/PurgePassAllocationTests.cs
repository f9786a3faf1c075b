using System;
using Allocator.Metadata;
using Allocator.Tests.Extents;

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

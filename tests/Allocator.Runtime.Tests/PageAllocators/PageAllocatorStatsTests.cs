using System.Collections.Generic;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.PageAllocators;

/// <summary>The stats relations of jemalloc's stats.c test and DESIGN.md invariants 9 and 10.</summary>
public sealed unsafe class PageAllocatorStatsTests
{
    private static readonly nuint Page = Allocator.Os.Pages.PageSize;

    [Fact]
    public void Invariant9_ThePageAllocatorShardOwnsTheEcaches()
    {
        uint index = ArenaIndices.Rent();
        var pa = new PageAllocator<RuntimeExtentPolicy>(index, new PageAllocatorOptions { TimeProvider = new FakeTimeProvider() });
        try
        {
            // The shard reaches every cache through its context, and the classic backend is behind the seam.
            Assert.Same(pa.Context, pa.Classic.Context);
            Assert.Equal(ExtentState.Dirty, pa.Context.Dirty.State);
            Assert.True(pa.Context.Dirty.DelayCoalesce);
            Assert.Equal(ExtentState.Muzzy, pa.Context.Muzzy.State);
            Assert.False(pa.Context.Muzzy.DelayCoalesce);
            Assert.Equal(ExtentState.Retained, pa.Context.Retained.State);
            Assert.IsAssignableFrom<IPageAllocatorBackend>(pa.Classic);
            Edata* e = pa.Alloc(Page * 3, Page, slab: false, 40, zero: false);
            Assert.False(e->IsHugePageAllocated);
            pa.Free(e);
            Assert.Equal(3 * (long)Page, pa.GetStats().Dirty);
        }
        finally
        {
            pa.Dispose();
            ArenaIndices.Return(index);
        }
    }

    [Fact]
    public void Invariant10_MappedIsDerivedAndIncludesBase()
    {
        uint index = ArenaIndices.Rent();
        var pa = new PageAllocator<RuntimeExtentPolicy>(index, new PageAllocatorOptions { TimeProvider = new FakeTimeProvider(), DirtyDecayMs = -1, MuzzyDecayMs = -1 });
        try
        {
            var held = new List<nint>();
            for (int i = 0; i < 40; i++) held.Add((nint)pa.Alloc(Page * (nuint)(1 + i % 7), Page, slab: i % 2 == 0, 40, zero: false));
            for (int i = 0; i < held.Count; i += 3) pa.Free((Edata*)held[i]);

            PageAllocatorStats s = pa.GetStats();
            Assert.Equal(s.PaMapped + s.BaseMapped, s.Mapped);
            Assert.True(s.BaseMapped > 0);
            // The page allocator's own figure is not partly derived: it is exactly active + dirty + muzzy.
            Assert.Equal(s.Active + s.Dirty + s.Muzzy, s.PaMapped);
            Assert.True(s.Active <= s.Resident);
            Assert.True(s.Active < s.Mapped);

            var active = new List<nint>();
            for (int i = 0; i < held.Count; i++) if (i % 3 != 0) active.Add((nint)held[i]);
            ExtentValidator.Validate(pa.Context, active.ToArray(), activeIsComplete: true);

            // After a purge the counters move and the figures still add up.
            pa.PurgeAll();
            PageAllocatorStats after = pa.GetStats();
            Assert.True(after.DirtyPurges > s.DirtyPurges);
            Assert.True(after.DirtyPurgeCalls <= after.DirtyPurgedPages);
            Assert.Equal(0, after.Dirty);
            Assert.Equal(after.Active, after.PaMapped);
            Assert.True(after.Retained >= s.Dirty);
            ExtentValidator.Validate(pa.Context, active.ToArray(), activeIsComplete: true);
            foreach (nint e in active) pa.Free((Edata*)e);
        }
        finally
        {
            pa.Dispose();
            ArenaIndices.Return(index);
        }
    }
}

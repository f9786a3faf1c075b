using System;
using Allocator.Extents;
using Allocator.Guards;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Tests.Extents;
using Allocator.Tests.Infrastructure;
using GuardOps = Allocator.Guards.PageGuard;
using OsPages = Allocator.Os.Pages;

namespace Allocator.Tests.Guards;

/// <summary>The bump allocator of right-guarded extents (jemalloc's san_bump.c and its unit test).</summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class SanBumpTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void PortOfJemallocTest_SmallZeroedAndOversizedAllocations()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        var bump = new SanBump();

        Edata* a = bump.Alloc(ctx, 16 * Page, zero: false);
        Assert.True(a != null);
        Assert.Equal(ctx.ArenaIndex, a->ArenaIndex);
        Assert.Equal(16 * Page, a->Size);
        Assert.False(a->IsSlab);
        Assert.True(a->IsCommitted);
        Assert.True(a->IsGuarded);
        Assert.Equal(ExtentState.Active, a->State);
        GuardPagesTests.AssertMapsTo(shard, a->Address, a);
        GuardPagesTests.AssertMapsTo(shard, (byte*)a->Past - Page, a);
        GuardPagesTests.AssertEmpty(shard, a->Past);
        new Span<byte>(a->Address, (int)a->Size).Fill(0xFF);
        // The guard is exactly one page: the rest of the region after it is read-write.
        MapsProbe.AssertGuardExactly(a->Past, Page);

        Edata* b = bump.Alloc(ctx, 28 * Page, zero: true);
        Assert.True(b != null);
        Assert.Equal(28 * Page, b->Size);
        Assert.True(new ReadOnlySpan<byte>(b->Address, (int)b->Size).IndexOfAnyExcept((byte)0) < 0);
        Assert.True((nuint)b->Base >= (nuint)a->Past + Page || (nuint)a->Base >= (nuint)b->Past + Page);
        // Bumped: the next one starts right after the previous one's guard.
        Assert.Equal((nuint)a->Past + Page, (nuint)b->Base);
        new Span<byte>(b->Address, (int)b->Size).Fill(0xFF);

        // Bigger than a region: gets a mapping of its own, every page writable.
        nuint bigSize = 2 * SanBump.RegionSize;
        Edata* big = bump.Alloc(ctx, bigSize, zero: false);
        Assert.True(big != null);
        Assert.Equal(bigSize, big->Size);
        for (nuint off = 0; off < bigSize; off += Page) ((byte*)big->Address)[off] = 1;
        MapsProbe.AssertGuardExactly(big->Past, Page);

        Free(shard, a);
        Free(shard, b);
        Free(shard, big);
        bump.Destroy(ctx);
        shard.Validate();
    }

    [Fact]
    public void Grow_ReleasesTheOldRegionsRemainder_DeregisteredAndUnmapped()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        var bump = new SanBump();
        Edata* a = bump.Alloc(ctx, 16 * Page, zero: false);
        byte* rest = (byte*)a->Past + Page;
        byte* restLast = (byte*)a->Base + SanBump.RegionSize - Page;
        Assert.True(shard.Map.TryLookup(rest, out RtreeContents c) && c.Edata != null, "the region's remainder is registered");

        OsCounters before = OsPages.Counters;
        Edata* big = bump.Alloc(ctx, SanBump.RegionSize, zero: false);
        Assert.True(big != null);
        Assert.True(OsPages.Counters.Since(before).Unmaps >= 1);
        GuardPagesTests.AssertEmpty(shard, rest);
        GuardPagesTests.AssertEmpty(shard, restLast);

        Free(shard, a);
        Free(shard, big);
        bump.Destroy(ctx);
        shard.Validate();
    }

    [Fact]
    public void GrowFailure_KeepsTheCurrentRegion()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        var bump = new SanBump();
        Edata* a = bump.Alloc(ctx, Page, zero: false);
        // More than the whole user address space: the mapping fails.
        Assert.True(bump.Alloc(ctx, (nuint)1 << 47, zero: false) == null);
        Edata* b = bump.Alloc(ctx, Page, zero: false);
        Assert.True(b != null);
        Assert.Equal((nuint)a->Past + Page, (nuint)b->Base);

        Free(shard, a);
        Free(shard, b);
        bump.Destroy(ctx);
        shard.Validate();
    }

    [Fact]
    public void TakesAWholeRegion_WhenTheRequestFillsIt()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        var bump = new SanBump();
        Edata* e = bump.Alloc(ctx, SanBump.RegionSize - Page, zero: false);
        Assert.True(e != null);
        Assert.Equal(SanBump.RegionSize - Page, e->Size);
        Assert.True(e->IsHead);
        MapsProbe.AssertGuardExactly(e->Past, Page);
        // Nothing is left over: the next request comes from a new region, so it starts a mapping.
        Edata* next = bump.Alloc(ctx, Page, zero: false);
        Assert.True(next != null);
        Assert.True(next->IsHead);

        Free(shard, e);
        Free(shard, next);
        bump.Destroy(ctx);
        shard.Validate();
    }

    [Fact]
    public void Destroy_UnmapsTheCurrentRegion()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        var bump = new SanBump();
        Edata* a = bump.Alloc(ctx, Page, zero: false);
        byte* rest = (byte*)a->Past + Page;
        Free(shard, a);

        OsCounters before = OsPages.Counters;
        bump.Destroy(ctx);
        Assert.Equal(1, OsPages.Counters.Since(before).Unmaps);
        GuardPagesTests.AssertEmpty(shard, rest);
        bump.Destroy(ctx);
        Assert.Equal(1, OsPages.Counters.Since(before).Unmaps);
        shard.Validate();
    }

    [Fact]
    public void BadInput_IsRefusedClearly()
    {
        var bump = new SanBump();
        using (var unmapping = new Shard(retain: false))
            Assert.Throws<ArgumentException>(() => bump.Alloc(unmapping.Context, Page, zero: false));
        using (var custom = new Shard(new TestExtentHooks(retain: true)))
            Assert.Throws<ArgumentException>(() => bump.Alloc(custom.Context, Page, zero: false));
        using var shard = new Shard();
        Assert.Throws<ArgumentOutOfRangeException>(() => bump.Alloc(shard.Context, 0, zero: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => bump.Alloc(shard.Context, Page + 1, zero: false));
    }

    // What the page allocator does with a freed bump extent when it is not cached guarded.
    private static void Free(Shard shard, Edata* e)
    {
        GuardOps.UnguardPages(shard.Context, e, left: false, right: true);
        // The page allocator counts usable bytes as mapped; the guard page just became usable.
        shard.Context.Stats.AddMapped((long)Page);
        shard.Pac.Free(e);
    }
}

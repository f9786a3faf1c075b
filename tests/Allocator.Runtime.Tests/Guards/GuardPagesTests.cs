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

/// <summary>Guarding and unguarding extents (jemalloc's san.c), checked against the kernel's view and the map.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class GuardPagesTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void TwoSided_ProtectsExactlyThePagesAroundTheUsableRange_AndTheMapNeverShowsThem()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        Edata* below = shard.Alloc(2);
        Edata* e = shard.Alloc(4);
        Edata* above = shard.Alloc(2);
        // The premise: three neighbors, so the guard pages have read-write pages on both sides.
        Assert.Equal((nuint)below->Past, (nuint)e->Base);
        Assert.Equal((nuint)e->Past, (nuint)above->Base);
        byte* start = (byte*)e->Base;
        nuint total = e->Size;
        byte* leftGuard = start, rightGuard = start + total - Page;

        OsCounters before = OsPages.Counters;
        Assert.True(GuardOps.GuardPages(ctx, e, left: true, right: true, remap: true));
        Assert.Equal(2, OsPages.Counters.Since(before).Protects);

        Assert.True(e->IsGuarded);
        Assert.Equal((nuint)(start + Page), (nuint)e->Address);
        Assert.Equal(total - 2 * Page, e->Size);
        new Span<byte>(e->Address, (int)e->Size).Fill(0xA5);
        MapsProbe.AssertGuardExactly(leftGuard, Page);
        MapsProbe.AssertGuardExactly(rightGuard, Page);
        MapsProbe.AssertReadWrite(e->Address);
        MapsProbe.AssertReadWrite((byte*)e->Past - 1);

        // The usable boundary pages map to the extent, with no size class and no slab bit...
        AssertMapsTo(shard, e->Address, e);
        AssertMapsTo(shard, (byte*)e->Past - Page, e);
        Assert.True(shard.Map.TryLookup(e->Address, out RtreeContents c));
        Assert.Equal(Edata.NoSizeIndex, c.SizeIndex);
        Assert.False(c.IsSlab);
        // ...and the guard pages to nothing.
        AssertEmpty(shard, leftGuard);
        AssertEmpty(shard, rightGuard);

        // Freed into the dirty cache (guarded set), the extent has the state neighbors look for, yet
        // neither neighbor can acquire it: each looks at a guard page and finds an empty leaf.
        ExtentOps<RuntimeExtentPolicy>.Dalloc(ctx, ctx.Dirty, e);
        Assert.Equal(ExtentState.Dirty, e->State);
        Assert.Equal(1, ctx.Dirty.GuardedEset.Count);
        using (ctx.Dirty.Enter())
        {
            Assert.True(shard.Map.TryAcquireNeighbor(below, ExtentState.Dirty, forward: true, expanding: false) == null);
            Assert.True(shard.Map.TryAcquireNeighbor(above, ExtentState.Dirty, forward: false, expanding: false) == null);
        }

        Assert.Equal(ExtentState.Dirty, e->State);
        Edata* again = ExtentOps<RuntimeExtentPolicy>.Alloc(ctx, ctx.Dirty, null, total - 2 * Page, Page, zero: false, guarded: true);
        Assert.True(again == e);

        before = OsPages.Counters;
        GuardOps.UnguardPages(ctx, e, left: true, right: true);
        // Both guards of a span no larger than the smallest large class: one ranged mprotect.
        Assert.Equal(1, OsPages.Counters.Since(before).Protects);
        AssertRestored(shard, e, start, total);
        shard.Validate();
    }

    [Fact]
    public void TwoSided_LargeSpan_UnguardsEachPageSeparately()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        Edata* e = shard.Alloc(8);
        byte* start = (byte*)e->Base;
        nuint total = e->Size;
        Assert.True((ulong)total > ctx.PageClasses.LargeMinClass);

        Assert.True(GuardOps.GuardPages(ctx, e, left: true, right: true, remap: true));
        MapsProbe.AssertGuardExactly(start, Page);
        OsCounters before = OsPages.Counters;
        GuardOps.UnguardPages(ctx, e, left: true, right: true);
        Assert.Equal(2, OsPages.Counters.Since(before).Protects);
        AssertRestored(shard, e, start, total);
        shard.Validate();
    }

    [Fact]
    public void RightOnly_KeepsTheAddress_AndGuardsTheLastPage()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        Edata* e = shard.Alloc(3);
        Edata* above = shard.Alloc(1);
        Assert.Equal((nuint)e->Past, (nuint)above->Base);
        byte* start = (byte*)e->Base;
        nuint total = e->Size;

        OsCounters before = OsPages.Counters;
        Assert.True(GuardOps.GuardPages(ctx, e, left: false, right: true, remap: true));
        Assert.Equal(1, OsPages.Counters.Since(before).Protects);
        Assert.Equal((nuint)start, (nuint)e->Address);
        Assert.Equal(total - Page, e->Size);
        MapsProbe.AssertGuardExactly(start + total - Page, Page);
        MapsProbe.AssertReadWrite(start);
        new Span<byte>(e->Address, (int)e->Size).Fill(1);
        AssertMapsTo(shard, start, e);
        AssertMapsTo(shard, start + total - 2 * Page, e);
        AssertEmpty(shard, start + total - Page);

        before = OsPages.Counters;
        GuardOps.UnguardPages(ctx, e, left: false, right: true);
        Assert.Equal(1, OsPages.Counters.Since(before).Protects);
        AssertRestored(shard, e, start, total);
        shard.Validate();
    }

    [Fact]
    public void CustomHooks_CannotGuard_AndNothingChanges()
    {
        using var shard = new Shard(new TestExtentHooks(retain: true));
        Edata* e = shard.Alloc(4);
        byte* start = (byte*)e->Base;
        OsCounters before = OsPages.Counters;
        Assert.False(GuardOps.GuardPages(shard.Context, e, left: true, right: true, remap: true));
        Assert.Equal(0, OsPages.Counters.Since(before).Protects);
        AssertRestored(shard, e, start, 4 * Page);
        shard.Validate();
    }

    [Fact]
    public void BadRequests_AreRefusedClearly()
    {
        using var shard = new Shard();
        Edata* e = shard.Alloc(2);
        Assert.Throws<ArgumentException>(() => GuardOps.GuardPages(shard.Context, e, left: false, right: false, remap: true));
        // Two pages leave nothing usable between two guards.
        Assert.Throws<ArgumentException>(() => GuardOps.GuardPages(shard.Context, e, left: true, right: true, remap: true));
        Assert.False(e->IsGuarded);
    }

    [Fact]
    public void PreDestroy_RemovesTheRightGuard_SoDestroyLeavesNoProtNonePage()
    {
        using var shard = new Shard();
        ExtentContext ctx = shard.Context;
        var bump = new SanBump();
        Edata* e = bump.Alloc(ctx, 4 * Page, zero: false);
        Assert.True(e != null);
        byte* start = (byte*)e->Base;
        nuint total = e->Size + Page;
        byte* guard = start + total - Page;
        MapsProbe.AssertGuardExactly(guard, Page);

        // As decay with retain leaves it: purged, retained, still guarded; evicted at destroy, deregistered.
        ExtentOps<RuntimeExtentPolicy>.DallocWrapper(ctx, e);
        Assert.Equal(ExtentState.Retained, e->State);
        Assert.True(e->IsGuarded);
        Assert.Equal(1, ctx.Retained.GuardedEset.Count);
        Assert.True(ExtentOps<RuntimeExtentPolicy>.Evict(ctx, ctx.Retained, 0) == e);
        AssertEmpty(shard, start);

        OsCounters before = OsPages.Counters;
        GuardOps.UnguardPagesPreDestroy(ctx, e);
        Assert.Equal(1, OsPages.Counters.Since(before).Protects);
        Assert.False(e->IsGuarded);
        Assert.Equal((nuint)start, (nuint)e->Base);
        Assert.Equal(total, e->Size);
        MapsProbe.AssertReadWrite(guard);
        // No map writes: the extent stays deregistered.
        AssertEmpty(shard, start);
        AssertEmpty(shard, guard - Page);

        ExtentOps<RuntimeExtentPolicy>.DestroyWrapper(ctx, e);
        Assert.Equal(0, ProcMaps.CountProtNone(start, total));
        bump.Destroy(ctx);
    }

    internal static void AssertMapsTo(Shard shard, void* address, Edata* e)
    {
        Assert.True(shard.Map.TryLookup(address, out RtreeContents c), $"no leaf for 0x{(nuint)address:x}");
        Assert.True(c.Edata == e, $"0x{(nuint)address:x} does not map to the extent");
        Assert.Equal(e->State, c.State);
    }

    internal static void AssertEmpty(Shard shard, void* address)
    {
        // A missing leaf is as empty as an empty word.
        if (shard.Map.TryLookup(address, out RtreeContents c)) Assert.True(c.Edata == null, $"0x{(nuint)address:x} is mapped");
    }

    private static void AssertRestored(Shard shard, Edata* e, byte* start, nuint total)
    {
        Assert.False(e->IsGuarded);
        Assert.Equal((nuint)start, (nuint)e->Address);
        Assert.Equal(total, e->Size);
        Assert.True(shard.Map.IsMapped(e));
        AssertMapsTo(shard, start, e);
        AssertMapsTo(shard, start + total - Page, e);
        MapsProbe.AssertReadWrite(start);
        MapsProbe.AssertReadWrite(start + total - 1);
        new Span<byte>(start, (int)total).Fill(7);
    }
}

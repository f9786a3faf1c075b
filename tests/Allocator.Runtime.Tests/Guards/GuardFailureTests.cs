using System;
using System.Collections.Generic;
using Allocator.Extents;
using Allocator.Guards;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.PageAllocators;
using Allocator.Tests.Extents;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Guards;

/// <summary>
/// mprotect refusing a guard (ENOMEM at vm.max_map_count, say): the piece that could not be guarded
/// must stay an ordinary extent that never swallows the guarded slab cut after it.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class GuardFailureTests
{
    private static readonly nuint Page = Shard.Page;

    [Fact]
    public void APieceTheBumpRegionCouldNotGuardNeverCoalescesWithTheGuardedSlabAfterIt()
    {
        byte* guardPage;
        using (var shard = new Shard())
        {
            ClassicPageAllocator<RuntimeExtentPolicy> pac = shard.Pac;
            int protects = 0;
            Pages.FaultInjector = call => call == OsCall.Protect && ++protects == 1;
            Edata* a;
            try
            {
                a = pac.Alloc(2 * Page, Page, zero: false, guarded: true, frequentReuse: true);
            }
            finally
            {
                Pages.FaultInjector = null;
            }

            // The fault fired, and the caller still got its memory, unguarded.
            Assert.Equal(1, protects);
            Assert.True(a != null);
            Assert.False(a->IsGuarded);
            shard.Active.Add((nint)a);

            Edata* b = pac.Alloc(2 * Page, Page, zero: false, guarded: true, frequentReuse: true);
            Assert.True(b != null && b->IsGuarded);
            Assert.False(b->IsHead);
            shard.Active.Add((nint)b);
            // A slab, as the arena would make it: freed, it stays guarded.
            shard.Map.Remap(b, 0, slab: true);
            guardPage = (byte*)b->Past;
            MapsProbe.AssertGuardExactly(guardPage, Page);
            // The unguarded piece (a, then what is left of the failed cut) lies right below the guarded slab.
            Assert.Equal((nuint)a->Past + Page, (nuint)b->Base);
            Assert.True(shard.Map.TryLookup(a->Past, out RtreeContents rest) && rest.State == ExtentState.Retained);
            Validate(shard);

            // The freed slab stays guarded, in dirty and then in retained.
            shard.Free(b);
            pac.PurgeAll();
            Validate(shard);
            Assert.Equal(1, shard.Context.Retained.GuardedEset.Count);
            Assert.True(shard.Map.TryLookup(b->Base, out RtreeContents slab) && slab.State == ExtentState.Retained);

            // Retaining a coalesces it forward: with the piece above it, then up to the guarded slab.
            shard.Free(a);
            pac.PurgeAll();
            Validate(shard);
            Assert.Equal(1, shard.Context.Retained.GuardedEset.Count);
            Assert.True(b->IsGuarded && b->State == ExtentState.Retained);
            Assert.True(shard.Map.TryLookup(b->Base, out RtreeContents after) && after.Edata == b);
            MapsProbe.AssertGuardExactly(guardPage, Page);
        }

        // Destroying the shard took the guard page with the slab.
        Assert.Equal(0, ProcMaps.CountProtNone(guardPage, Page));
    }

    [Fact]
    public void RefusedUnguardsAtDestroyLeaveNoGuardPageBehind()
    {
        var account = new GuardMappingAccount(maxMapCount: 100_000);
        long mappedBefore = Pages.MappedBytes;
        var map = new ExtentMap();
        var arena = Arena.Create(new ArenaOptions
        {
            Map = map,
            GuardAccount = account,
            GuardSmallEvery = 1,
            ThreadCache = false,
            TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(),
        });
        var guardPages = new List<nuint>();
        int refused = 0;
        try
        {
            // Slabs of several classes, freed and purged: with retain they wait guarded in the retained cache.
            var blocks = new List<nint>();
            for (int i = 0; i < 40; i++) blocks.Add((nint)arena.Allocate((nuint)(64 + 700 * i)));
            foreach (nint b in blocks) arena.Free((void*)b);
            arena.Purge();
            arena.Validate();
            foreach (AddressSpaceRegion r in arena.GetAddressSpace())
            {
                if (r.Kind == AddressSpaceKind.Guard) guardPages.Add(r.Start);
            }

            Assert.True(guardPages.Count >= 10, $"only {guardPages.Count} guard pages in place");
            foreach (nuint g in guardPages) MapsProbe.AssertGuardExactly((void*)g, Page);
            Pages.FaultInjector = call => call == OsCall.Unprotect && ++refused > 0;
            arena.Dispose();
        }
        finally
        {
            Pages.FaultInjector = null;
            arena.Dispose();
            map.Dispose();
        }

        // Every unguard at destroy was refused, and the unmaps took the guard pages all the same.
        Assert.Equal(guardPages.Count, refused);
        foreach (nuint g in guardPages) Assert.True(ProcMaps.CountProtNone((void*)g, Page) == 0, $"the guard page at 0x{g:x} outlived the arena");
        Assert.Equal(0, account.InUse);
        Assert.Equal(mappedBefore, Pages.MappedBytes);
    }

    [Fact]
    public void AGuardWhoseSecondPageAndUndoAreBothRefusedKeepsItsFirstGuard()
    {
        var account = new GuardMappingAccount(maxMapCount: 100_000);
        long mappedBefore = Pages.MappedBytes;
        var map = new ExtentMap();
        var arena = Arena.Create(new ArenaOptions
        {
            Map = map,
            GuardAccount = account,
            GuardLargeEvery = 1,
            ThreadCache = false,
            TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(),
        });
        try
        {
            int protects = 0, unprotects = 0;
            Pages.FaultInjector = call => (call == OsCall.Protect && ++protects == 2) || (call == OsCall.Unprotect && ++unprotects == 1);
            byte* p;
            try
            {
                p = (byte*)arena.Allocate(40_000);
            }
            finally
            {
                Pages.FaultInjector = null;
            }

            Assert.Equal((2, 1), (protects, unprotects));
            nuint usable = arena.UsableSize(p);
            new Span<byte>(p, (int)usable).Fill(0x5a);
            // Guarded by its left page only: the right one, outside the block, stayed accessible.
            Assert.True(GuardBudgetTests.IsGuarded(arena, p));
            MapsProbe.AssertGuardExactly(p - Page, Page);
            MapsProbe.AssertReadWrite(p + usable);
            PageAllocatorStats s = arena.GetStats().Pages;
            Assert.Equal(2, s.GuardProtectRefusals);
            Assert.Equal(4, s.GuardMappings);
            arena.Validate();

            arena.Free(p);
            arena.Validate();
            Assert.Equal(0, account.InUse);
            Assert.Equal(0, ProcMaps.CountProtNone(p - Page, Page));
        }
        finally
        {
            Pages.FaultInjector = null;
            arena.Dispose();
            map.Dispose();
        }

        Assert.Equal(mappedBefore, Pages.MappedBytes);
    }

    // Without the map scan: the bump region's uncut rest is active, held by the page allocator, not the test.
    private static void Validate(Shard shard) =>
        ExtentValidator.Validate(shard.Context, shard.Active.ToArray(), activeIsComplete: true, scanMap: false);
}

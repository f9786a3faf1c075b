using System;
using System.Collections.Generic;
using System.Linq;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Allocator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OsPages = Allocator.Os.Pages;

namespace Allocator.Tests.Arenas;

/// <summary>DESIGN.md invariants 7 and 8, through the arena.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class ArenaGuardTests
{
    private static readonly nuint Page = OsPages.PageSize;

    private static Arena<RuntimeArenaPolicy> Guarded(bool retain = true, int smallEvery = 1, int largeEvery = 0, long dirtyMs = -1, long muzzyMs = -1) =>
        new(new ArenaOptions
        {
            Retain = retain,
            GuardSmallEvery = smallEvery,
            GuardLargeEvery = largeEvery,
            ThreadCache = false,
            DirtyDecayMs = dirtyMs,
            MuzzyDecayMs = muzzyMs,
            TimeProvider = new FakeTimeProvider(),
        });

    private static Edata* ExtentOf(Arena<RuntimeArenaPolicy> arena, void* p)
    {
        Assert.True(arena.PageAllocator.Context.Map.TryLookup(p, out RtreeContents c));
        return c.Edata;
    }

    [Fact]
    public void Invariant7_SmallGuardedExtentsAreReusedFromTheGuardedSetWithoutAnMprotect()
    {
        using var arena = Guarded();
        void* p = arena.Allocate(4096);
        Edata* slab = ExtentOf(arena, p);
        Assert.True(slab->IsGuarded);
        Assert.True(ProcMaps.PermissionsAt(slab->Past)!.StartsWith("---", StringComparison.Ordinal), "a guard page follows the slab");
        arena.Free(p);
        Assert.Equal(1, arena.PageAllocator.Context.Dirty.GuardedEset.Count);

        long protects = OsPages.Counters.Protects;
        void* q = arena.Allocate(4096);
        Assert.True(q == p, "the cached guarded slab comes back");
        Assert.Equal(protects, OsPages.Counters.Protects);
        Assert.True(ExtentOf(arena, q)->IsGuarded);
        arena.Free(q);
        arena.Validate();
    }

    [Fact]
    public void Invariant7_GuardedExtentsDecayDirtyToMuzzyToRetainedAndStayGuarded()
    {
        var clock = new FakeTimeProvider();
        using var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions
        {
            GuardSmallEvery = 1, ThreadCache = false, DirtyDecayMs = 1000, MuzzyDecayMs = 1000, TimeProvider = clock,
        });
        void* p = arena.Allocate(4096);
        Edata* slab = ExtentOf(arena, p);
        void* guardPage = slab->Past;
        arena.Free(p);
        var ctx = arena.PageAllocator.Context;
        Assert.Equal(1, ctx.Dirty.GuardedEset.Count);

        // Tick through the decay: the guarded slab moves on as the others do, guard and all.
        bool sawMuzzy = false;
        for (int i = 0; i < 500 && ctx.Retained.GuardedEset.Count == 0; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            arena.PageAllocator.DecayTick();
            sawMuzzy |= ctx.Muzzy.GuardedEset.Count == 1;
        }

        Assert.True(sawMuzzy, "the guarded slab passed through the muzzy cache");
        Assert.Equal(1, ctx.Retained.GuardedEset.Count);
        Assert.True(ctx.Retained.GuardedEset.LruFirst->IsGuarded);
        Assert.StartsWith("---", ProcMaps.PermissionsAt(guardPage));
        // Reused from retained: the same slab, still without an mprotect.
        long protects = OsPages.Counters.Protects;
        Assert.True(arena.Allocate(4096) == p);
        Assert.Equal(protects, OsPages.Counters.Protects);
        arena.Validate();
    }

    [Fact]
    public void Invariant8_DestroyingAnArenaUnguardsItsRetainedGuardedSlabsSoNoGuardPageOutlivesIt()
    {
        // Every guard page the arenas made, checked after their destroy. (The process-wide count of
        // PROT_NONE regions is not a usable measure: the runtime reserves and trims its own.)
        // Each arena's guard pages are checked right after its destroy, before the runtime has had
        // much chance to map anything of its own there (which may well be PROT_NONE).
        int leaked = 0;
        for (int cycle = 0; cycle < 1000; cycle++)
        {
            var guards = new List<nint>();
            var arena = Guarded(largeEvery: 1);
            try
            {
                var blocks = new List<nint>();
                for (int i = 0; i < 8; i++) blocks.Add((nint)arena.Allocate((nuint)(64 << (i % 7))));
                blocks.Add((nint)arena.Allocate(40_000));
                foreach (nint b in blocks)
                {
                    Edata* e = ExtentOf(arena, (void*)b);
                    Assert.True(e->IsGuarded);
                    guards.Add((nint)e->Past);
                    if (!e->IsSlab) guards.Add((nint)e->Address - (nint)Page);
                }

                foreach (nint b in blocks) arena.Free((void*)b);
                // Retained guarded slabs are what the seed commit is about: put them there.
                arena.Purge();
                long retainedGuarded = arena.PageAllocator.Context.Retained.GuardedEset.Count;
                Assert.True(retainedGuarded > 0, $"cycle {cycle} destroys an arena holding no retained guarded slab");
            }
            finally
            {
                arena.Dispose();
            }

            foreach (nint g in guards) leaked += ProcMaps.CountProtNone((void*)g, Page);
        }

        Assert.Equal(0, leaked);
    }

    [Fact]
    public void GuardedLargeAllocationsAreUnguardedWhenFreedAndCountedOnlyByTheirUsableBytes()
    {
        using var arena = Guarded(smallEvery: 0, largeEvery: 1, dirtyMs: -1);
        byte* p = (byte*)arena.Allocate(40_000);
        Edata* e = ExtentOf(arena, p);
        Assert.True(e->IsGuarded);
        Assert.StartsWith("---", ProcMaps.PermissionsAt(p - Page));
        Assert.StartsWith("---", ProcMaps.PermissionsAt(p + e->Size));
        arena.Validate();
        arena.Free(p);
        Assert.Equal(0, arena.PageAllocator.Context.Dirty.GuardedEset.Count);
        Assert.StartsWith("rw", ProcMaps.PermissionsAt(p - Page));
        arena.Validate();
    }

    [Fact]
    public void WithoutRetainGuardedSlabsAreUnguardedBeforeTheyAreUnmapped()
    {
        using var arena = Guarded(retain: false, dirtyMs: 0, muzzyMs: 0);
        void* p = arena.Allocate(4096);
        Edata* slab = ExtentOf(arena, p);
        nint guard = (nint)slab->Past;
        arena.Free(p);
        Assert.Equal(0, ProcMaps.CountProtNone((void*)guard, Page));
        arena.Validate();
    }

    [Fact]
    public void PortOfSanGuardedSmall_SlabStartsAreAtLeastASlabAndAPageApart()
    {
        using var arena = Guarded();
        var starts = new List<nuint>();
        for (int i = 0; i < 16; i++)
        {
            byte* p = (byte*)arena.Allocate(4096);
            Edata* e = ExtentOf(arena, p);
            Assert.True(e->IsGuarded);
            Assert.True(p == e->Address, "a one-region slab starts where its allocation does");
            starts.Add((nuint)p);
        }

        foreach (nuint a in starts)
        {
            foreach (nuint b in starts)
            {
                if (a != b) Assert.True(a > b ? a - b >= Page + Page : b - a >= Page + Page);
            }
        }

        arena.Validate();
    }

    [Fact]
    public void PortOfSanGuardedLarge_EveryLargeExtentIsGuardedAndApartBySizePlusTwoPages()
    {
        using var arena = Guarded(smallEvery: 0, largeEvery: 1);
        const nuint Size = 16 << 10;
        var ps = new List<nuint>();
        for (int i = 0; i < 32; i++)
        {
            byte* p = (byte*)arena.Allocate(Size);
            Assert.True(ExtentOf(arena, p)->IsGuarded);
            ps.Add((nuint)p);
        }

        foreach (nuint a in ps)
        {
            foreach (nuint b in ps)
            {
                if (a != b) Assert.True(a > b ? a - b >= Size + 2 * Page : b - a >= Size + 2 * Page);
            }
        }

        arena.Validate();
    }

    [Fact]
    public void PortOfSanGuardedDecay_FreedGuardedSlabsAreReusedAndPurgeCountsTheirPages()
    {
        using var arena = Guarded();
        void* small = arena.Allocate(4096);
        void* two = arena.Allocate(8192);
        arena.Free(small);
        Assert.Equal((long)Page, arena.GetStats().Dirty);
        arena.Free(two);
        Assert.Equal(3 * (long)Page, arena.GetStats().Dirty);
        // Both come back from the guarded cache: dirty drops to 0, still guarded.
        void* small2 = arena.Allocate(4096);
        void* two2 = arena.Allocate(8192);
        Assert.True(small2 == small && two2 == two);
        Assert.Equal(0, arena.GetStats().Dirty);
        Assert.True(ExtentOf(arena, small2)->IsGuarded && ExtentOf(arena, two2)->IsGuarded);
        arena.Free(small2);
        arena.Free(two2);

        long purgesBefore = arena.GetStats().Pages.DirtyPurges;
        arena.Purge();
        PageAllocatorStats s = arena.GetStats().Pages;
        Assert.Equal(0, s.Dirty);
        Assert.Equal(purgesBefore + 1, s.DirtyPurges);
        Assert.Equal(3, s.DirtyPurgedPages);
        Assert.Equal(0, s.MuzzyPurges);
        // With retain, the same pointers come back from the retained guarded cache.
        Assert.True(arena.Allocate(4096) == small);
        Assert.True(arena.Allocate(8192) == two);
        arena.Validate();
    }

    [Fact]
    public void BadGuardSettingsAreRejected()
    {
        Assert.Equal("GuardLargeEvery", Assert.Throws<ArgumentOutOfRangeException>(() => Guarded(largeEvery: -3)).ParamName);
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.PageAllocators;

/// <summary>Ports of jemalloc's arena_decay.c assertions, at the page allocator, on a fake clock.</summary>
public sealed unsafe class PageAllocatorDecayTests
{
    private static readonly nuint Page = Allocator.Os.Pages.PageSize;

    private static PageAllocator<RuntimeExtentPolicy> Create(FakeTimeProvider clock, long dirtyMs, long muzzyMs, bool retain = true) =>
        new(ArenaIndices.Rent(), new PageAllocatorOptions { DirtyDecayMs = dirtyMs, MuzzyDecayMs = muzzyMs, TimeProvider = clock, Retain = retain });

    private static void Release(PageAllocator<RuntimeExtentPolicy> pa)
    {
        uint index = pa.Context.ArenaIndex;
        pa.Dispose();
        ArenaIndices.Return(index);
    }

    // The background purger's pass purges only to the decay limit; an explicit purge that met it
    // used to return at once and leave the rest dirty (Off's RSS after the bench's purge).
    [Fact]
    public void PurgeAllWaitsForAPassInProgressAndThenPurgesEverything()
    {
        var clock = new FakeTimeProvider();
        var pa = Create(clock, 10_000, 0);
        try
        {
            Edata* e = pa.Alloc(64 * Page, Page, slab: false, 40, zero: false);
            pa.Free(e);
            Assert.Equal(64 * (long)Page, pa.GetStats().Dirty);

            Allocator.Decay.DecayTracker decay = pa.Classic.DirtyDecay;
            using (decay.Lock.EnterScope()) decay.Purging = true;
            var purge = new System.Threading.Thread(pa.PurgeAll);
            purge.Start();
            Assert.False(purge.Join(200), "PurgeAll returned while another pass was purging");
            using (decay.Lock.EnterScope()) decay.Purging = false;
            Assert.True(purge.Join(System.TimeSpan.FromSeconds(30)));
            Assert.Equal(0, pa.GetStats().Dirty);
        }
        finally
        {
            Release(pa);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(4 * 512)]
    public void DecayTimeZeroLeavesNoDirtyOrMuzzyPagesAfterAFree(int pages)
    {
        var clock = new FakeTimeProvider();
        var pa = Create(clock, 0, 0);
        try
        {
            for (int i = 0; i < 8; i++)
            {
                Edata* e = pa.Alloc((nuint)pages * Page, Page, slab: false, 40, zero: false);
                pa.Free(e);
                PageAllocatorStats s = pa.GetStats();
                Assert.Equal(0, s.Dirty);
                Assert.Equal(0, s.Muzzy);
            }

            Assert.True(pa.GetStats().DirtyPurgedPages >= 8 * pages);
        }
        finally
        {
            Release(pa);
        }
    }

    [Fact]
    public void DecayTimeNeverKeepsEveryFreedPageDirty()
    {
        var clock = new FakeTimeProvider();
        var pa = Create(clock, -1, -1);
        try
        {
            var held = new List<nint>();
            for (int i = 0; i < 16; i++) held.Add((nint)pa.Alloc(Page * 5, Page, false, 40, false));
            long dirty = 0;
            foreach (nint e in held)
            {
                pa.Free((Edata*)e);
                clock.Advance(TimeSpan.FromHours(1));
                pa.DecayTick();
                PageAllocatorStats s = pa.GetStats();
                Assert.True(s.Dirty > dirty, "each free adds dirty pages and nothing purges them");
                Assert.Equal(0, s.Muzzy);
                Assert.Equal(0, s.DirtyPurges);
                dirty = s.Dirty;
            }
        }
        finally
        {
            Release(pa);
        }
    }

    [Fact]
    public void TicksPurgeDirtyThenMuzzyAsTheClockPassesTheDecayTime()
    {
        var clock = new FakeTimeProvider();
        var pa = Create(clock, 1000, 1000);
        try
        {
            var held = new List<nint>();
            for (int i = 0; i < 2048; i++) held.Add((nint)pa.Alloc(Page * 2, Page, false, 40, false));
            for (int i = 0; i < held.Count; i += 2) pa.Free((Edata*)held[i]);
            Assert.True(pa.GetStats().Dirty > 0);
            Assert.Equal(0, pa.GetStats().DirtyPurges);

            // Step the clock past both decay times, ticking as allocation traffic would.
            for (int step = 0; step < 400; step++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
                pa.DecayTick();
            }

            PageAllocatorStats s = pa.GetStats();
            Assert.True(s.DirtyPurges > 0, "dirty pages decayed");
            Assert.True(s.MuzzyPurges > 0, "muzzy pages decayed");
            Assert.Equal(0, s.Dirty);
            Assert.Equal(0, s.Muzzy);
            Assert.True(s.Retained > 0);
            for (int i = 1; i < held.Count; i += 2) pa.Free((Edata*)held[i]);
        }
        finally
        {
            Release(pa);
        }
    }

    [Fact]
    public void AClockThatGoesBackwardsPurgesNothing()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1000));
        var pa = Create(clock, 1000, 1000);
        try
        {
            for (int i = 0; i < 64; i++) pa.Free(pa.Alloc(Page * 3 * (nuint)(1 + i % 3), Page, false, 40, false));
            for (int step = 0; step < 100; step++)
            {
                clock.AdjustTime(clock.GetUtcNow().AddMilliseconds(-50));
                pa.DecayTick();
            }

            Assert.Equal(0, pa.GetStats().DirtyPurges);
            Assert.True(pa.GetStats().Dirty > 0);
        }
        finally
        {
            Release(pa);
        }
    }

    [Fact]
    public void DecayTimesChangeAtRunTimeAndRejectBadValues()
    {
        var clock = new FakeTimeProvider();
        var pa = Create(clock, -1, -1);
        try
        {
            pa.Free(pa.Alloc(Page * 8, Page, false, 40, false));
            Assert.Equal(8 * (long)Page, pa.GetStats().Dirty);
            pa.SetDecayMs(ExtentState.Dirty, 0);
            Assert.Equal(0, pa.GetStats().Dirty);

            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => pa.SetDecayMs(ExtentState.Muzzy, -2));
            Assert.Contains("-1 (never)", ex.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => pa.SetDecayMs(ExtentState.Retained, 5));
            Assert.Throws<ArgumentOutOfRangeException>(() => Create(clock, -7, 0));
        }
        finally
        {
            Release(pa);
        }
    }

    [Fact]
    public void TheBackgroundPurgerPurgesWithoutApplicationTicks()
    {
        var clock = new FakeTimeProvider();
        var pa = Create(clock, 100, 0);
        try
        {
            long passesBefore = BackgroundPurger.Passes;
            pa.StartBackgroundPurge();
            Assert.True(pa.IsBackgroundPurged);
            Assert.True(BackgroundPurger.IsRunning);
            for (int i = 0; i < 32; i++) pa.Free(pa.Alloc(Page * 4, Page, false, 40, false));
            Assert.True(pa.GetStats().Dirty > 0);
            var watch = Stopwatch.StartNew();
            while (pa.GetStats().Dirty != 0 && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                clock.Advance(TimeSpan.FromMilliseconds(50));
                BackgroundPurger.Wake();
                Thread.Sleep(5);
            }

            Assert.Equal(0, pa.GetStats().Dirty);
            Assert.True(BackgroundPurger.Passes > passesBefore);
        }
        finally
        {
            Release(pa);
        }
    }
}

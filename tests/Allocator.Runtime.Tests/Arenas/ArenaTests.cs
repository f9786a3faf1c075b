using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Extensions.Time.Testing;

namespace Allocator.Tests.Arenas;

public sealed unsafe class ArenaTests
{
    private static Arena NewArena(ArenaOptions? o = null) => Arena.Create((o ?? new ArenaOptions()) with { TimeProvider = new FakeTimeProvider() });

    [Theory]
    [InlineData(4, 2, 3, true, 1 << 20)]
    [InlineData(4, 2, 3, false, 1 << 20)]
    [InlineData(3, 2, 3, true, 1 << 20)]
    [InlineData(4, 1, 4, true, 1 << 20)]
    [InlineData(4, 3, 3, true, 1 << 20)]
    [InlineData(4, 3, 3, false, 1 << 20)]
    [InlineData(3, 4, 3, true, 1 << 20)]
    [InlineData(4, 4, 3, false, 1 << 20)]
    [InlineData(4, 2, 3, true, 8 << 20)]
    [InlineData(4, 4, 3, true, 8 << 20)]
    [InlineData(4, 2, 3, true, 5000)]
    public void SizesAboveTheLookupTableGetTheirClass(int lgQuantum, int lgGroup, int lgTinyMin, bool threadCache, long threadCacheMax)
    {
        // Above the lookup table the arena computes the class itself, and the cache hit reads it from
        // a table of the cached classes; around every class boundary up to twice the cache limit (and
        // at least 2 MiB) both must agree with the size-class table. The second round of each size is
        // a cache hit: a wrong class there pops a block of the previous size's class.
        using var arena = NewArena(new ArenaOptions { LgQuantum = lgQuantum, LgGroup = lgGroup, LgTinyMin = lgTinyMin, ThreadCache = threadCache, ThreadCacheMax = threadCacheMax });
        var classes = new Allocator.Sizing.SizeClasses(lgQuantum, 12, lgGroup, lgTinyMin);
        ulong limit = Math.Max(2UL << 20, 2 * (ulong)threadCacheMax);
        for (int i = 0; i < classes.Count && classes.IndexToSize(i) <= limit; i++)
        {
            ulong c = classes.IndexToSize(i);
            if (c <= classes.LookupMaxClass) continue;
            foreach (ulong size in new[] { c - 1, c, c + 1 })
            {
                for (int round = 0; round < 2; round++)
                {
                    void* p = arena.Allocate((nuint)size);
                    Assert.Equal(classes.RoundUp(size), (ulong)arena.UsableSize(p));
                    arena.FreeSized(p, (nuint)size);
                }
            }
        }

        arena.Validate();
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void EverySmallClassOfAWideGroupFillsThreeSlabsWithoutOverlap(int lgGroup, bool threadCache)
    {
        // Eight or sixteen classes per doubling: twice or four times the bins, slabs of up to 31
        // pages. Three slabs' worth of every small
        // class, each block filled with its own byte, then checked, freed and validated.
        using var arena = NewArena(new ArenaOptions { LgGroup = lgGroup, ThreadCache = threadCache });
        var classes = new Allocator.Sizing.SizeClasses(4, 12, lgGroup);
        var live = new List<(nint P, ulong Size, byte Fill)>();
        for (int i = 0; i < classes.BinCount; i++)
        {
            ulong size = classes.IndexToSize(i);
            int count = 3 * classes.GetBin(i).RegionsPerSlab;
            for (int k = 0; k < count; k++)
            {
                byte* p = (byte*)arena.Allocate((nuint)size);
                Assert.Equal(size, (ulong)arena.UsableSize(p));
                byte fill = (byte)(live.Count * 31 + 1);
                new Span<byte>(p, (int)size).Fill(fill);
                live.Add(((nint)p, size, fill));
            }
        }

        arena.Validate();
        foreach (var (p, size, fill) in live)
        {
            Assert.True(new ReadOnlySpan<byte>((void*)p, (int)size).IndexOfAnyExcept(fill) < 0, "blocks overlap");
            arena.Free((void*)p);
        }

        arena.Validate();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_size_index_above_a_byte_survives_the_extent_map_and_the_metadata(bool threadCache)
    {
        // Sixteen classes per doubling: index 256, the first a byte cannot hold, is the 8 MiB class.
        // The arena reads a block's class back from its rtree leaf and its edata.
        using var arena = NewArena(new ArenaOptions { LgGroup = 4, ThreadCache = threadCache });
        var classes = new Allocator.Sizing.SizeClasses(4, 12, 4);
        for (int index = 255; index <= 258; index++)
        {
            ulong size = classes.IndexToSize(index);
            byte* p = (byte*)arena.Allocate((nuint)size - 1);
            Assert.Equal(size, (ulong)arena.UsableSize(p));
            p[0] = 1;
            p[size - 1] = 2;
            arena.Validate();
            arena.FreeSized(p, (nuint)size - 1);
        }

        arena.Validate();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AllocatesEverySizeClassWithItsUsableSizeAndFreesIt(bool threadCache)
    {
        using var arena = NewArena(new ArenaOptions { ThreadCache = threadCache });
        var sizes = new nuint[] { 0, 1, 7, 8, 9, 16, 17, 100, 128, 129, 1000, 4096, 4097, 14336, 14337, 16384, 20000, 32768, 65536, 1 << 20, 3 << 20, 9 << 20 };
        var live = new List<(nint P, nuint Size)>();
        foreach (nuint size in sizes)
        {
            byte* p = (byte*)arena.Allocate(size);
            nuint usable = arena.UsableSize(p);
            Assert.True(usable >= Math.Max(size, 1));
            Assert.Equal(0u, (uint)((nuint)p % 8));
            new Span<byte>(p, (int)usable).Fill((byte)size);
            live.Add(((nint)p, usable));
        }

        arena.Validate();
        foreach (var (p, usable) in live)
        {
            Assert.True(new ReadOnlySpan<byte>((void*)p, (int)usable).IndexOfAnyExcept(new ReadOnlySpan<byte>((void*)p, 1)[0]) < 0, "blocks overlap");
            arena.Free((void*)p);
        }

        arena.Validate();
        // With a thread cache, freed large blocks up to 1 MiB wait in it and still count as allocated.
        long expected = threadCache ? (2 * 16384 + 20480 + 32768 + 65536 + (1 << 20)) : 0; // 14337 and 16384 both round to 16 KiB; 1 MiB is the cache limit
        Assert.Equal(expected, arena.GetStats().AllocatedLarge);
    }

    [Fact]
    public void AllocateZeroedAndAlignedHonorTheirPromises()
    {
        using var arena = NewArena();
        for (int round = 0; round < 3; round++)
        {
            foreach (nuint size in new nuint[] { 24, 3000, 40000 })
            {
                byte* p = (byte*)arena.Allocate(size);
                new Span<byte>(p, (int)size).Fill(0xCC);
                arena.Free(p);
                byte* z = (byte*)arena.AllocateZeroed(size);
                Assert.True(new ReadOnlySpan<byte>(z, (int)size).IndexOfAnyExcept((byte)0) < 0);
                arena.Free(z);
            }
        }

        foreach (nuint alignment in new nuint[] { 8, 16, 64, 256, 4096, 65536, 1 << 21 })
        {
            foreach (nuint size in new nuint[] { 1, 40, 5000, 70000 })
            {
                void* p = arena.AllocateAligned(size, alignment);
                Assert.Equal(0u, (uint)((nuint)p % alignment));
                Assert.True(arena.UsableSize(p) >= size);
                arena.Free(p);
            }
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.AllocateAligned(8, 24); });
        arena.Validate();
    }

    [Fact]
    public void ReallocateGrowsAndShrinksLargeBlocksInPlaceAndMovesOnlyWhenItMust()
    {
        using var arena = NewArena(new ArenaOptions { ThreadCache = false });
        byte* p = (byte*)arena.Allocate(64 << 10);
        new Span<byte>(p, 64 << 10).Fill(7);
        byte* q = (byte*)arena.Reallocate(p, 48 << 10);
        Assert.True(p == q, "shrinking a large block happens in place");
        byte* r = (byte*)arena.Reallocate(q, 64 << 10);
        Assert.True(q == r, "the tail just released is free, so growing back happens in place");
        Assert.True(new ReadOnlySpan<byte>(r, 48 << 10).IndexOfAnyExcept((byte)7) < 0);

        byte* s = (byte*)arena.Allocate(100);
        new Span<byte>(s, 100).Fill(9);
        byte* t = (byte*)arena.Reallocate(s, 5000);
        Assert.True(new ReadOnlySpan<byte>(t, 100).IndexOfAnyExcept((byte)9) < 0);
        Assert.True(arena.Reallocate(t, 4500) == t, "same size class: nothing to do");
        arena.Free(r);
        arena.Free(t);
        Assert.True(arena.Reallocate(null, 10) != null);
        arena.Validate();
    }

    [Fact]
    public void BadFreesThrowNamingTheAddressAndChangeNothing()
    {
        using var arena = NewArena(new ArenaOptions { ThreadCache = false });
        arena.Free(null);
        byte* foreign = (byte*)NativeMemory.Alloc(64);
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => arena.Free(foreign));
            Assert.Contains($"0x{(nuint)foreign:x}", ex.Message);
        }
        finally
        {
            NativeMemory.Free(foreign);
        }

        byte* small = (byte*)arena.Allocate(48);
        Assert.Throws<InvalidOperationException>(() => arena.Free(small + 8));
        byte* large = (byte*)arena.Allocate(100_000);
        Assert.Throws<InvalidOperationException>(() => arena.Free(large + 4096));
        Assert.Throws<InvalidOperationException>(() => arena.UsableSize(large + 1));

        using (var other = NewArena())
        {
            void* theirs = other.Allocate(48);
            Assert.Throws<InvalidOperationException>(() => arena.Free(theirs));
            other.Free(theirs);
        }

        arena.Validate();
        arena.Free(small);
        arena.Free(large);
        // Without a thread cache, both double frees are caught at once.
        Assert.Contains("already freed", Assert.Throws<InvalidOperationException>(() => arena.Free(small)).Message);
        // The freed large extent may have merged into a larger free one; either way it is refused by address.
        Assert.Contains($"0x{(nuint)large:x}", Assert.Throws<InvalidOperationException>(() => arena.Free(large)).Message);
        arena.Validate();
    }

    [Fact]
    public void BadFreesThrowBeforeTheThreadCacheTakesThem()
    {
        // With a cache, Free's inlined hit pushes a region without reaching the bins: it must refuse
        // interior, misaligned and other arenas' pointers itself, or the cache would hand them out.
        using var arena = NewArena();
        byte* small = (byte*)arena.Allocate(48);
        var bad = new List<nint> { (nint)(small + 8), (nint)(small + 1), (nint)(small + 47) };
        using (var other = NewArena())
        {
            void* theirs = other.Allocate(48);
            bad.Add((nint)theirs);
            foreach (nint p in bad)
            {
                var ex = Assert.Throws<InvalidOperationException>(() => arena.Free((void*)p));
                Assert.Contains($"0x{(nuint)p:x}", ex.Message);
            }

            other.Free(theirs);
        }

        var taken = Enumerable.Range(0, 64).Select(_ => (nint)arena.Allocate(48)).ToList();
        Assert.Empty(taken.Intersect(bad));
        foreach (nint p in taken) arena.Free((void*)p);
        arena.Free(small);
        arena.Validate();
    }

    [Fact]
    public void ADoubleFreeIsCaughtAtOnceWithDebugChecksAndAtTheLatestWhenTheCacheFlushes()
    {
        using (var debug = NewArena(new ArenaOptions { DebugChecks = true }))
        {
            void* p = debug.Allocate(32);
            void* keep = debug.Allocate(32);
            debug.Free(p);
            Assert.Contains("freed twice", Assert.Throws<InvalidOperationException>(() => debug.Free(p)).Message);
            debug.Free(keep);
            debug.Validate();
        }

        using var arena = NewArena();
        void* q = arena.Allocate(32);
        arena.Free(q);
        arena.Free(q);
        // Push enough frees through the cache that it flushes the duplicated region to its slab.
        var others = Enumerable.Range(0, 1000).Select(_ => (nint)arena.Allocate(32)).ToList();
        var ex = Record.Exception(() =>
        {
            foreach (nint o in others) arena.Free((void*)o);
        });
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Contains("freed twice", ex!.Message);
    }

    [Theory]
    [InlineData(20 << 10)]
    [InlineData(64 << 10)]
    [InlineData(1 << 20)]
    public void ALargeBlockFreedTwiceWhileCachedIsCaughtAtOnceAndItsMarkGoesWithIt(int size)
    {
        // The thread cache holds large blocks by address; a byte of the edata says the block is
        // cached. It must catch the second free, and be clear again whenever the block leaves the
        // cache: handed out again, or flushed to the page allocator when the class's bin is full.
        using var arena = NewArena();
        void* p = arena.Allocate((nuint)size);
        arena.Free(p);
        var ex = Assert.Throws<InvalidOperationException>(() => arena.Free(p));
        Assert.Contains($"0x{(nuint)p:x}", ex.Message);
        Assert.Contains("freed twice", ex.Message);

        void* again = arena.Allocate((nuint)size);
        Assert.True(again == p, "the cached block is handed out again");
        ((byte*)again)[size - 1] = 1;
        arena.Free(again);

        for (int round = 0; round < 2; round++)
        {
            var blocks = Enumerable.Range(0, 48).Select(_ => (nint)arena.Allocate((nuint)size)).ToList();
            foreach (nint b in blocks) arena.Free((void*)b);
            arena.Validate();
        }

        arena.Purge();
        var after = Enumerable.Range(0, 48).Select(_ => (nint)arena.Allocate((nuint)size)).ToList();
        foreach (nint b in after) arena.Free((void*)b);
        arena.Validate();
    }

    [Fact]
    public void SizesThatOverflowThrowBeforeAnythingChanges()
    {
        using var arena = NewArena();
        var before = arena.GetStats();
        Assert.Contains("largest size class", Assert.Throws<ArgumentOutOfRangeException>(() => { arena.Allocate(nuint.MaxValue); }).Message);
        Assert.True(arena.TryAllocate(nuint.MaxValue) == null);
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.AllocateArray<long>(-1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.Allocate(arena.MaxSize + 1); });
        Assert.Equal(before.Pages.Active, arena.GetStats().Pages.Active);
        void* p = arena.Allocate(8);
        Assert.Throws<ArgumentOutOfRangeException>(() => { arena.Reallocate(p, arena.MaxSize + 1); });
        Assert.Equal(8u, (uint)arena.UsableSize(p));
        arena.Validate();
    }

    [Fact]
    public void AllocateArrayRentAndMemoryPoolHandOutArenaMemory()
    {
        using var arena = NewArena();
        Span<int> ints = arena.AllocateArray<int>(1000);
        for (int i = 0; i < ints.Length; i++) ints[i] = i;
        Assert.Equal(999, ints[999]);
        arena.FreeArray(ints);

        using (IMemoryOwner<byte> owner = arena.Rent(300))
        {
            owner.Memory.Span.Fill(1);
            using MemoryHandle h = owner.Memory.Pin();
            Assert.Equal(arena.UsableSize(h.Pointer), (nuint)owner.Memory.Length);
            Assert.True(owner.Memory.Length >= 300);
        }

        using MemoryPool<byte> pool = arena.AsMemoryPool();
        using IMemoryOwner<byte> rented = pool.Rent(5000);
        Assert.True(rented.Memory.Length >= 5000);
        Assert.Equal(1, arena.GetStats().Bins.Count(b => b.CurrentRegions > 0) + arena.GetStats().LargeClasses.Count(l => l.Current > 0) >= 1 ? 1 : 0);
        arena.Validate();
    }

    [Fact]
    public void TheThreadCachePathAllocatesNothingOnTheGcHeap()
    {
        using var arena = NewArena();
        void** ptrs = stackalloc void*[64];
        for (int warm = 0; warm < 3; warm++)
        {
            for (int i = 0; i < 64; i++) ptrs[i] = arena.Allocate((nuint)(16 + i * 8));
            for (int i = 0; i < 64; i++) arena.Free(ptrs[i]);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 10_000; round++)
        {
            for (int i = 0; i < 64; i++) ptrs[i] = arena.Allocate((nuint)(16 + i * 8));
            for (int i = 0; i < 64; i++) arena.FreeSized(ptrs[i], (nuint)(16 + i * 8));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ResetFreesEverythingAndKeepsTheMappingsForReuse()
    {
        using var arena = NewArena(new ArenaOptions { DirtyDecayMs = -1, MuzzyDecayMs = -1 });
        var blocks = Enumerable.Range(0, 3000).Select(i => (nint)arena.Allocate((nuint)(8 + i % 200 * 40))).ToList();
        blocks.Add((nint)arena.Allocate(1 << 20));
        long mappedBefore = arena.GetStats().Pages.PaMapped;
        arena.Reset();
        ArenaStats after = arena.GetStats();
        Assert.Equal(0, after.Allocated);
        Assert.Equal(0, after.Active);
        Assert.Equal(mappedBefore, after.Pages.PaMapped);
        Assert.Throws<InvalidOperationException>(() => arena.UsableSize((void*)blocks[^1]));
        arena.Validate();

        // Reused from this arena's own caches: nothing new is mapped (watched on this arena, since the
        // process-wide map counter also counts other tests running in parallel).
        long retained = arena.GetStats().Retained;
        for (int i = 0; i < 1000; i++) arena.Allocate((nuint)(8 + i % 200 * 40));
        Assert.Equal(mappedBefore, arena.GetStats().Pages.PaMapped);
        Assert.Equal(retained, arena.GetStats().Retained);
        arena.Validate();
    }

    [Fact]
    public void DisposedArenasGiveTheirIndexBackAndRefuseUse()
    {
        var a = NewArena();
        uint index = a.Index;
        a.Allocate(100);
        a.Dispose();
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { a.Allocate(100); });
        using var b = NewArena();
        Assert.Equal(index, b.Index);
        void* p = b.Allocate(100);
        b.Free(p);
        b.Validate();
    }

    [Fact]
    public void ADeadThreadsCacheIsFlushedBackToTheBins()
    {
        using var arena = NewArena();
        long heldByTheCache = 0;
        var t = new Thread(() =>
        {
            var ps = Enumerable.Range(0, 50).Select(_ => (nint)arena.Allocate(64)).ToList();
            foreach (nint p in ps) arena.Free((void*)p);
            // Read while the thread lives: once it is gone, any GC may already have flushed its cache.
            heldByTheCache = arena.GetStats().Bins.Single(b => b.RegionSize == 64).CurrentRegions;
        });
        t.Start();
        t.Join();
        Assert.True(heldByTheCache > 0, "the thread's cache held its freed regions");
        for (int i = 0; i < 20 && arena.GetStats().Bins.Single(b => b.RegionSize == 64).CurrentRegions != 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.Equal(0, arena.GetStats().Bins.Single(b => b.RegionSize == 64).CurrentRegions);
        arena.Validate();
    }

    [Fact]
    public void WhatACacheStopsUsingIsTrimmedBackAndPurgeFlushesTheCallersCache()
    {
        using var arena = NewArena(new ArenaOptions { DirtyDecayMs = -1, MuzzyDecayMs = -1 });
        var ps = Enumerable.Range(0, 100).Select(_ => (nint)arena.Allocate(64)).ToList();
        foreach (nint p in ps) arena.Free((void*)p);
        long Cached() => arena.GetStats().Bins.Single(b => b.RegionSize == 64).CurrentRegions;
        long before = Cached();
        Assert.True(before >= 100, "freed regions wait in the thread cache");

        // Slow-path traffic elsewhere (uncached large blocks) visits every cache bin in turn.
        for (int i = 0; i < 10_000 && Cached() == before; i++) arena.Free(arena.Allocate(2 << 20));
        Assert.True(Cached() < before / 2, "the idle 64-byte cache was trimmed");

        ps = Enumerable.Range(0, 100).Select(_ => (nint)arena.Allocate(64)).ToList();
        foreach (nint p in ps) arena.Free((void*)p);
        arena.Purge();
        Assert.Equal(0, Cached());
        Assert.Equal(0, arena.GetStats().Dirty);
        arena.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1024)]
    [InlineData(4096)]
    public void AThreadCacheLimitBelowTheLookupTableNeverIndexesPastTheCachedClasses(long limit)
    {
        using var arena = NewArena(new ArenaOptions { ThreadCacheMax = limit });
        var ps = Enumerable.Range(0, 190).Select(_ => (nint)arena.Allocate(8)).ToList();
        foreach (nint p in ps)
        {
            *(long*)p = 0x1111;
            arena.FreeSized((void*)p, 8);
        }

        for (int i = 0; i < 50; i++)
        {
            byte* q = (byte*)arena.Allocate(2000);
            Assert.NotEqual(0x1111, (long)q);
            Assert.True(arena.UsableSize(q) >= 2000);
            arena.FreeSized(q, 2000);
        }

        arena.Validate();
    }

    [Theory]
    [InlineData(4, 3)]
    [InlineData(4, 4)]
    [InlineData(5, 5)]
    [InlineData(3, 3)]
    public void EveryLookupSizeMapsToItsClassWhateverTheTinyMinimum(int lgQuantum, int lgTinyMin)
    {
        using var arena = NewArena(new ArenaOptions { LgQuantum = lgQuantum, LgTinyMin = lgTinyMin });
        var classes = new Allocator.Sizing.SizeClasses(lgQuantum, 12, 2, lgTinyMin);
        var held = new List<nint>();
        for (nuint size = 1; size <= 5000; size += (size < 600 ? 1u : 37u))
        {
            void* p = arena.Allocate(size);
            Assert.Equal((nuint)classes.RoundUp(size), arena.UsableSize(p));
            held.Add((nint)p);
        }

        foreach (nint p in held) arena.Free((void*)p);
        arena.Validate();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AThreadHandleServesFromTheCacheAndFallsBackAfterResetAndDispose(bool threadCache)
    {
        var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions { ThreadCache = threadCache, TimeProvider = new FakeTimeProvider() });
        var handle = arena.GetThreadHandle();
        void** ps = stackalloc void*[32];
        for (int warm = 0; warm < 3; warm++)
        {
            for (int i = 0; i < 32; i++) ps[i] = handle.Allocate((nuint)(8 + i * 16));
            for (int i = 0; i < 32; i++) handle.FreeSized(ps[i], (nuint)(8 + i * 16));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 1000; round++)
        {
            for (int i = 0; i < 32; i++)
            {
                ps[i] = handle.Allocate((nuint)(8 + i * 16));
                *(byte*)ps[i] = (byte)i;
            }

            for (int i = 0; i < 32; i++) handle.FreeSized(ps[i], (nuint)(8 + i * 16));
        }

        if (threadCache) Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        arena.Validate();

        // After a reset the old handle takes the ordinary paths, which stay correct.
        void* kept = handle.Allocate(100);
        arena.Reset();
        void* again = handle.Allocate(100);
        Assert.True(arena.UsableSize(again) >= 100);
        handle.FreeSized(again, 100);
        arena.Validate();

        arena.Dispose();
        Exception? thrown = null;
        try
        {
            handle.Allocate(100);
        }
        catch (ObjectDisposedException ex)
        {
            thrown = ex;
        }

        Assert.NotNull(thrown);
        _ = kept;
    }

    [Fact]
    public void StatsRelationsHoldAndTheTextReportNamesTheFigures()
    {
        using var arena = NewArena();
        var ps = Enumerable.Range(0, 500).Select(i => (nint)arena.Allocate((nuint)(10 + i * 37))).ToList();
        ArenaStats s = arena.GetStats();
        Assert.True(s.Allocated <= s.Active);
        Assert.True(s.Active < s.Resident);
        Assert.True(s.Active < s.Mapped);
        Assert.Equal(s.Pages.PaMapped + s.Pages.BaseMapped, s.Mapped);
        string text = s.ToString();
        Assert.Contains("allocated:", text);
        Assert.Contains("mapped:", text);
        Assert.Contains("bins:", text);
        foreach (nint p in ps) arena.Free((void*)p);
        arena.Purge();
        ArenaStats after = arena.GetStats();
        Assert.True(after.Pages.DirtyPurges > 0);
        Assert.Equal(0, after.Dirty);
        arena.Validate();
    }

    [Fact]
    public void BadOptionsAreRejectedNamingTheSetting()
    {
        Assert.Equal("DirtyDecayMs", Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { DirtyDecayMs = -2 })).ParamName);
        Assert.Equal("GuardSmallEvery", Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { GuardSmallEvery = -1 })).ParamName);
        Assert.Equal("LgQuantum", Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { LgQuantum = 12 })).ParamName);
        Assert.Equal("LgPage", Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { LgPage = 16 })).ParamName);
        Assert.Equal("OversizeThreshold", Assert.Throws<ArgumentOutOfRangeException>(() => Arena.Create(new ArenaOptions { OversizeThreshold = 5 })).ParamName);
    }
}

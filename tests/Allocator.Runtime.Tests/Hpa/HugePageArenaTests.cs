using System;
using System.Collections.Generic;
using System.IO;
using Allocator.Hooks;
using Allocator.Hpa;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Hpa;

/// <summary>Arenas with the hugepage allocator on: routing as jemalloc's pa.c, stats, and real huge pages on this machine.</summary>
/// <remarks>
/// In the process-wide collection: one test reads /proc/self/maps after Dispose, and a mapping made
/// meanwhile by a test running beside it can land on a freed pageslab's address.
/// </remarks>
[Collection(ProcessWideCollection.Name)]
public sealed unsafe class HugePageArenaTests
{
    private static readonly nuint Page = Allocator.Os.Pages.PageSize;

    private static Arena<RuntimeArenaPolicy> Create(HugePageMode mode, IExtentHooks? hooks = null) =>
        new(new ArenaOptions { HugePages = mode, Hooks = hooks, ThreadCache = false, TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider() });

    private static Edata* ExtentOf(Arena<RuntimeArenaPolicy> arena, void* p)
    {
        Assert.True(arena.PageAllocator.Context.Map.TryLookup(p, out RtreeContents c));
        return c.Edata;
    }

    [Fact]
    public void Small_requests_go_to_the_hugepage_allocator_and_the_rest_to_the_classic_one()
    {
        if (!OperatingSystem.IsLinux()) return;
        using Arena<RuntimeArenaPolicy> arena = Create(HugePageMode.Lazy);
        Assert.True(arena.PageAllocator.UsesHugePageAllocator);
        void* small = arena.Allocate(100);
        void* large = arena.Allocate(40 << 10);
        void* tooLarge = arena.Allocate(256 << 10);
        void* aligned = arena.AllocateAligned(40 << 10, 4 * Page);
        void* zeroed = arena.AllocateZeroed(40 << 10);
        Assert.True(ExtentOf(arena, small)->IsHugePageAllocated, "a slab");
        Assert.True(ExtentOf(arena, large)->IsHugePageAllocated, "40 KiB is below the slab maximum");
        Assert.False(ExtentOf(arena, tooLarge)->IsHugePageAllocated, "above the slab maximum");
        Assert.False(ExtentOf(arena, aligned)->IsHugePageAllocated, "aligned above a page");
        Assert.False(ExtentOf(arena, zeroed)->IsHugePageAllocated, "zeroed");
        for (int i = 0; i < 40 << 10; i++) Assert.Equal(0, ((byte*)zeroed)[i]);
        arena.Validate();

        PageAllocatorStats s = arena.GetStats().Pages;
        Assert.True(s.Pageslabs >= 1);
        Assert.True(s.HpaActive >= 40 << 10);
        Assert.Equal(s.Pageslabs * (2L << 20), s.HpaMapped);

        // Resizing a hugepage extent in place fails: the block moves and keeps its contents.
        Edata* big = ExtentOf(arena, large);
        Assert.False(arena.PageAllocator.Expand(big, big->Size, big->Size + Page, big->SizeIndex + 1, zero: false));
        Assert.False(arena.PageAllocator.Shrink(big, big->Size, big->Size - Page, big->SizeIndex - 1));
        Assert.True(ExtentOf(arena, large) == big && big->Size == 40 << 10);
        for (int i = 0; i < 40 << 10; i++) ((byte*)large)[i] = (byte)i;
        void* moved = arena.Reallocate(large, 48 << 10);
        Assert.True(moved != large);
        for (int i = 0; i < 40 << 10; i++) Assert.Equal((byte)i, ((byte*)moved)[i]);

        foreach (nint p in new[] { (nint)small, (nint)moved, (nint)tooLarge, (nint)aligned, (nint)zeroed }) arena.Free((void*)p);
        arena.Validate();
    }

    [Fact]
    public void Off_and_custom_hooks_keep_everything_classic()
    {
        using Arena<RuntimeArenaPolicy> off = Create(HugePageMode.Off);
        Assert.False(off.PageAllocator.UsesHugePageAllocator);
        void* p = off.Allocate(100);
        Assert.False(ExtentOf(off, p)->IsHugePageAllocated);
        off.Free(p);
        Assert.Equal(0, off.GetStats().Pages.Pageslabs);

        using Arena<RuntimeArenaPolicy> hooked = Create(HugePageMode.Eager, new TestExtentHooks(retain: true));
        Assert.False(hooked.PageAllocator.UsesHugePageAllocator);
        void* q = hooked.Allocate(100);
        Assert.False(ExtentOf(hooked, q)->IsHugePageAllocated);
        hooked.Free(q);
    }

    [Fact]
    public void Many_blocks_of_both_backends_stay_valid_through_reset()
    {
        if (!OperatingSystem.IsLinux()) return;
        using Arena<RuntimeArenaPolicy> arena = Create(HugePageMode.Lazy);
        var random = new Random(7);
        var live = new List<nint>();
        for (int i = 0; i < 20_000; i++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                int k = random.Next(live.Count);
                arena.Free((void*)live[k]);
                live[k] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
            else
            {
                nuint size = (nuint)random.Next(1, 1 << random.Next(4, 18));
                byte* p = (byte*)arena.Allocate(size);
                p[0] = 1;
                p[size - 1] = 2;
                live.Add((nint)p);
            }
        }

        arena.Validate();
        arena.Purge();
        arena.Validate();
        Assert.Equal(0, arena.GetStats().Pages.HpaDirty);
        arena.Reset();
        arena.Validate();
    }

    [Fact]
    public void Threads_allocating_and_freeing_leave_the_pageslabs_consistent()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions { HugePages = HugePageMode.Lazy, TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider() });
        var threads = new System.Threading.Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int seed = t;
            threads[t] = new System.Threading.Thread(() =>
            {
                var random = new Random(seed);
                var live = new List<nint>();
                for (int i = 0; i < 20_000; i++)
                {
                    if (live.Count > 200 || (live.Count > 0 && random.Next(2) == 0))
                    {
                        int k = random.Next(live.Count);
                        byte* q = (byte*)live[k];
                        if (q[0] != (byte)seed) throw new InvalidOperationException("a block was overwritten by another thread's");
                        arena.Free(q);
                        live[k] = live[^1];
                        live.RemoveAt(live.Count - 1);
                    }
                    else
                    {
                        byte* p = (byte*)arena.Allocate((nuint)random.Next(1, 48 << 10));
                        p[0] = (byte)seed;
                        live.Add((nint)p);
                    }
                }

                foreach (nint p in live) arena.Free((void*)p);
            });
            threads[t].Start();
        }

        foreach (System.Threading.Thread t in threads) t.Join();
        arena.Validate();
        Assert.True(arena.GetStats().Pages.Pageslabs >= 1);
    }

    [Fact]
    public void An_eager_arena_is_backed_by_huge_pages_and_an_off_one_is_not()
    {
        if (!OperatingSystem.IsLinux() || !Thp.Available) return;
        const int bytes = 32 << 20;
        using Arena<RuntimeArenaPolicy> eager = Create(HugePageMode.Eager);
        using Arena<RuntimeArenaPolicy> off = Create(HugePageMode.Off);
        var blocks = new List<nint>();
        foreach (Arena<RuntimeArenaPolicy> arena in new[] { eager, off })
        {
            for (int written = 0; written < bytes; written += 4096)
            {
                byte* p = (byte*)arena.Allocate(4096);
                new Span<byte>(p, 4096).Fill(1);
                blocks.Add((nint)p);
            }
        }

        PageAllocatorStats e = eager.GetStats().Pages;
        Assert.True(e.HugePageslabs >= 1);
        Assert.True(e.AnonHugePages > 0, $"no AnonHugePages in {e.Pageslabs} eager pageslabs");

        var offRanges = new List<(nuint, nuint)>();
        foreach (AddressSpaceRegion r in off.GetAddressSpace()) offRanges.Add((r.Start, r.Size));
        Assert.Equal(0, AnonHugePages.Measure(offRanges));
        Assert.Equal(0, off.GetStats().Pages.AnonHugePages);

        List<nuint> slabs = eager.PageAllocator.HugePageShard!.SlabAddresses();
        Assert.NotEmpty(slabs);
        foreach (nint p in blocks)
        {
            if (ExtentOf(eager, (void*)p) != null && ExtentOf(eager, (void*)p)->IsHugePageAllocated) eager.Free((void*)p);
        }

        eager.Dispose();
        foreach (nuint slab in slabs)
        {
            MapsRegion? region = ProcMaps.FindRegion((void*)slab);
            Assert.True(region is null, $"the pageslab at 0x{slab:x} is still mapped after Dispose");
        }
    }

    [Fact]
    public void Only_an_eager_arena_puts_its_grown_metadata_on_huge_pages()
    {
        if (!OperatingSystem.IsLinux() || !Thp.Available) return;
        foreach (HugePageMode mode in new[] { HugePageMode.Eager, HugePageMode.Lazy, HugePageMode.Off })
        {
            using Arena<RuntimeArenaPolicy> arena = Create(mode);
            Assert.Equal(mode == HugePageMode.Eager, arena.PageAllocator.Base.HugePageBlocks);
            // One-page slabs, each with its own edata: enough metadata for several base blocks.
            var blocks = new List<nint>();
            for (int i = 0; i < 8_000; i++) blocks.Add((nint)arena.Allocate(4096));
            Assert.True(arena.PageAllocator.Base.BlockCount > Base.SmallBlocksBeforeHuge, $"{mode}: {arena.PageAllocator.Base.BlockCount} blocks");
            Assert.Equal(mode == HugePageMode.Eager, arena.PageAllocator.Base.HugeBlockCount > 0);
            foreach (nint p in blocks) arena.Free((void*)p);
            arena.Validate();
        }

        using Arena<RuntimeArenaPolicy> hooked = Create(HugePageMode.Eager, new TestExtentHooks(retain: true));
        Assert.False(hooked.PageAllocator.Base.HugePageBlocks);
    }

    [Fact]
    public void Smaps_figures_count_only_the_overlap()
    {
        string[] smaps =
        [
            "7f0000000000-7f0000800000 rw-p 00000000 00:00 0",
            "Size:               8192 kB",
            "AnonHugePages:      8192 kB",
            "7f0001000000-7f0001200000 rw-p 00000000 00:00 0",
            "AnonHugePages:         0 kB",
        ];
        var ranges = new List<(nuint, nuint)> { (unchecked((nuint)0x7f0000000000UL), 2 << 20), (unchecked((nuint)0x7f0000400000UL), 2 << 20) };
        Assert.Equal(4L << 20, AnonHugePages.Sum(smaps, ranges));
        Assert.Equal(0, AnonHugePages.Sum(smaps, new List<(nuint, nuint)> { (unchecked((nuint)0x7f0001000000UL), 2 << 20) }));
    }

    [Fact]
    public void Bad_hugepage_settings_are_refused_naming_the_setting()
    {
        var lazy = new ArenaOptions { HugePages = HugePageMode.Lazy };
        Assert.Equal("HugifyDelayMs", Assert.Throws<ArgumentOutOfRangeException>((lazy with { HugifyDelayMs = -1 }).Validate).ParamName);
        Assert.Equal("HugePages", Assert.Throws<ArgumentOutOfRangeException>(new ArenaOptions { HugePages = (HugePageMode)7 }.Validate).ParamName);
        Assert.Equal("HugificationThreshold", Assert.Throws<ArgumentOutOfRangeException>((lazy with { HugificationThreshold = 0 }).Validate).ParamName);
        Assert.Equal("HugificationThreshold", Assert.Throws<ArgumentOutOfRangeException>((lazy with { HugificationThreshold = double.NaN }).Validate).ParamName);
        Assert.Equal("HugePageDirtyMult", Assert.Throws<ArgumentOutOfRangeException>((lazy with { HugePageDirtyMult = -0.5 }).Validate).ParamName);
        Assert.Equal("HugePageMinPurgeIntervalMs", Assert.Throws<ArgumentOutOfRangeException>((lazy with { HugePageMinPurgeIntervalMs = -1 }).Validate).ParamName);
        (lazy with { HugePageDirtyMult = -1, HugificationThreshold = 1, HugifyDelayMs = 0, HugePageMinPurgeIntervalMs = 0 }).Validate();
    }

    [Fact]
    public void The_hugepage_knobs_reach_the_shard()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var arena = new Arena<RuntimeArenaPolicy>(new ArenaOptions
        {
            HugePages = HugePageMode.Lazy, HugifyDelayMs = 1_234, HugificationThreshold = 0.5, HugePageDirtyMult = -1, HugePageMinPurgeIntervalMs = 77,
        });
        HpaShardOptions o = arena.PageAllocator.HugePageShard!.Options;
        Assert.False(o.Eager);
        Assert.Equal(1_234, o.HugifyDelayMs);
        Assert.Equal(HugePage.Size / 2, o.HugificationThreshold);
        Assert.Equal(-1, o.DirtyMult);
        Assert.Equal(77, o.MinPurgeIntervalMs);

        using var defaults = new Arena<RuntimeArenaPolicy>(new ArenaOptions { HugePages = HugePageMode.Eager });
        Assert.Equal(new HpaShardOptions { Eager = true }, defaults.PageAllocator.HugePageShard!.Options with { DeferralAllowed = false });
    }
}

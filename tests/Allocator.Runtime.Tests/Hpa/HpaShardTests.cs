using System;
using System.Collections.Generic;
using Allocator.Hpa;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator.Tests.Hpa;

/// <summary>The hugepage shard's assertions from jemalloc's hpa unit test (5.3 and the later fixes), on fake hooks and a fake clock.</summary>
public sealed unsafe class HpaShardTests
{
    private static readonly nuint Page = HpaShardFixture.Page;
    private static readonly int N = HugePage.Pages;

    [Fact]
    public void The_slab_maximum_is_served_and_a_page_more_is_refused()
    {
        using var f = new HpaShardFixture();
        nuint max = HpaShardFixture.TestOptions.SlabMaxAlloc;
        Edata* e = f.Shard.Alloc(max, Page, zero: false);
        Assert.True(e != null);
        Assert.True(f.Shard.Alloc(max + Page, Page, zero: false) == null);
        Assert.True(f.Shard.Alloc(Page, 2 * Page, zero: false) == null, "alignment above a page is refused");
        Assert.True(f.Shard.Alloc(Page, Page, zero: true) == null, "zeroed memory is refused");
        f.Shard.Free(e);
    }

    [Fact]
    public void An_extent_looks_as_jemalloc_inits_it()
    {
        using var f = new HpaShardFixture();
        Edata* e = f.Shard.Alloc(3 * Page, Page, zero: false);
        Assert.Equal(7u, e->ArenaIndex);
        Assert.Equal(3 * Page, e->Size);
        Assert.True(e->IsHugePageAllocated && e->IsCommitted);
        Assert.False(e->IsSlab || e->IsZeroed || e->IsHead);
        Assert.Equal(ExtentState.Active, e->State);
        Assert.Equal(0, (long)((nuint)e->Base % HugePage.Size));
        Assert.True(f.Map.IsMapped(e));
        void* start = e->Base;
        f.Shard.Free(e);
        Assert.True(!f.Map.TryLookup(start, out RtreeContents c) || c.Edata == null, "a freed extent stays in the map");
    }

    [Fact]
    public void Stress_never_fails_and_never_overlaps()
    {
        using var f = new HpaShardFixture();
        var random = new Random(12345);
        var live = new List<nint>();
        var owner = new Dictionary<nuint, nint>();
        const int ops = 100_000, maxLive = 500, maxPages = 128;
        for (int op = 0; op < ops; op++)
        {
            bool alloc = live.Count == 0 || (live.Count < maxLive && random.Next(2) == 0);
            if (alloc)
            {
                nuint size = (nuint)random.Next(1, maxPages + 1) * Page;
                Edata* e = f.Shard.Alloc(size, Page, zero: false);
                Assert.True(e != null, $"allocation {op} of {size} bytes failed");
                for (nuint p = (nuint)e->Base; p < (nuint)e->Past; p += Page) Assert.True(owner.TryAdd(p, (nint)e), $"page 0x{p:x} handed out twice");
                *(long*)e->Base = op;
                live.Add((nint)e);
            }
            else
            {
                int i = random.Next(live.Count);
                var e = (Edata*)live[i];
                live[i] = live[^1];
                live.RemoveAt(live.Count - 1);
                for (nuint p = (nuint)e->Base; p < (nuint)e->Past; p += Page) owner.Remove(p);
                f.Shard.Free(e);
            }
        }

        long pages = 0;
        foreach (nint e in live) pages += (long)(((Edata*)e)->Size / Page);
        Assert.Equal(pages, owner.Count);
        f.Shard.Validate(pages);
        foreach (nint e in live) f.Shard.Free((Edata*)e);
        f.Shard.Validate(0);
    }

    [Fact]
    public void Singles_and_a_batch_are_contiguous_and_reused_in_place()
    {
        using var f = new HpaShardFixture();
        Edata** all = stackalloc Edata*[8];
        for (int i = 0; i < 4; i++) all[i] = f.Shard.Alloc(Page, Page, zero: false);
        Assert.Equal(4, f.Shard.AllocBatch(Page, 4, all + 4));
        void* start = all[0]->Base;
        for (int i = 0; i < 8; i++) Assert.Equal((nuint)start + (nuint)i * Page, (nuint)all[i]->Base);

        for (int i = 0; i < 3; i++) all[i]->ListNext = all[i + 1];
        all[3]->ListNext = null;
        f.Shard.FreeBatch(all[0]);
        for (int i = 4; i < 8; i++) f.Shard.Free(all[i]);

        Assert.Equal(4, f.Shard.AllocBatch(Page, 4, all));
        for (int i = 4; i < 8; i++) all[i] = f.Shard.Alloc(Page, Page, zero: false);
        for (int i = 0; i < 8; i++) Assert.Equal((nuint)start + (nuint)i * Page, (nuint)all[i]->Base);
        for (int i = 0; i < 8; i++) f.Shard.Free(all[i]);
    }

    [Fact]
    public void Deferred_work_hugifies_after_the_delay_and_purges_before_it()
    {
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { DeferralAllowed = true });
        var e = new nint[N];
        for (int i = 0; i < N; i++) e[i] = (nint)f.Shard.Alloc(Page, Page, zero: false);

        f.Shard.DoDeferredWork();
        Assert.Equal(0, f.Hooks.Hugifies);
        f.Hooks.AdvanceMs(11_000);
        f.Shard.DoDeferredWork();
        Assert.Equal(1, f.Hooks.Hugifies);
        Assert.Equal(1, f.Shard.GetStats().HugePageslabs);

        // 256 dirty against a limit of 256 / 4: dehugify and purge, no hugify.
        for (int i = 0; i < N / 2; i++) f.Shard.Free((Edata*)e[i]);
        f.Shard.DoDeferredWork();
        Assert.Equal(1, f.Hooks.Hugifies);
        Assert.Equal(1, f.Hooks.Dehugifies);
        Assert.Equal(1, f.Hooks.Purges);
        Assert.Equal(0, f.Shard.GetStats().HugePageslabs);

        // Full again, then one page below the threshold: eligibility is sticky, so it hugifies at 22 s.
        for (int i = 0; i < N / 2; i++) e[i] = (nint)f.Shard.Alloc(Page, Page, zero: false);
        f.Shard.Free((Edata*)e[0]);
        f.Hooks.AdvanceMs(11_000);
        f.Shard.DoDeferredWork();
        Assert.Equal(2, f.Hooks.Hugifies);
        Assert.Equal(1, f.Hooks.Dehugifies);
        Assert.Equal(1, f.Hooks.Purges);
        for (int i = 1; i < N; i++) f.Shard.Free((Edata*)e[i]);
    }

    [Fact]
    public void A_blocked_hugify_with_nothing_to_purge_does_not_spin()
    {
        // Dirty limit 0 and a candidate with retained pages: hugification is blocked, yet nothing is dirty.
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { HugificationThreshold = HugePage.Size / 2, DirtyMult = 0 });
        Edata* e = f.Shard.Alloc(HugePage.Size / 4, Page, zero: false);
        Edata* g = f.Shard.Alloc(HugePage.Size / 4, Page, zero: false);
        f.Shard.DoDeferredWork();
        Assert.Equal(0, f.Hooks.Purges);
        Assert.Equal(0, f.Hooks.Hugifies);
        f.Shard.Free(e);
        f.Shard.Free(g);
    }

    [Fact]
    public void Without_a_purge_interval_one_free_purges_once()
    {
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { MinPurgeIntervalMs = 0 });
        f.Shard.Free(f.Shard.Alloc(Page, Page, zero: false));
        Assert.Equal(1, f.Hooks.Purges);
        Assert.Equal(1, f.Shard.GetStats().PurgePasses);
        Assert.Equal(0, f.Shard.GetStats().DirtyPages);
    }

    [Fact]
    public void The_purge_interval_holds_inline_purges_back()
    {
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { MinPurgeIntervalMs = 5_000 });
        f.Shard.Free(f.Shard.Alloc(Page, Page, zero: false));
        Assert.Equal(0, f.Hooks.Purges);
        Assert.True(f.Shard.TimeUntilDeferredWork() is > 0 and <= 5_000_000_000);
        f.Hooks.AdvanceMs(6_000);
        Assert.Equal(0, f.Shard.TimeUntilDeferredWork());
        f.Shard.DoDeferredWork();
        Assert.Equal(1, f.Hooks.Purges);
    }

    [Fact]
    public void Purging_stops_at_the_dirty_limit_then_full_slabs_hugify()
    {
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { MinPurgeIntervalMs = 5_000, DeferralAllowed = true });
        int perSlab = (int)(HugePage.Size / HpaShardFixture.TestOptions.SlabMaxAlloc);
        var e = new nint[8 * perSlab];
        for (int i = 0; i < e.Length; i++) e[i] = (nint)f.Shard.Alloc(HpaShardFixture.TestOptions.SlabMaxAlloc, Page, zero: false);
        Assert.Equal(8, f.Shard.GetStats().Pageslabs);
        for (int i = 0; i < 3 * perSlab; i++) f.Shard.Free((Edata*)e[i]);

        // 5 active slabs allow 5 * 512 / 4 dirty pages: one dirty slab stays, two are purged.
        f.Hooks.AdvanceMs(6_000);
        f.Shard.DoDeferredWork();
        Assert.Equal(2, f.Hooks.Purges);
        Assert.Equal(0, f.Hooks.Hugifies);

        f.Hooks.AdvanceMs(6_000);
        f.Shard.DoDeferredWork();
        Assert.Equal(5, f.Hooks.Hugifies);
        Assert.Equal(2, f.Hooks.Purges);
        for (int i = 3 * perSlab; i < e.Length; i++) f.Shard.Free((Edata*)e[i]);
    }

    [Fact]
    public void An_eager_shard_starts_slabs_huge_and_purges_only_empty_ones()
    {
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { Eager = true });
        Edata* a = f.Shard.Alloc(Page, Page, zero: false);
        Edata* b = f.Shard.Alloc(Page, Page, zero: false);
        Assert.Equal(1, f.Hooks.Hugifies);
        HpaShardStats s = f.Shard.GetStats();
        Assert.Equal(1, s.HugePageslabs);
        Assert.Equal(N, s.TouchedPages);

        // Far over the dirty limit, but purging part of a huge page would split it.
        f.Shard.Free(a);
        Assert.Equal(0, f.Hooks.Purges);
        f.Shard.Free(b);
        Assert.Equal(1, f.Hooks.Purges);
        Assert.Equal((long)HugePage.Size, f.Hooks.PurgedBytes);
        Assert.Equal(0, f.Hooks.Dehugifies);

        // The slab keeps its advice: its next use counts it huge again.
        Edata* c = f.Shard.Alloc(Page, Page, zero: false);
        Assert.Equal(1, f.Shard.GetStats().HugePageslabs);
        f.Shard.Free(c);
    }

    [Fact]
    public void Without_huge_pages_nothing_counts_as_huge()
    {
        using var f = new HpaShardFixture(HpaShardFixture.TestOptions with { DeferralAllowed = true });
        f.Hooks.HugePagesAvailable = false;
        var e = new nint[N];
        for (int i = 0; i < N; i++) e[i] = (nint)f.Shard.Alloc(Page, Page, zero: false);
        f.Hooks.AdvanceMs(11_000);
        f.Shard.DoDeferredWork();
        f.Hooks.AdvanceMs(11_000);
        f.Shard.DoDeferredWork();
        HpaShardStats s = f.Shard.GetStats();
        Assert.Equal(1, f.Hooks.Hugifies);
        Assert.Equal(1, s.HugifyFailures);
        Assert.Equal(0, s.Hugifies);
        Assert.Equal(0, s.HugePageslabs);
        for (int i = 0; i < N; i++) f.Shard.Free((Edata*)e[i]);

        using var eager = new HpaShardFixture(HpaShardFixture.TestOptions with { Eager = true });
        eager.Hooks.HugePagesAvailable = false;
        Edata* x = eager.Shard.Alloc(Page, Page, zero: false);
        Assert.Equal(0, eager.Shard.GetStats().HugePageslabs);
        eager.Shard.Free(x);
    }

    [Fact]
    public void Destroy_unmaps_every_slab_and_refuses_while_pages_are_active()
    {
        var f = new HpaShardFixture();
        var e = new List<nint>();
        for (int i = 0; i < 9; i++) e.Add((nint)f.Shard.Alloc(HpaShardFixture.TestOptions.SlabMaxAlloc, Page, zero: false));
        Assert.Equal(3, f.Shard.GetStats().Pageslabs);
        Assert.Throws<InvalidOperationException>(() => f.Shard.Destroy());
        foreach (nint x in e) f.Shard.Free((Edata*)x);
        f.Dispose();
        Assert.Equal(3 + 1, f.Hooks.Unmaps);
        Assert.Equal(3 * (long)HugePage.Size + (long)(HpaCentral.EdenSize - 3 * HugePage.Size), f.Hooks.UnmappedBytes);
        Assert.Equal(1, f.Hooks.Maps);
    }

    [Fact]
    public void Validate_names_a_count_that_disagrees()
    {
        using var f = new HpaShardFixture();
        Edata* e = f.Shard.Alloc(2 * Page, Page, zero: false);
        f.Shard.Validate(2);
        Assert.Contains("active pages", Assert.Throws<InvalidOperationException>(() => f.Shard.Validate(3)).Message);
        f.Shard.Free(e);
    }
}

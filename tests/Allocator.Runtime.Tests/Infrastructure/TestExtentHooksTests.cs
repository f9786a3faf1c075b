using System;
using System.Threading.Tasks;
using Allocator.Os;

namespace Allocator.Tests.Infrastructure;

/// <summary>The intercepting hooks count, refuse, inject faults and track mappings as documented.</summary>
public unsafe class TestExtentHooksTests
{
    private static readonly nuint Page = Pages.PageSize;

    private static void* Alloc(TestExtentHooks h, nuint size)
    {
        bool zero = false, commit = true;
        return h.Alloc(null, size, Page, ref zero, ref commit, 0);
    }

    [Fact]
    public void Called_counts_every_call_and_Did_only_the_successful_ones()
    {
        var h = new TestExtentHooks(retain: true);
        void* p = Alloc(h, 2 * Page);

        Assert.False(h.Dalloc(p, 2 * Page, true, 0)); // retaining hooks refuse, as jemalloc's opt_retain
        Assert.True(h.Split(p, 2 * Page, Page, Page, true, 0));
        h.Destroy(p, 2 * Page, true, 0);

        Assert.Equal((1, 1), (h.CalledAlloc, h.DidAlloc));
        Assert.Equal((1, 0), (h.CalledDalloc, h.DidDalloc));
        Assert.Equal((1, 1), (h.CalledSplit, h.DidSplit));
        Assert.Equal((1, 1), (h.CalledDestroy, h.DidDestroy));
        Assert.Equal(0, h.Refused(HookKind.Dalloc)); // the inner hook refused, not the harness
        Assert.Equal(4, h.TotalCalls);
        Assert.Equal(0u, h.MappedBytes);
        Assert.Empty(h.Anomalies);
    }

    [Fact]
    public void A_false_Try_switch_refuses_with_the_failure_value_and_leaves_zero_and_commit_alone()
    {
        var h = new TestExtentHooks(retain: false) { TryAlloc = false, TryMerge = false };
        bool zero = false, commit = false;

        Assert.True(h.Alloc(null, Page, Page, ref zero, ref commit, 0) == null);
        Assert.False(zero);
        Assert.False(commit);
        Assert.False(h.Merge((void*)Page, Page, (void*)(2 * Page), Page, true, 0));
        Assert.Equal((1, 0, 1), (h.CalledAlloc, h.DidAlloc, h.Refused(HookKind.Alloc)));
        Assert.Equal((1, 0), (h.CalledMerge, h.DidMerge));

        h.TryAlloc = true;
        void* p = Alloc(h, Page);
        Assert.True(p != null);
        Assert.True(h.Dalloc(p, Page, true, 0));
    }

    [Fact]
    public void FailAt_fails_exactly_the_nth_call_counted_from_when_it_was_set()
    {
        var h = new TestExtentHooks(retain: false);
        void* p = Alloc(h, Page);
        Assert.True(h.PurgeForced(p, Page, 0, Page, 0)); // a call before FailAt does not count toward n

        h.FailAt(HookKind.PurgeForced, 3);
        bool[] results = new bool[5];
        for (int i = 0; i < results.Length; i++) results[i] = h.PurgeForced(p, Page, 0, Page, 0);

        Assert.Equal(new[] { true, true, false, true, true }, results);
        Assert.Equal(6, h.CalledPurgeForced);
        Assert.Equal(5, h.DidPurgeForced);
        Assert.Equal(1, h.Refused(HookKind.PurgeForced));
        Assert.True(h.Dalloc(p, Page, true, 0));
    }

    [Fact]
    public void FailAlways_refuses_every_call_and_ClearFaults_restores_them()
    {
        var h = new TestExtentHooks(retain: false);
        h.FailAlways(HookKind.Split);
        Assert.False(h.TrySplit);
        for (int i = 0; i < 3; i++) Assert.False(h.Split((void*)Page, 2 * Page, Page, Page, true, 0));

        h.ClearFaults();
        Assert.True(h.Split((void*)Page, 2 * Page, Page, Page, true, 0));
        Assert.Equal((4, 1, 3), (h.CalledSplit, h.DidSplit, h.Refused(HookKind.Split)));
    }

    [Fact]
    public void Counting_a_workload_then_failing_each_call_in_turn_fails_each_exactly_once()
    {
        // The systematic fault-injection loop other suites run: count the calls of a clean run, then rerun with each one failing.
        static int Workload(TestExtentHooks h)
        {
            int failures = 0;
            for (int i = 0; i < 4; i++)
            {
                void* p = Alloc(h, Page);
                if (p == null) { failures++; continue; }
                h.Destroy(p, Page, true, 0);
            }

            return failures;
        }

        var counting = new TestExtentHooks(retain: true);
        Assert.Equal(0, Workload(counting));
        long total = counting.CalledAlloc;
        Assert.Equal(4, total);

        for (int n = 1; n <= total; n++)
        {
            var h = new TestExtentHooks(retain: true);
            h.FailAt(HookKind.Alloc, n);
            Assert.Equal(1, Workload(h));
            Assert.Equal(0u, h.MappedBytes);
        }
    }

    [Fact]
    public void Live_mappings_follow_alloc_partial_dalloc_and_destroy()
    {
        var h = new TestExtentHooks(retain: false);
        byte* a = (byte*)Alloc(h, 4 * Page);
        byte* b = (byte*)Alloc(h, 2 * Page);

        Assert.Equal(6 * Page, h.MappedBytes);
        Assert.True(h.IsMappingStart(a));
        Assert.True(h.IsMappingStart(b));
        Assert.False(h.IsMappingStart(a + Page));

        // Give back the middle of a: two pieces of it stay live, and a's start is still a mapping start.
        Assert.True(h.Dalloc(a + Page, 2 * Page, true, 0));
        Assert.Equal(4 * Page, h.MappedBytes);
        Assert.Contains(((nuint)a, Page), h.LiveMappings);
        Assert.Contains(((nuint)(a + 3 * Page), Page), h.LiveMappings);
        Assert.True(h.IsMappingStart(a));

        h.Destroy(a, Page, true, 0);
        Assert.False(h.IsMappingStart(a));
        h.Destroy(a + 3 * Page, Page, true, 0);
        Assert.True(h.Dalloc(b, 2 * Page, true, 0));

        Assert.Equal(0u, h.MappedBytes);
        Assert.Empty(h.LiveMappings);
        Assert.Empty(h.Anomalies);
    }

    [Fact]
    public void Releasing_memory_that_was_not_handed_out_is_an_anomaly()
    {
        // In a reservation a released range stays reserved, so releasing it again unmaps nothing
        // another test may have mapped there since.
        using var placement = new AddressReservation();
        var h = new TestExtentHooks(retain: false, placement: placement);
        byte* a = (byte*)Alloc(h, Page);
        h.Destroy(a, Page, true, 0);
        // Releasing it again through the hooks is a double free from the harness's point of view (the release itself succeeds).
        Assert.True(h.Dalloc(a, Page, true, 0));
        Assert.Single(h.Anomalies);
    }

    [Fact]
    public void A_merge_whose_second_range_starts_a_mapping_is_counted_and_can_throw()
    {
        var h = new TestExtentHooks(retain: true);
        // Two mappings, then a merge request that glues the second onto a range ending at its start.
        byte* b = (byte*)Alloc(h, Page);
        byte* a = b - Page;

        Assert.True(h.Merge(b, Page / 2, b + Page / 2, Page / 2, true, 0)); // interior: no mapping starts there
        Assert.Equal(0, h.MergesAcrossMappingStart);

        Assert.True(h.Merge(a, Page, b, Page, true, 0));
        Assert.Equal(1, h.MergesAcrossMappingStart);

        h.ThrowOnMergeAcrossMappingStart = true;
        Assert.Throws<InvalidOperationException>(() => h.Merge(a, Page, b, Page, true, 0));
        Assert.Equal(2, h.MergesAcrossMappingStart);
        h.Destroy(b, Page, true, 0);
    }

    [Fact]
    public void A_merge_of_ranges_that_do_not_touch_is_an_anomaly()
    {
        var h = new TestExtentHooks(retain: true);
        h.Merge((void*)Page, Page, (void*)(3 * Page), Page, true, 0);
        Assert.Single(h.Anomalies);
    }

    [Fact]
    public void Concurrent_calls_lose_no_counts_and_no_mappings()
    {
        var h = new TestExtentHooks(retain: false);
        const int Threads = 4, PerThread = 200;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                void* p = Alloc(h, Page);
                Assert.True(h.Dalloc(p, Page, true, 0));
            }
        });

        Assert.Equal(Threads * PerThread, h.DidAlloc);
        Assert.Equal(Threads * PerThread, h.DidDalloc);
        Assert.Equal(0u, h.MappedBytes);
        Assert.Empty(h.Anomalies);
    }
}

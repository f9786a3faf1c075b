using System;
using System.Runtime.InteropServices;
using Allocator.Hpa;

namespace Allocator.Tests.Hpa;

/// <summary>The pageslab's assertions from jemalloc's hpdata unit test: first fit, the longest free range, the three-phase purge, hugify.</summary>
public sealed unsafe class HpdataTests : IDisposable
{
    private static readonly nuint Page = Allocator.Os.Pages.PageSize;
    private static readonly int N = HugePage.Pages;

    // Never dereferenced: the slab's metadata only does address arithmetic.
    private static readonly byte* Base = (byte*)(123 * HugePage.Size);

    private readonly Hpdata* _ps = (Hpdata*)NativeMemory.AllocZeroed((nuint)sizeof(Hpdata));

    public HpdataTests() => Hpdata.Init(_ps, Base, age: 123);

    public void Dispose() => NativeMemory.Free(_ps);

    private void Consistent() => Assert.Null(Hpdata.CheckConsistent(_ps));

    private void* At(int page) => Base + (nuint)page * Page;

    [Fact]
    public void A_fresh_slab_is_all_free_and_untouched()
    {
        Assert.Equal(N, _ps->LongestFreeRange);
        Assert.Equal(0, _ps->NActive);
        Assert.Equal(0, _ps->NTouched);
        Assert.True(_ps->AllocAllowed);
        Assert.False(_ps->Huge || _ps->PurgeAllowed || _ps->HugifyAllowed);
        Consistent();
    }

    [Fact]
    public void Reserve_is_first_fit_and_tracks_the_longest_free_range()
    {
        for (int i = 0; i < N; i++)
        {
            Assert.Equal(N - i, _ps->LongestFreeRange);
            Assert.Equal((nuint)At(i), (nuint)Hpdata.Reserve(_ps, Page));
            Consistent();
        }

        Assert.Equal(0, _ps->LongestFreeRange);

        Hpdata.Unreserve(_ps, At(10), 2 * Page);
        Assert.Equal(2, _ps->LongestFreeRange);
        Hpdata.Unreserve(_ps, At(12), 2 * Page);
        Assert.Equal(4, _ps->LongestFreeRange);
        // Merges on both sides.
        Hpdata.Unreserve(_ps, At(8), 2 * Page);
        Assert.Equal(6, _ps->LongestFreeRange);
        Consistent();

        // Page 15 alone does not reach the 8..13 run while 14 is active; freeing 14 joins them.
        Hpdata.Unreserve(_ps, At(15), Page);
        Assert.Equal(6, _ps->LongestFreeRange);
        Hpdata.Unreserve(_ps, At(14), Page);
        Assert.Equal(8, _ps->LongestFreeRange);
        Consistent();
    }

    [Fact]
    public void Reserve_takes_the_first_run_that_fits_not_the_best()
    {
        Hpdata.Reserve(_ps, (nuint)N * Page);
        Hpdata.Unreserve(_ps, At(3), 5 * Page);
        Hpdata.Unreserve(_ps, At(20), 2 * Page);
        Hpdata.Unreserve(_ps, At(100), 9 * Page);
        Assert.Equal(9, _ps->LongestFreeRange);
        Assert.Equal((nuint)At(3), (nuint)Hpdata.Reserve(_ps, 2 * Page));
        Assert.Equal(9, _ps->LongestFreeRange);
        // Taking from the only longest run recomputes it from the runs before and after.
        Assert.Equal((nuint)At(100), (nuint)Hpdata.Reserve(_ps, 7 * Page));
        Assert.Equal(3, _ps->LongestFreeRange);
        Consistent();
    }

    [Fact]
    public void Purge_simple()
    {
        Hpdata.Reserve(_ps, (nuint)(N / 2) * Page);
        Hpdata.Unreserve(_ps, At(0), (nuint)(N / 4) * Page);
        Assert.Equal(N / 2, _ps->NTouched);

        _ps->AllocAllowed = false;
        HpdataPurgeState state;
        Assert.Equal(N / 4, Hpdata.PurgeBegin(_ps, &state));
        Assert.True(Hpdata.PurgeNext(_ps, &state, out void* address, out nuint size));
        Assert.Equal((nuint)Base, (nuint)address);
        Assert.Equal((nuint)(N / 4) * Page, size);
        Assert.False(Hpdata.PurgeNext(_ps, &state, out _, out _));
        Hpdata.PurgeEnd(_ps, &state);
        Assert.Equal(N / 4, _ps->NTouched);
        Consistent();
    }

    [Fact]
    public void Purge_with_a_free_in_between_leaves_that_quarter_dirty()
    {
        int q = N / 4;
        Hpdata.Reserve(_ps, (nuint)(3 * q) * Page);
        Hpdata.Unreserve(_ps, At(0), (nuint)q * Page);
        Hpdata.Unreserve(_ps, At(2 * q), (nuint)q * Page);
        Assert.Equal(3 * q, _ps->NTouched);

        _ps->AllocAllowed = false;
        HpdataPurgeState state;
        Assert.Equal(2 * q, Hpdata.PurgeBegin(_ps, &state));
        Assert.True(Hpdata.PurgeNext(_ps, &state, out void* address, out nuint size));
        Assert.Equal((nuint)Base, (nuint)address);
        Assert.Equal((nuint)q * Page, size);

        // A free during the purge (the shard lock is dropped while the ranges are purged).
        Hpdata.Unreserve(_ps, At(q), (nuint)q * Page);
        Assert.True(Hpdata.PurgeNext(_ps, &state, out address, out size));
        Assert.Equal((nuint)At(2 * q), (nuint)address);
        Assert.True(size <= (nuint)q * Page);
        Assert.False(Hpdata.PurgeNext(_ps, &state, out _, out _));
        Hpdata.PurgeEnd(_ps, &state);
        Assert.Equal(q, _ps->NTouched);
        Consistent();
    }

    [Fact]
    public void Purge_spans_retained_gaps_between_dirty_runs()
    {
        int q = N / 4;
        Hpdata.Reserve(_ps, (nuint)(3 * q) * Page);
        Hpdata.Unreserve(_ps, At(q), (nuint)q * Page);
        _ps->AllocAllowed = false;
        HpdataPurgeState state;
        Assert.Equal(q, Hpdata.PurgeBegin(_ps, &state));
        Assert.True(Hpdata.PurgeNext(_ps, &state, out void* address, out nuint size));
        Assert.Equal((nuint)At(q), (nuint)address);
        Assert.Equal((nuint)q * Page, size);
        Assert.False(Hpdata.PurgeNext(_ps, &state, out _, out _));
        Hpdata.PurgeEnd(_ps, &state);
        Assert.Equal(2 * q, _ps->NTouched);

        // Quarters 1 and 3 dirty, quarter 2 retained: one range over all three.
        Hpdata.Unreserve(_ps, At(0), (nuint)q * Page);
        Hpdata.Unreserve(_ps, At(2 * q), (nuint)q * Page);
        Assert.Equal(2 * q, Hpdata.PurgeBegin(_ps, &state));
        Assert.True(Hpdata.PurgeNext(_ps, &state, out address, out size));
        Assert.Equal((nuint)Base, (nuint)address);
        Assert.Equal((nuint)(3 * q) * Page, size);
        Assert.False(Hpdata.PurgeNext(_ps, &state, out _, out _));
        Hpdata.PurgeEnd(_ps, &state);
        Assert.Equal(0, _ps->NTouched);
        Consistent();
    }

    [Fact]
    public void Purge_does_not_span_an_active_page()
    {
        Hpdata.Reserve(_ps, 10 * Page);
        Hpdata.Unreserve(_ps, At(1), 3 * Page);
        Hpdata.Unreserve(_ps, At(5), 2 * Page);
        _ps->AllocAllowed = false;
        HpdataPurgeState state;
        Assert.Equal(5, Hpdata.PurgeBegin(_ps, &state));
        Assert.True(Hpdata.PurgeNext(_ps, &state, out void* address, out nuint size));
        Assert.Equal(((nuint)At(1), 3 * Page), ((nuint)address, size));
        Assert.True(Hpdata.PurgeNext(_ps, &state, out address, out size));
        Assert.Equal(((nuint)At(5), 2 * Page), ((nuint)address, size));
        Assert.False(Hpdata.PurgeNext(_ps, &state, out _, out _));
        Hpdata.PurgeEnd(_ps, &state);
        Assert.Equal(5, _ps->NTouched);
        Consistent();
    }

    [Fact]
    public void Hugify_counts_every_page_touched()
    {
        Hpdata.Reserve(_ps, (nuint)(N / 2) * Page);
        Assert.Equal(N / 2, _ps->NTouched);
        Hpdata.Hugify(_ps);
        Assert.Equal(N, _ps->NTouched);
        Assert.True(_ps->Huge);
        Consistent();
        Hpdata.Dehugify(_ps);
        Assert.False(_ps->Huge);
        Assert.Equal(N, _ps->NTouched);
    }

    [Fact]
    public void CheckConsistent_names_a_drifted_counter()
    {
        Hpdata.Reserve(_ps, 3 * Page);
        _ps->NActive++;
        Assert.Contains("active count", Hpdata.CheckConsistent(_ps));
        _ps->NActive--;
        _ps->LongestFreeRange++;
        Assert.Contains("longest free range", Hpdata.CheckConsistent(_ps));
        _ps->LongestFreeRange--;
        _ps->Huge = true;
        Assert.Contains("huge", Hpdata.CheckConsistent(_ps));
    }
}

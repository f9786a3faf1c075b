using System;
using System.Runtime.InteropServices;
using Allocator.Hpa;
using Allocator.PageAllocators;

namespace Allocator.Tests.Hpa;

/// <summary>The pageslab set's assertions from jemalloc's psset unit test: best fit by class, oldest first, purge order, stats.</summary>
public sealed unsafe class PssetTests : IDisposable
{
    private static readonly nuint Page = Allocator.Os.Pages.PageSize;
    private static readonly int N = HugePage.Pages;
    private const int Slabs = 64;

    private readonly Hpdata* _slabs = (Hpdata*)NativeMemory.AllocZeroed((nuint)(Slabs * sizeof(Hpdata)));
    private readonly Psset _psset = new(OsPageClasses.Value);

    public void Dispose() => NativeMemory.Free(_slabs);

    private Hpdata* Slab(int i, ulong age, int position = -1)
    {
        Hpdata* ps = _slabs + i;
        Hpdata.Init(ps, (void*)((nuint)(10 + (position < 0 ? i : position)) * HugePage.Size), age);
        return ps;
    }

    // A fresh slab, fake-purged as jemalloc's test does, with its first allocation, inserted.
    private void* AllocNew(Hpdata* ps, nuint size)
    {
        ps->AllocAllowed = false;
        HpdataPurgeState state;
        Hpdata.PurgeBegin(ps, &state);
        while (Hpdata.PurgeNext(ps, &state, out _, out _))
        {
        }

        Hpdata.PurgeEnd(ps, &state);
        ps->AllocAllowed = true;
        void* p = Hpdata.Reserve(ps, size);
        _psset.Insert(ps);
        return p;
    }

    private void* AllocReuse(nuint size, out Hpdata* ps)
    {
        ps = _psset.PickAlloc(size);
        if (ps == null) return null;
        _psset.UpdateBegin(ps);
        void* p = Hpdata.Reserve(ps, size);
        _psset.UpdateEnd(ps);
        return p;
    }

    private int AllocReusePage(nuint size, out Hpdata* ps)
    {
        void* p = AllocReuse(size, out ps);
        Assert.True(p != null, "a non-empty psset failed an allocation");
        return (int)(((nuint)p - (nuint)ps->Address) / Page);
    }

    // Frees; an emptied slab is taken out (evicted), and true says so.
    private bool Dalloc(Hpdata* ps, int page, int pages = 1)
    {
        _psset.UpdateBegin(ps);
        Hpdata.Unreserve(ps, ps->Address + (nuint)page * Page, (nuint)pages * Page);
        _psset.UpdateEnd(ps);
        if (!ps->IsEmpty) return false;
        _psset.Remove(ps);
        return true;
    }

    private void Fill(Hpdata* ps)
    {
        AllocNew(ps, Page);
        for (int i = 1; i < N; i++) Assert.Equal(i, AllocReusePage(Page, out _));
    }

    [Fact]
    public void An_empty_set_has_nothing_to_allocate_from()
    {
        Assert.True(_psset.PickAlloc(Page) == null);
    }

    [Fact]
    public void Fill_hands_out_pages_in_order_then_fails()
    {
        Hpdata* ps = Slab(0, 123);
        Assert.Equal((nuint)ps->Address, (nuint)AllocNew(ps, Page));
        for (int i = 1; i < N; i++)
        {
            Assert.Equal(i, AllocReusePage(Page, out Hpdata* got));
            Assert.True(got == ps);
        }

        Assert.True(AllocReuse(Page, out _) == null);
        Assert.Null(Hpdata.CheckConsistent(ps));
    }

    [Fact]
    public void Reuse_lands_in_the_first_fitting_hole()
    {
        Hpdata* ps = Slab(0, 123);
        Fill(ps);
        for (int i = 1; i < N; i += 2) Assert.False(Dalloc(ps, i));
        for (int i = 1; i < N; i += 2) Assert.Equal(i, AllocReusePage(Page, out _));

        for (int i = 0; i < N; i += 4) Assert.False(Dalloc(ps, i, 2));
        for (int i = 0; i < N; i += 4) Assert.Equal(i, AllocReusePage(2 * Page, out _));

        // Frees the pairs again plus page 11: the first 3-page hole is 11..13 (11 joins 12..13).
        for (int i = 0; i < N; i += 4) Assert.False(Dalloc(ps, i, 2));
        Assert.False(Dalloc(ps, 11));
        Assert.Equal(11, AllocReusePage(3 * Page, out _));

        Assert.False(Dalloc(ps, N - 2, 2));
        Assert.Equal(N - 4, AllocReusePage(4 * Page, out _));
        Assert.Null(Hpdata.CheckConsistent(ps));
    }

    [Fact]
    public void Freeing_the_last_page_evicts_the_slab()
    {
        Hpdata* ps = Slab(0, 123);
        Fill(ps);
        for (int i = 0; i < N - 1; i++) Assert.False(Dalloc(ps, i));
        Assert.True(Dalloc(ps, N - 1));
        Assert.True(_psset.PickAlloc(Page) == null);
    }

    [Fact]
    public void A_page_goes_to_the_fuller_slab()
    {
        Hpdata* a = Slab(0, 123), b = Slab(1, 124);
        AllocNew(a, Page);
        AllocNew(b, Page);
        for (int i = 1; i < N; i++)
        {
            AllocReusePage(Page, out Hpdata* got);
            Assert.True(got == a, "first fit across slabs: the older slab fills first");
        }

        for (int i = 1; i < N; i++)
        {
            AllocReusePage(Page, out Hpdata* got);
            Assert.True(got == b);
        }

        // A 2-page hole in a, a 1-page hole in b: one page comes from b, whose smaller longest range is a lower bin.
        Assert.False(Dalloc(a, 0));
        Assert.False(Dalloc(a, 1));
        Assert.False(Dalloc(b, 0));
        AllocReusePage(Page, out Hpdata* chosen);
        Assert.True(chosen == b, "should pick the fuller pageslab");

        // Both have 1-page holes now... free a second page in b; 2 pages still fit although a smaller class is non-empty.
        Assert.False(Dalloc(b, 1));
        Assert.True(AllocReuse(2 * Page, out _) != null);
    }

    private (long NPageslabs, long NActive) Bucket(Hpdata* ps)
    {
        if (ps->IsFull) return (_psset.Full(false).NPageslabs, _psset.Full(false).NActive);
        if (ps->IsEmpty) return (_psset.Empty(false).NPageslabs, _psset.Empty(false).NActive);
        PssetBinStats s = _psset.NonFull(_psset.BinOf(ps->LongestFreeRange), false);
        return (s.NPageslabs, s.NActive);
    }

    private long SlabsInAllBuckets()
    {
        long n = _psset.Full(false).NPageslabs + _psset.Full(true).NPageslabs + _psset.Empty(false).NPageslabs + _psset.Empty(true).NPageslabs;
        for (int i = 0; i < Psset.NPsizes; i++) n += _psset.NonFull(i, false).NPageslabs + _psset.NonFull(i, true).NPageslabs;
        return n;
    }

    [Fact]
    public void Stats_file_the_slab_in_exactly_one_bucket()
    {
        Hpdata* ps = Slab(0, 123);
        AllocNew(ps, Page);
        for (int i = 1; i <= N; i++)
        {
            Assert.Equal((1L, (long)i), Bucket(ps));
            Assert.Equal(1, SlabsInAllBuckets());
            Assert.Equal(i, _psset.NActive);
            if (i < N) AllocReusePage(Page, out _);
        }

        for (int i = 0; i < N - 1; i++)
        {
            Assert.False(Dalloc(ps, i));
            Assert.Equal((1L, (long)(N - 1 - i)), Bucket(ps));
            Assert.Equal(1, SlabsInAllBuckets());
            Assert.Equal(N - 1 - i, _psset.NActive);
        }

        // While updating, the slab's contribution is absent.
        _psset.UpdateBegin(ps);
        Assert.Equal(0, SlabsInAllBuckets());
        Assert.Equal(0, _psset.NActive);
        _psset.UpdateEnd(ps);
        Assert.Equal(1, SlabsInAllBuckets());
    }

    // Two slabs full but for their last page; the better (older) one sits at the higher address.
    private void TwoAlmostFull(out Hpdata* better, out Hpdata* worse)
    {
        better = Slab(0, 123, position: 1);
        worse = Slab(1, 456, position: 0);
        AllocNew(better, (nuint)(N - 1) * Page);
        AllocNew(worse, (nuint)(N - 1) * Page);
        Assert.Equal(N - 1, better->NActive);
        Assert.Equal(N - 1, worse->NActive);
    }

    [Fact]
    public void Of_two_equal_slabs_the_older_serves()
    {
        TwoAlmostFull(out Hpdata* better, out _);
        AllocReusePage(Page, out Hpdata* got);
        Assert.True(got == better, "allocated from the younger slab");
    }

    [Fact]
    public void A_slab_being_updated_is_out_of_reach()
    {
        TwoAlmostFull(out Hpdata* better, out Hpdata* worse);
        _psset.UpdateBegin(better);
        Assert.Equal(N - 1, AllocReusePage(Page, out Hpdata* got));
        Assert.True(got == worse);
        Assert.False(Dalloc(worse, N - 1));
        _psset.UpdateEnd(better);
        AllocReusePage(Page, out got);
        Assert.True(got == better, "removal and reinsertion changed the order");

        Assert.False(Dalloc(better, N - 1));
        _psset.UpdateBegin(better);
        _psset.UpdateBegin(worse);
        Assert.True(AllocReuse(Page, out _) == null);
    }

    private static void FakePurge(Hpdata* ps)
    {
        ps->AllocAllowed = false;
        HpdataPurgeState state;
        Hpdata.PurgeBegin(ps, &state);
        while (Hpdata.PurgeNext(ps, &state, out _, out _))
        {
        }

        Hpdata.PurgeEnd(ps, &state);
        ps->AllocAllowed = true;
    }

    [Fact]
    public void Purging_prefers_non_huge_slabs()
    {
        const int nhp = 23;
        for (int i = 0; i < nhp; i++)
        {
            _psset.Insert(Slab(i, 123 + (ulong)i));
            _psset.Insert(Slab(nhp + i, 456 + (ulong)i));
        }

        for (int i = 0; i < 2 * nhp; i++)
        {
            Hpdata* ps = _psset.PickAlloc(HugePage.Size * 3 / 4);
            _psset.UpdateBegin(ps);
            Hpdata.Reserve(ps, HugePage.Size * 3 / 4);
            void* p = Hpdata.Reserve(ps, HugePage.Size / 4);
            Hpdata.Unreserve(ps, p, HugePage.Size / 4);
            if (ps - _slabs < nhp) Hpdata.Hugify(ps);
            ps->PurgeAllowed = true;
            _psset.UpdateEnd(ps);
        }

        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < nhp; i++)
            {
                Hpdata* ps = _psset.PickPurge();
                bool huge = ps - _slabs < nhp;
                Assert.Equal(pass == 1, huge);
                _psset.UpdateBegin(ps);
                if (huge) Hpdata.Dehugify(ps);
                FakePurge(ps);
                ps->PurgeAllowed = false;
                _psset.UpdateEnd(ps);
            }
        }

        Assert.True(_psset.PickPurge() == null);
    }

    [Fact]
    public void Purging_prefers_an_empty_slab()
    {
        Hpdata* empty = Slab(0, 123), nonempty = Slab(1, 456);
        _psset.Insert(empty);
        _psset.Insert(nonempty);
        _psset.UpdateBegin(empty);
        Hpdata.Unreserve(empty, Hpdata.Reserve(empty, Page), Page);
        empty->PurgeAllowed = true;
        _psset.UpdateEnd(empty);
        _psset.UpdateBegin(nonempty);
        void* p = Hpdata.Reserve(nonempty, 10 * Page);
        Hpdata.Unreserve(nonempty, p, 9 * Page);
        nonempty->PurgeAllowed = true;
        _psset.UpdateEnd(nonempty);
        // 9 dirty pages against 1, yet the empty slab goes first.
        Assert.True(_psset.PickPurge() == empty);
    }

    [Fact]
    public void Purging_prefers_empty_huge_slabs_each_group_in_insertion_order()
    {
        const int n = 10;
        for (int i = 0; i < 2 * n; i++)
        {
            Hpdata* ps = Slab(i, 123 + (ulong)i);
            _psset.Insert(ps);
            _psset.UpdateBegin(ps);
            Hpdata.Unreserve(ps, Hpdata.Reserve(ps, HugePage.Size), HugePage.Size);
            if (i % 2 == 0) Hpdata.Hugify(ps);
            ps->PurgeAllowed = true;
            _psset.UpdateEnd(ps);
        }

        for (int i = 0; i < 2 * n; i++)
        {
            Hpdata* ps = _psset.PickPurge();
            int expected = i < n ? 2 * i : 2 * (i - n) + 1;
            Assert.Equal(expected, (int)(ps - _slabs));
            _psset.UpdateBegin(ps);
            Hpdata.Dehugify(ps);
            FakePurge(ps);
            ps->PurgeAllowed = false;
            _psset.UpdateEnd(ps);
        }

        Assert.True(_psset.PickPurge() == null);
    }

    [Fact]
    public void Hugify_candidates_come_out_first_in_first_out()
    {
        Hpdata* a = Slab(0, 1), b = Slab(1, 2);
        _psset.Insert(a);
        _psset.Insert(b);
        foreach (nint handle in new[] { (nint)b, (nint)a })
        {
            var ps = (Hpdata*)handle;
            _psset.UpdateBegin(ps);
            ps->HugifyAllowed = true;
            _psset.UpdateEnd(ps);
        }

        Assert.True(_psset.PickHugify() == b);
        // An update does not move a listed candidate to the back.
        _psset.UpdateBegin(b);
        Hpdata.Reserve(b, Page);
        _psset.UpdateEnd(b);
        Assert.True(_psset.PickHugify() == b);
        _psset.UpdateBegin(b);
        b->HugifyAllowed = false;
        _psset.UpdateEnd(b);
        Assert.True(_psset.PickHugify() == a);
        Assert.Null(Hpdata.CheckConsistent(a));
    }
}

using System;
using System.Collections.Generic;
using System.Numerics;
using Allocator.Os;
using Allocator.Tests.Infrastructure;

namespace Allocator.Tests.Map;

using Allocator.Map;
using Allocator.Metadata;
using Base = Allocator.Metadata.Base;

/// <summary>
/// Ports of jemalloc 5.3's test/unit/rtree.c (reference section 9) on private trees. Geometry
/// from reference 2.1: 48-bit keys, the bits above the page split evenly, remainder to the leaf.
/// </summary>
public sealed unsafe class RtreeTests : IDisposable
{
    private static readonly nuint Page = Pages.PageSize;
    private static readonly int LgPage = BitOperations.Log2(Pages.PageSize);

    // Reference 2.1: NSB = 48 - LG_PAGE significant bits; the leaf level takes the larger half (18 of 36 on 4 KiB pages).
    private static readonly int LeafBits = (48 - LgPage) - (48 - LgPage) / 2;
    private static readonly nuint LeafSpan = (nuint)1 << (LgPage + LeafBits);

    private readonly TestExtentHooks _hooks = new(retain: false);
    private readonly Base _base;
    private readonly Rtree _tree;

    public RtreeTests()
    {
        _base = new Base(_hooks);
        _tree = new Rtree(_base);
    }

    public void Dispose()
    {
        _tree.Dispose();
        _base.Dispose();
        Assert.Equal(0u, _hooks.MappedBytes); // the tree's nodes all came from its base
    }

    private Edata* NewEdata() => _base.AllocateEdata();

    private static RtreeContents Contents(Edata* e, int sizeIndex = 0, bool slab = false, bool head = false,
        ExtentState state = ExtentState.Active) => new(e, sizeIndex, slab, head, state);

    private static void AssertSame(in RtreeContents expected, in RtreeContents actual)
    {
        Assert.True(expected.Edata == actual.Edata, "edata differs");
        Assert.Equal(expected.SizeIndex, actual.SizeIndex);
        Assert.Equal(expected.IsSlab, actual.IsSlab);
        Assert.Equal(expected.IsHead, actual.IsHead);
        Assert.Equal(expected.State, actual.State);
    }

    private Edata* ReadEdata(nuint key)
    {
        Assert.True(_tree.TryRead((void*)key, out RtreeContents c), $"no leaf for 0x{key:x}");
        return c.Edata;
    }

    [Fact]
    public void Geometry_is_two_levels_with_the_leaf_covering_one_GiB_on_4KiB_pages()
    {
        Assert.Equal((ulong)LeafSpan, _tree.LeafSpan);
        if (Page == 4096) Assert.Equal(1UL << 30, _tree.LeafSpan);
    }

    [Fact]
    public void Read_empty_a_fresh_tree_has_no_leaf_for_PAGE()
    {
        Assert.False(_tree.TryRead((void*)Page, out RtreeContents c));
        Assert.True(c.Edata == null);
        Assert.True(_tree.Element((void*)Page, initMissing: false) == null);
    }

    [Fact]
    public void Extrema_round_trip_at_PAGE_written_twice_and_at_the_all_ones_key()
    {
        Edata* a = NewEdata(), b = NewEdata();
        RtreeContents ca = Contents(a, sizeIndex: 255, slab: true, head: true, state: ExtentState.Merging);
        RtreeContents cb = Contents(b, sizeIndex: 0, slab: false, head: false, state: ExtentState.Active);

        Assert.True(_tree.Write((void*)Page, ca));
        Assert.True(_tree.Write((void*)Page, ca));
        Assert.True(_tree.TryRead((void*)Page, out RtreeContents ra));
        AssertSame(ca, ra);

        // ~0: the high 16 bits are insignificant, so this is the last page of the 48-bit space.
        void* allOnes = (void*)~(nuint)0;
        Assert.True(_tree.Write(allOnes, cb));
        Assert.True(_tree.TryRead(allOnes, out RtreeContents rb));
        AssertSame(cb, rb);
        Assert.True(_tree.TryRead((void*)(((nuint)1 << 48) - Page), out RtreeContents alias));
        AssertSame(cb, alias);

        // Writing the far end did not disturb PAGE.
        Assert.True(_tree.TryRead((void*)Page, out ra));
        AssertSame(ca, ra);
    }

    [Fact]
    public void Bits_below_the_page_are_ignored_and_the_next_page_stays_empty()
    {
        Edata* e = NewEdata();
        nuint[] keys = { Page, Page + 1, Page + Page - 1 };

        foreach (nuint set in keys)
        {
            Assert.True(_tree.Write((void*)set, Contents(e)));
            foreach (nuint get in keys)
                Assert.True(ReadEdata(get) == e, $"set 0x{set:x}, get 0x{get:x}");
            Assert.True(ReadEdata(2 * Page) == null, "only the element of PAGE should be set");

            _tree.Clear((void*)set);
            foreach (nuint get in keys)
                Assert.True(ReadEdata(get) == null, $"cleared 0x{set:x}, get 0x{get:x}");
        }
    }

    [Fact]
    public void Random_keys_written_read_back_and_cleared()
    {
        const int N = 16;
        var random = new Random(20261126);
        var keys = new nuint[N];
        var edatas = new nuint[N];
        var pages = new HashSet<nuint>();
        for (int i = 0; i < N; i++)
        {
            // Distinct pages anywhere in the 48-bit space.
            do keys[i] = (nuint)((ulong)random.NextInt64(1L << 48) & ~(ulong)(Page - 1)) + (nuint)random.Next((int)Page);
            while (!pages.Add(keys[i] & ~(Page - 1)));
            Edata* e = NewEdata();
            edatas[i] = (nuint)e;

            // As rtree.c does: look up with init_missing, write the element, read it back through the tree.
            ulong* element = _tree.Element((void*)keys[i], initMissing: true);
            Assert.True(element != null);
            *element = RtreeContents.Encode(Contents(e, sizeIndex: i, state: (ExtentState)(i % 4)));
            Assert.True(ReadEdata(keys[i]) == e);
        }

        for (int i = 0; i < N; i++)
        {
            Assert.True(_tree.TryRead((void*)keys[i], out RtreeContents c));
            Assert.True(c.Edata == (Edata*)edatas[i], $"key {i} lost its edata");
            Assert.Equal(i, c.SizeIndex);
            Assert.Equal((ExtentState)(i % 4), c.State);
        }

        for (int i = 0; i < N; i++)
        {
            _tree.Clear((void*)keys[i]);
            Assert.True(ReadEdata(keys[i]) == null);
        }

        for (int i = 0; i < N; i++) Assert.True(ReadEdata(keys[i]) == null);
    }

    [Fact]
    public void Range_write_and_clear_within_one_leaf()
    {
        nuint start = LeafSpan;
        AssertRangeWriteAndClear(start, start + 100 * Page);
    }

    [Fact]
    public void Range_write_and_clear_across_a_leaf_boundary()
    {
        nuint start = LeafSpan - 10 * Page;
        nuint end = start + 100 * Page;
        Assert.NotEqual(start / LeafSpan, end / LeafSpan); // the range spans two leaves
        AssertRangeWriteAndClear(start, end);
    }

    [Fact]
    public void ClearRange_over_pages_without_a_leaf_creates_none()
    {
        _tree.ClearRange((void*)(3 * LeafSpan), (void*)(3 * LeafSpan + 10 * Page));
        Assert.False(_tree.TryRead((void*)(3 * LeafSpan), out _));
    }

    [Fact]
    public void WriteRange_creates_the_leaves_it_needs()
    {
        // rtree.c writes start and end first because its range write uses dependent lookups; this one must not need that.
        Edata* e = NewEdata();
        nuint start = 5 * LeafSpan - 2 * Page, end = 5 * LeafSpan + Page;
        Assert.True(_tree.WriteRange((void*)start, (void*)end, Contents(e)));
        for (nuint a = start; a <= end; a += Page) Assert.True(ReadEdata(a) == e);
    }

    private void AssertRangeWriteAndClear(nuint start, nuint end)
    {
        Edata* e = NewEdata();
        Edata* outside = NewEdata();
        RtreeContents c = Contents(e, sizeIndex: 77, slab: true, head: false, state: ExtentState.Dirty);
        // Neighbours just outside [start, end] must survive both the write and the clear.
        Assert.True(_tree.Write((void*)(start - Page), Contents(outside)));
        Assert.True(_tree.Write((void*)(end + Page), Contents(outside)));
        Assert.True(_tree.Write((void*)start, c));
        Assert.True(_tree.Write((void*)end, c));

        Assert.True(_tree.WriteRange((void*)start, (void*)end, c));
        for (nuint a = start; a <= end; a += Page)
        {
            Assert.True(_tree.TryRead((void*)a, out RtreeContents r), $"no leaf at 0x{a:x}");
            AssertSame(c, r);
        }

        _tree.ClearRange((void*)start, (void*)end);
        for (nuint a = start; a <= end; a += Page)
        {
            // A non-dependent lookup still finds the leaf; only its element was cleared.
            ulong* element = _tree.Element((void*)a, initMissing: false);
            Assert.True(element != null, $"leaf gone at 0x{a:x}");
            Assert.Equal(RtreeContents.EmptyWord, *element);
            Assert.True(ReadEdata(a) == null);
        }

        Assert.True(ReadEdata(start - Page) == outside);
        Assert.True(ReadEdata(end + Page) == outside);
    }
}

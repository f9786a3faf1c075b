using System.Collections.Generic;
using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>
/// Internal consistency for the default and other parameter sets: the tables, the closed forms
/// and the lookup table agree; round trips hold; sizes are monotonic; slabs are exact.
/// </summary>
public class ParameterSetTests
{
    public static IEnumerable<object[]> Sets() => new[]
    {
        new object[] { 4, 12, 2, 3 },
        new object[] { 3, 12, 2, 3 },
        new object[] { 4, 14, 2, 3 },
        new object[] { 4, 16, 2, 3 },
        new object[] { 3, 16, 2, 3 },
        new object[] { 4, 12, 1, 3 },
        new object[] { 4, 12, 0, 3 },
        new object[] { 5, 13, 2, 3 },
        new object[] { 5, 12, 2, 5 },
        new object[] { 9, 16, 2, 4 },
        new object[] { 4, 12, 3, 3 },
        new object[] { 4, 12, 4, 3 },
        new object[] { 3, 16, 4, 3 },
    };

    [Theory]
    [MemberData(nameof(Sets))]
    public void TableIsConsistent(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        ulong page = 1UL << lgPage;
        Assert.Equal(page, sc.PageSize);
        Assert.True(sc.Count <= SizeClasses.MaxClassCount);
        Assert.Equal(lgQuantum - lgTinyMin, sc.NTiny);
        Assert.Equal(sc.Count, sc.NTiny + sc.NPseudo + sc.NRegular);
        Assert.Equal(1UL << lgTinyMin, sc.IndexToSize(0));

        int bins = 0, psz = 0, lookup = 0;
        for (int i = 0; i < sc.Count; i++)
        {
            SizeClass c = sc[i];
            Assert.Equal(i, c.Index);
            Assert.Equal(c.Size, sc.IndexToSize(i));
            Assert.Equal(sc.IndexToSizeCompute(i), sc.IndexToSize(i));
            if (i > 0)
            {
                Assert.True(sc.IndexToSize(i - 1) < c.Size);
            }

            if (i >= sc.NTiny + sc.NPseudo)
            {
                // Regular groups: spacing is a fixed fraction of the base.
                Assert.Equal(c.LgBase - lgGroup, c.LgDelta);
                Assert.InRange(c.NDelta, 1, 1 << lgGroup);
            }

            Assert.Equal(c.Size % page == 0, c.IsPageSizeClass);
            Assert.Equal(c.Size < (page << lgGroup), c.IsBin);
            Assert.Equal(c.Size <= 4096 ? c.LgDelta : 0, c.LgDeltaLookup);
            bins += c.IsBin ? 1 : 0;
            psz += c.IsPageSizeClass ? 1 : 0;
            lookup += c.Size <= 4096 ? 1 : 0;
        }

        Assert.Equal(bins, sc.BinCount);
        Assert.Equal(psz, sc.PageSizeClassCount);
        Assert.Equal(lookup, sc.LookupClassCount);
        Assert.Equal(4096UL, sc.LookupMaxClass);
        Assert.Equal(sc.IndexToSize(sc.BinCount - 1), sc.SmallMaxClass);
        Assert.Equal(sc.IndexToSize(sc.BinCount), sc.LargeMinClass);
        Assert.Equal(sc.IndexToSize(sc.Count - 1), sc.LargeMaxClass);
        Assert.Equal((4096 >> lgTinyMin) + 1, sc.SizeToIndexTableLength);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void SizesRoundTrip(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        Assert.Equal(0, sc.SizeToIndex(0));
        Assert.Equal(sc.IndexToSize(0), sc.RoundUp(0));
        for (int i = 0; i < sc.Count; i++)
        {
            ulong size = sc.IndexToSize(i);
            ulong prev = i == 0 ? 0 : sc.IndexToSize(i - 1);
            Assert.Equal(i, sc.SizeToIndex(size));
            Assert.Equal(i, sc.SizeToIndex(prev + 1));
            Assert.Equal(i + 1, sc.SizeToIndex(size + 1));
            Assert.Equal(size, sc.RoundUp(prev + 1));
            Assert.Equal(size, sc.RoundUp(size));
            Assert.Equal(i + 1 < sc.Count ? sc.IndexToSize(i + 1) : 0, sc.RoundUp(size + 1));
        }

        for (ulong size = 0; size <= 3 * sc.LookupMaxClass; size++)
        {
            Assert.Equal(sc.SizeToIndexCompute(size), sc.SizeToIndex(size));
            Assert.Equal(sc.RoundUpCompute(size), sc.RoundUp(size));
        }

        Assert.Equal(sc.Count, sc.SizeToIndex(ulong.MaxValue));
        Assert.Equal(0UL, sc.RoundUp(sc.LargeMaxClass + 1));
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void PageSizeClassesRoundTrip(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        ulong page = sc.PageSize;

        // The first nGroup page classes are 1..nGroup pages.
        for (int pind = 0; pind < 1 << lgGroup; pind++)
        {
            Assert.Equal((ulong)(pind + 1) * page, sc.IndexToPsz(pind));
        }

        int n = 0;
        for (int i = 0; i < sc.Count; i++)
        {
            if (sc[i].IsPageSizeClass)
            {
                Assert.Equal(sc[i].Size, sc.IndexToPsz(n));
                n++;
            }
        }

        Assert.Equal(sc.PageSizeClassCount, n);
        Assert.Equal(sc.LargeMaxClass + page, sc.IndexToPsz(n));
        for (int pind = 0; pind <= sc.PageSizeClassCount; pind++)
        {
            ulong psz = sc.IndexToPsz(pind);
            ulong prev = pind == 0 ? 0 : sc.IndexToPsz(pind - 1);
            Assert.Equal(psz, sc.IndexToPszCompute(pind));
            Assert.Equal(pind, sc.PszToIndex(psz));
            Assert.Equal(pind, sc.PszToIndex(prev + 1));
            Assert.Equal(psz, sc.PszRoundUp(prev + 1));
            Assert.Equal(psz, sc.PszRoundUp(psz));
        }

        Assert.Equal(sc.PageSizeClassCount, sc.PszToIndex(ulong.MaxValue));
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void QuantizationInvariants(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        ulong page = sc.PageSize;
        foreach (ulong pad in new[] { 0UL, page })
        {
            for (int b = 0; b < sc.BinCount; b++)
            {
                ulong slab = sc.GetBin(b).SlabSize;
                Assert.Equal(slab, sc.PszQuantizeFloor(slab, pad));
                Assert.Equal(slab, sc.PszQuantizeCeil(slab, pad));
            }

            for (int i = sc.BinCount; i < sc.Count; i++)
            {
                ulong extent = sc.IndexToSize(i) + pad;
                Assert.Equal(extent, sc.PszQuantizeFloor(extent, pad));
                Assert.Equal(extent, sc.PszQuantizeCeil(extent, pad));
            }

            ulong floorPrev = 0, ceilPrev = 0;
            for (ulong size = page; size <= 1024 * page; size += page)
            {
                ulong floor = sc.PszQuantizeFloor(size, pad);
                ulong ceil = sc.PszQuantizeCeil(size, pad);
                Assert.True(floor <= size && size <= ceil);
                Assert.True(floorPrev <= floor && ceilPrev <= ceil);
                Assert.Equal(floor, sc.PszQuantizeFloor(floor, pad));
                Assert.Equal(ceil, sc.PszQuantizeCeil(ceil, pad));
                floorPrev = floor;
                ceilPrev = ceil;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void SlabGeometryIsExact(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        for (int b = 0; b < sc.BinCount; b++)
        {
            BinInfo bin = sc.GetBin(b);
            Assert.Equal(sc.IndexToSize(b), bin.RegionSize);
            Assert.Equal((ulong)bin.SlabPages * sc.PageSize, bin.SlabSize);
            Assert.Equal(bin.SlabSize, (ulong)bin.RegionsPerSlab * bin.RegionSize);
            Assert.InRange(bin.RegionsPerSlab, 1, sc.SlabMaxRegions);
            Assert.InRange(bin.SlabPages, 1, (2 << lgGroup) - 1);

            // Smallest such slab: one page fewer cannot hold a whole number of regions.
            ulong smaller = bin.SlabSize - sc.PageSize;
            for (; smaller > 0; smaller -= sc.PageSize)
            {
                Assert.NotEqual(0UL, smaller % bin.RegionSize);
            }

            for (int r = 0; r < bin.RegionsPerSlab; r++)
            {
                Assert.Equal(r, bin.RegionIndex((uint)((ulong)r * bin.RegionSize)));
            }
        }
    }
}

using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>
/// Page-size classes and extent quantization: ports of jemalloc 5.3's test/unit/sz.c, the psz
/// half of test/unit/size_classes.c and test/unit/extent_quantize.c, plus the reference's tables.
/// Expected numbers come from the reference document (section 7), not from this code.
/// </summary>
public class PageSizeClassTests
{
    private const ulong Page = 4096;
    private const ulong LargeMax = 0x7000000000000000UL;
    private static readonly SizeClasses Sc = SizeClasses.Default;

    /// <summary>No padding (the extent sets) and one page (jemalloc's cache-oblivious large extents).</summary>
    public static TheoryData<ulong> Pads => new TheoryData<ulong> { 0, Page };

    [Fact]
    public void ReferenceConstants()
    {
        Assert.Equal(4096UL, Sc.PageSize);
        Assert.Equal(12, Sc.LgPage);
        Assert.Equal(16384UL, Sc.LargeMinClass);
        Assert.Equal(LargeMax, Sc.LargeMaxClass);
        Assert.Equal(199, Sc.PageSizeClassCount);
    }

    [Fact]
    public void PindTableMatchesReference()
    {
        // Section 7.4: pind -> pages.
        ulong[] pages = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128 };
        for (int pind = 0; pind < pages.Length; pind++)
        {
            Assert.Equal(pages[pind] * Page, Sc.IndexToPsz(pind));
            Assert.Equal(pind, Sc.PszToIndex(pages[pind] * Page));
        }

        Assert.Equal(16384UL + 4096UL, Sc.IndexToPsz(4));
        Assert.Equal(512 * Page, Sc.IndexToPsz(31));
        Assert.Equal(LargeMax, Sc.IndexToPsz(198));
        Assert.Equal(LargeMax + Page, Sc.IndexToPsz(199));
        Assert.Equal(198, Sc.PszToIndex(LargeMax));
    }

    [Fact]
    public void ClosedFormAgreesWithTable()
    {
        for (int pind = 0; pind <= Sc.PageSizeClassCount; pind++)
        {
            Assert.Equal(Sc.IndexToPsz(pind), Sc.IndexToPszCompute(pind));
        }
    }

    [Fact]
    public void PszToIndexBelowFirstPageGroup()
    {
        // sz.c: every size in (i pages, i + 1 pages] maps to i, for the first nGroup (4) classes.
        for (ulong i = 0; i < 4; i++)
        {
            for (ulong psz = i * Page + 1; psz <= (i + 1) * Page; psz++)
            {
                Assert.Equal((int)i, Sc.PszToIndex(psz));
            }
        }
    }

    [Fact]
    public void PszToIndexAgainstClassTable()
    {
        // sz.c: from 16 KiB, the first regular group with only page multiples, page class i is
        // size class i + baseIndex, where baseIndex = index(16 KiB) - nGroup = 36 - 4.
        const ulong basePsz = 16384;
        int baseIndex = 0;
        while (baseIndex < Sc.Count && Sc[baseIndex].Size < basePsz)
        {
            baseIndex++;
        }

        Assert.Equal(basePsz, Sc[baseIndex].Size);
        Assert.Equal(36, baseIndex);
        baseIndex -= 4;
        for (ulong psz = basePsz; psz <= 64UL * 1024 * 1024; psz += Page / 3)
        {
            int ind = Sc.PszToIndex(psz);
            Assert.True(psz > Sc[ind + baseIndex].Size, "psz " + psz + " -> " + ind);
            Assert.True(psz <= Sc[ind + baseIndex + 1].Size, "psz " + psz + " -> " + ind);
        }

        Assert.Equal(199, Sc.PszToIndex(LargeMax + 1));
    }

    [Fact]
    public void PageSizeClassRoundTrips()
    {
        // size_classes.c test_psize_classes, up to the sentinel LargeMax + PAGE.
        ulong maxPsz = LargeMax + Page;
        Assert.Equal(199, Sc.PszToIndex(maxPsz));
        ClassRoundTrip.Check(maxPsz, Sc.PszToIndex, Sc.IndexToPsz, Sc.PszRoundUp);
    }

    [Theory]
    [InlineData(LargeMax + 1)]
    [InlineData(0x8000000000000000UL)] // PTRDIFF_MAX + 1
    [InlineData(ulong.MaxValue)]
    public void PageSizeOverflow(ulong size)
    {
        Assert.Equal(199, Sc.PszToIndex(size));
        Assert.Equal(LargeMax + Page, Sc.PszRoundUp(size));
    }

    [Theory]
    // Section 7.4 examples, in pages: size -> floor / ceil / eset bin (psz2ind of the floor).
    [InlineData(0UL, 9UL, 8UL, 10UL, 7)]
    [InlineData(0UL, 11UL, 10UL, 12UL, 8)]
    [InlineData(0UL, 17UL, 16UL, 20UL, 11)]
    [InlineData(Page, 9UL, 9UL, 9UL, 8)]
    [InlineData(Page, 10UL, 9UL, 11UL, 8)]
    [InlineData(Page, 18UL, 17UL, 21UL, 12)]
    public void QuantizeExamples(ulong pad, ulong pages, ulong floorPages, ulong ceilPages, int bin)
    {
        ulong floor = Sc.PszQuantizeFloor(pages * Page, pad);
        Assert.Equal(floorPages * Page, floor);
        Assert.Equal(ceilPages * Page, Sc.PszQuantizeCeil(pages * Page, pad));
        Assert.Equal(bin, Sc.PszToIndex(floor));
    }

    [Theory]
    [MemberData(nameof(Pads))]
    public void SmallExtentSizesAreFixedPoints(ulong pad)
    {
        // extent_quantize.c test_small_extent_size: every slab size quantizes to itself.
        int bins = 0;
        for (int i = 0; i < Sc.Count && Sc[i].IsBin; i++, bins++)
        {
            ulong slab = (ulong)Sc[i].SlabPages * Page;
            Assert.Equal(slab, Sc.PszQuantizeFloor(slab, pad));
            Assert.Equal(slab, Sc.PszQuantizeCeil(slab, pad));
        }

        Assert.Equal(36, bins);
    }

    [Theory]
    [MemberData(nameof(Pads))]
    public void LargeExtentSizesAreFixedPoints(ulong pad)
    {
        // extent_quantize.c test_large_extent_size, with the pad as the extent's padding.
        ulong extentPrev = 0;
        ulong ceilPrev = 0;
        int first = 36;
        int count = Sc.Count - first;
        Assert.Equal(196, count);
        for (int i = 0; i < count; i++)
        {
            ulong extent = Sc[first + i].Size + pad;
            ulong floor = Sc.PszQuantizeFloor(extent, pad);
            ulong ceil = Sc.PszQuantizeCeil(extent, pad);
            Assert.Equal(extent, floor);
            Assert.Equal(extent, ceil);
            if (i > 0)
            {
                Assert.Equal(extentPrev, Sc.PszQuantizeFloor(extent - Page, pad));
                if (extentPrev < ceilPrev)
                {
                    Assert.Equal(ceilPrev, extent);
                }
            }

            if (i + 1 < count)
            {
                extentPrev = floor;
                ceilPrev = Sc.PszQuantizeCeil(extent + Page, pad);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pads))]
    public void QuantizeIsMonotonic(ulong pad)
    {
        // extent_quantize.c test_monotonic over 1 page .. 4 MiB.
        ulong floorPrev = 0;
        ulong ceilPrev = 0;
        for (ulong i = 1; i <= (4UL << 20) / Page; i++)
        {
            ulong size = i * Page;
            ulong floor = Sc.PszQuantizeFloor(size, pad);
            ulong ceil = Sc.PszQuantizeCeil(size, pad);
            Assert.True(floor <= size);
            Assert.True(ceil >= size);
            Assert.True(floorPrev <= floor);
            Assert.True(ceilPrev <= ceil);
            floorPrev = floor;
            ceilPrev = ceil;
        }
    }
}

using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>Slab-size overrides: a port of jemalloc 5.3's test/unit/sc.c (update_slab_size).</summary>
public class SlabSizeTests
{
    private const ulong Page = 4096;

    [Fact]
    public void ExcessivePagesAreClamped()
    {
        // sc.c: the tiny class asked for more pages than its region bitmap (512 bits) can map.
        SizeClasses sc = SizeClasses.Default;
        ulong tiny = sc.IndexToSize(0);
        Assert.Equal(8UL, tiny);
        ulong tooBig = (tiny * 512 + Page - 1) / Page + 1;
        SizeClasses updated = sc.WithSlabPages(tiny, tiny, (int)tooBig);
        Assert.True((ulong)updated[0].SlabPages < tooBig, "allowed excessive pages");
        Assert.Equal(1, updated.GetBin(0).SlabPages);
        Assert.True(updated.GetBin(0).RegionsPerSlab <= 512);
    }

    [Fact]
    public void OnePageHintIsKeptWhereValid()
    {
        // sc.c: a 1-page hint for every bin keeps 1 page for regions up to a page, more above.
        SizeClasses updated = SizeClasses.Default.WithSlabPages(1, 10 * Page, 1);
        for (int i = 0; i < updated.BinCount; i++)
        {
            ulong size = updated.IndexToSize(i);
            if (size <= Page)
            {
                Assert.Equal(1, updated[i].SlabPages);
            }
            else
            {
                Assert.True(updated[i].SlabPages > 1, "allowed invalid page size hint for " + size);
            }
        }

        // 48-byte regions in one page: 85 of them, the 16-byte tail unused.
        Assert.Equal(1, updated.GetBin(3).SlabPages);
        Assert.Equal(85, updated.GetBin(3).RegionsPerSlab);

        // 5120 bytes need two pages at least (one region, the rest unused).
        Assert.Equal(2, updated.GetBin(29).SlabPages);
        Assert.Equal(1, updated.GetBin(29).RegionsPerSlab);
    }

    [Fact]
    public void OnlyTheRangeChangesAndTheSourceStays()
    {
        SizeClasses sc = SizeClasses.Default;
        SizeClasses updated = sc.WithSlabPages(80, 112, 4);

        // 80, 96, 112 are classes 5, 6, 7 (5, 3 and 7 pages by default).
        Assert.Equal(4, updated.GetBin(5).SlabPages);
        Assert.Equal(4, updated.GetBin(6).SlabPages);
        Assert.Equal(4, updated.GetBin(7).SlabPages);
        Assert.Equal(4UL * Page, updated.GetBin(6).SlabSize);
        Assert.Equal(170, updated.GetBin(6).RegionsPerSlab);
        Assert.Equal(3, updated.GetBin(3).SlabPages);
        Assert.Equal(1, updated.GetBin(8).SlabPages);
        Assert.Equal(5, sc.GetBin(5).SlabPages);
        Assert.Equal(3, sc.GetBin(6).SlabPages);

        // Everything but slabs is the same table.
        Assert.Equal(sc.Count, updated.Count);
        Assert.Equal(sc.LargeMaxClass, updated.LargeMaxClass);
        Assert.Equal(sc.SizeToIndex(1000), updated.SizeToIndex(1000));
        Assert.Equal(sc.IndexToPsz(31), updated.IndexToPsz(31));
    }

    [Fact]
    public void RegionIndexStaysExactWithOverrides()
    {
        SizeClasses updated = SizeClasses.Default.WithSlabPages(1, 14336, 6);
        for (int b = 0; b < updated.BinCount; b++)
        {
            BinInfo bin = updated.GetBin(b);
            Assert.True((ulong)bin.RegionsPerSlab * bin.RegionSize <= bin.SlabSize);
            for (int r = 0; r < bin.RegionsPerSlab; r++)
            {
                Assert.Equal(r, bin.RegionIndex((uint)((ulong)r * bin.RegionSize)));
            }
        }
    }
}

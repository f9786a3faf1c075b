using System.Collections.Generic;
using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>
/// Eight and sixteen classes per doubling (<c>LgGroup</c> 3 and 4), which the ten-bit size index
/// allows, against a table computed here another way: the classes as the spacing rule states
/// them (every 2^lgQuantum up to 2^(lgQuantum + lgGroup), then 2^lgGroup evenly spaced classes in
/// each doubling), a slab as the fewest whole pages holding whole regions, found by counting.
/// </summary>
public class WideGroupTests
{
    public static IEnumerable<object[]> Sets() => new[]
    {
        new object[] { 4, 12, 3, 3 },
        new object[] { 4, 12, 4, 3 },
        new object[] { 3, 12, 4, 3 },
        new object[] { 4, 16, 3, 3 },
        new object[] { 5, 13, 4, 4 },
    };

    /// <summary>Every class size, ascending, below 2^63.</summary>
    private static List<ulong> ExpectedSizes(int lgQuantum, int lgGroup, int lgTinyMin)
    {
        var sizes = new List<ulong>();
        for (int lg = lgTinyMin; lg < lgQuantum; lg++) sizes.Add(1UL << lg);
        ulong quantum = 1UL << lgQuantum;
        for (ulong m = 1; m <= 1UL << lgGroup; m++) sizes.Add(m * quantum);
        for (int lgBase = lgQuantum + lgGroup; lgBase <= 62; lgBase++)
        {
            ulong spacing = 1UL << (lgBase - lgGroup);
            for (ulong n = 1; n <= 1UL << lgGroup; n++)
            {
                ulong size = (1UL << lgBase) + n * spacing;
                if (size >= 1UL << 63) break;
                sizes.Add(size);
            }
        }
        return sizes;
    }

    private static int SlabPagesByCounting(ulong size, ulong page)
    {
        int pages = 1;
        while ((ulong)pages * page % size != 0) pages++;
        return pages;
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void The_table_matches_the_independent_computation(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        List<ulong> expected = ExpectedSizes(lgQuantum, lgGroup, lgTinyMin);
        ulong page = 1UL << lgPage, smallLimit = 1UL << (lgPage + lgGroup);

        Assert.Equal(expected.Count, sc.Count);
        int bins = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            SizeClass c = sc[i];
            Assert.Equal(expected[i], c.Size);
            Assert.Equal(expected[i], sc.IndexToSize(i));
            Assert.Equal(expected[i] % page == 0, c.IsPageSizeClass);
            bool small = expected[i] < smallLimit;
            Assert.Equal(small, c.IsBin);
            if (!small) continue;
            bins++;
            int pages = SlabPagesByCounting(expected[i], page);
            Assert.Equal(pages, c.SlabPages);
            BinInfo bin = sc.GetBin(i);
            Assert.Equal((ulong)pages * page / expected[i], (ulong)bin.RegionsPerSlab);
        }
        Assert.Equal(bins, sc.BinCount);
        Assert.Equal(expected[bins - 1], sc.SmallMaxClass);
        Assert.Equal(expected[bins], sc.LargeMinClass);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Every_size_up_to_two_large_doublings_maps_to_the_smallest_class_that_holds_it(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var sc = new SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin);
        List<ulong> expected = ExpectedSizes(lgQuantum, lgGroup, lgTinyMin);
        int index = 0;
        ulong end = sc.LargeMinClass << 2;
        for (ulong size = 1; size <= end; size++)
        {
            while (expected[index] < size) index++;
            Assert.Equal(index, sc.SizeToIndex(size));
            Assert.Equal(expected[index], sc.RoundUp(size));
        }
    }

    [Theory]
    [InlineData(2, 5120)]
    [InlineData(3, 4608)]
    [InlineData(4, 4608)]
    public void SQLites_page_cache_entry_fits_closer_with_more_classes_per_doubling(int lgGroup, ulong classSize)
    {
        // 4,096 bytes of page, SQLite's per-page header and the page cache's own: 4,368 bytes.
        Assert.Equal(classSize, new SizeClasses(4, 12, lgGroup).RoundUp(4368));
    }
}

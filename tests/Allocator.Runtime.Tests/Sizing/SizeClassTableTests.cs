using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>
/// The generated table against the reference's sections 7.2 and 7.3 (jemalloc 5.3's sc.c and
/// bin_info.c for lg quantum 4, lg page 12, 64-bit).
/// </summary>
public class SizeClassTableTests
{
    private static readonly SizeClasses Sc = SizeClasses.Default;

    // Section 7.3: index, size, lg_base, lg_delta, ndelta, slab pages, regions (0/0 for large).
    private static readonly ulong[][] First48 =
    {
        new ulong[] { 0, 8, 3, 3, 0, 1, 512 }, new ulong[] { 1, 16, 3, 3, 1, 1, 256 },
        new ulong[] { 2, 32, 4, 4, 1, 1, 128 }, new ulong[] { 3, 48, 4, 4, 2, 3, 256 },
        new ulong[] { 4, 64, 4, 4, 3, 1, 64 }, new ulong[] { 5, 80, 6, 4, 1, 5, 256 },
        new ulong[] { 6, 96, 6, 4, 2, 3, 128 }, new ulong[] { 7, 112, 6, 4, 3, 7, 256 },
        new ulong[] { 8, 128, 6, 4, 4, 1, 32 }, new ulong[] { 9, 160, 7, 5, 1, 5, 128 },
        new ulong[] { 10, 192, 7, 5, 2, 3, 64 }, new ulong[] { 11, 224, 7, 5, 3, 7, 128 },
        new ulong[] { 12, 256, 7, 5, 4, 1, 16 }, new ulong[] { 13, 320, 8, 6, 1, 5, 64 },
        new ulong[] { 14, 384, 8, 6, 2, 3, 32 }, new ulong[] { 15, 448, 8, 6, 3, 7, 64 },
        new ulong[] { 16, 512, 8, 6, 4, 1, 8 }, new ulong[] { 17, 640, 9, 7, 1, 5, 32 },
        new ulong[] { 18, 768, 9, 7, 2, 3, 16 }, new ulong[] { 19, 896, 9, 7, 3, 7, 32 },
        new ulong[] { 20, 1024, 9, 7, 4, 1, 4 }, new ulong[] { 21, 1280, 10, 8, 1, 5, 16 },
        new ulong[] { 22, 1536, 10, 8, 2, 3, 8 }, new ulong[] { 23, 1792, 10, 8, 3, 7, 16 },
        new ulong[] { 24, 2048, 10, 8, 4, 1, 2 }, new ulong[] { 25, 2560, 11, 9, 1, 5, 8 },
        new ulong[] { 26, 3072, 11, 9, 2, 3, 4 }, new ulong[] { 27, 3584, 11, 9, 3, 7, 8 },
        new ulong[] { 28, 4096, 11, 9, 4, 1, 1 }, new ulong[] { 29, 5120, 12, 10, 1, 5, 4 },
        new ulong[] { 30, 6144, 12, 10, 2, 3, 2 }, new ulong[] { 31, 7168, 12, 10, 3, 7, 4 },
        new ulong[] { 32, 8192, 12, 10, 4, 2, 1 }, new ulong[] { 33, 10240, 13, 11, 1, 5, 2 },
        new ulong[] { 34, 12288, 13, 11, 2, 3, 1 }, new ulong[] { 35, 14336, 13, 11, 3, 7, 2 },
        new ulong[] { 36, 16384, 13, 11, 4, 0, 0 }, new ulong[] { 37, 20480, 14, 12, 1, 0, 0 },
        new ulong[] { 38, 24576, 14, 12, 2, 0, 0 }, new ulong[] { 39, 28672, 14, 12, 3, 0, 0 },
        new ulong[] { 40, 32768, 14, 12, 4, 0, 0 }, new ulong[] { 41, 40960, 15, 13, 1, 0, 0 },
        new ulong[] { 42, 49152, 15, 13, 2, 0, 0 }, new ulong[] { 43, 57344, 15, 13, 3, 0, 0 },
        new ulong[] { 44, 65536, 15, 13, 4, 0, 0 }, new ulong[] { 45, 81920, 16, 14, 1, 0, 0 },
        new ulong[] { 46, 98304, 16, 14, 2, 0, 0 }, new ulong[] { 47, 114688, 16, 14, 3, 0, 0 },
    };

    [Fact]
    public void CountsMatchReference()
    {
        // Section 7.2.
        Assert.Equal(1, Sc.NTiny);
        Assert.Equal(4, Sc.NPseudo);
        Assert.Equal(227, Sc.NRegular);
        Assert.Equal(232, Sc.Count);
        Assert.Equal(36, Sc.BinCount);
        Assert.Equal(196, Sc.LargeClassCount);
        Assert.Equal(199, Sc.PageSizeClassCount);
        Assert.Equal(29, Sc.LookupClassCount);
        Assert.Equal(4096UL, Sc.LookupMaxClass);
        Assert.Equal(14336UL, Sc.SmallMaxClass);
        Assert.Equal(16384UL, Sc.LargeMinClass);
        Assert.Equal(0x7000000000000000UL, Sc.LargeMaxClass);
        Assert.Equal(512, Sc.SlabMaxRegions);
        Assert.Equal(513, Sc.SizeToIndexTableLength);
        Assert.Equal(16UL, Sc.Quantum);
        Assert.Equal(4096UL, Sc.LargePad);
    }

    [Fact]
    public void First48ClassesMatchReference()
    {
        foreach (ulong[] row in First48)
        {
            int i = (int)row[0];
            SizeClass sc = Sc[i];
            Assert.Equal(i, sc.Index);
            Assert.Equal(row[1], sc.Size);
            Assert.Equal(row[1], Sc.IndexToSize(i));
            Assert.Equal((int)row[2], sc.LgBase);
            Assert.Equal((int)row[3], sc.LgDelta);
            Assert.Equal((int)row[4], sc.NDelta);
            Assert.Equal(row[5] != 0, sc.IsBin);
            Assert.Equal((int)row[5], sc.SlabPages);

            // psz: page multiples (4096, 8192, 12288 among the bins; everything from 36 on).
            Assert.Equal(row[1] % 4096 == 0, sc.IsPageSizeClass);
            Assert.Equal(row[1] <= 4096 ? (int)row[3] : 0, sc.LgDeltaLookup);
            if (sc.IsBin)
            {
                BinInfo bin = Sc.GetBin(i);
                Assert.Equal(row[1], bin.RegionSize);
                Assert.Equal((int)row[5], bin.SlabPages);
                Assert.Equal(row[5] * 4096, bin.SlabSize);
                Assert.Equal((int)row[6], bin.RegionsPerSlab);
                Assert.Equal(i, bin.SizeIndex);
            }
        }
    }

    [Fact]
    public void ClassesAboveTheFirst48()
    {
        // Every class from 36 on is a page multiple and large; the last one is the large max.
        for (int i = 36; i < Sc.Count; i++)
        {
            Assert.True(Sc[i].IsPageSizeClass);
            Assert.False(Sc[i].IsBin);
            Assert.Equal(0, Sc[i].SlabPages);
        }

        SizeClass last = Sc[231];
        Assert.Equal(62, last.LgBase);
        Assert.Equal(60, last.LgDelta);
        Assert.Equal(3, last.NDelta);
        Assert.Equal(0x7000000000000000UL, last.Size);
    }

    [Fact]
    public void SlabSizesUsed()
    {
        // Section 7.3: the bins use slabs of 1, 2, 3, 5 and 7 pages only.
        var used = new System.Collections.Generic.SortedSet<int>();
        for (int i = 0; i < Sc.BinCount; i++)
        {
            used.Add(Sc.GetBin(i).SlabPages);
        }

        Assert.Equal(new[] { 1, 2, 3, 5, 7 }, used);
    }
}

using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>
/// Size to index and rounding: a port of jemalloc 5.3's test/unit/size_classes.c
/// (test_size_classes, test_overflow) plus sz_sa2u cases worked out from the reference's 7.5.
/// </summary>
public class SizeIndexTests
{
    private const ulong LargeMax = 0x7000000000000000UL;
    private static readonly SizeClasses Sc = SizeClasses.Default;

    [Fact]
    public void EveryIndexRoundTrips()
    {
        // size_classes.c test_size_classes, up to the largest class.
        ulong maxSizeClass = Sc.IndexToSize(Sc.Count - 1);
        Assert.Equal(LargeMax, maxSizeClass);
        Assert.Equal(231, Sc.SizeToIndex(maxSizeClass));
        ClassRoundTrip.Check(maxSizeClass, Sc.SizeToIndex, Sc.IndexToSize, Sc.RoundUp);
    }

    [Theory]
    [InlineData(LargeMax + 1)]
    [InlineData(0x8000000000000000UL)] // PTRDIFF_MAX + 1
    [InlineData(ulong.MaxValue)]
    public void Overflow(ulong size)
    {
        Assert.Equal(232, Sc.SizeToIndex(size));
        Assert.Equal(0UL, Sc.RoundUp(size));
    }

    [Theory]
    // Section 7.5: 0 -> 1 -> the 8-byte class; the lookup table's edges; the arithmetic above it.
    [InlineData(0UL, 0, 8UL)]
    [InlineData(1UL, 0, 8UL)]
    [InlineData(8UL, 0, 8UL)]
    [InlineData(9UL, 1, 16UL)]
    [InlineData(17UL, 2, 32UL)]
    [InlineData(65UL, 5, 80UL)]
    [InlineData(4095UL, 28, 4096UL)]
    [InlineData(4096UL, 28, 4096UL)]
    [InlineData(4097UL, 29, 5120UL)]
    [InlineData(14336UL, 35, 14336UL)]
    [InlineData(14337UL, 36, 16384UL)]
    [InlineData(16385UL, 37, 20480UL)]
    [InlineData(114689UL, 48, 131072UL)]
    public void KnownSizes(ulong size, int index, ulong usable)
    {
        Assert.Equal(index, Sc.SizeToIndex(size));
        Assert.Equal(usable, Sc.RoundUp(size));
    }

    [Fact]
    public void LookupTableAgreesWithArithmetic()
    {
        // The table (entries of 8 bytes) must give what sz_size2index_compute / sz_s2u_compute give.
        for (ulong size = 0; size <= Sc.LookupMaxClass; size++)
        {
            Assert.Equal(Sc.SizeToIndexCompute(size), Sc.SizeToIndex(size));
            Assert.Equal(Sc.RoundUpCompute(size), Sc.RoundUp(size));
        }

        for (int i = 0; i < Sc.Count; i++)
        {
            Assert.Equal(Sc.IndexToSizeCompute(i), Sc.IndexToSize(i));
        }
    }

    [Fact]
    public void LookupTableShape()
    {
        // Section 7.5: entry j covers (8(j - 1), 8j]; 513 entries for 4096 bytes.
        byte[] table = Sc.GetSizeToIndexTable();
        Assert.Equal(513, table.Length);
        Assert.Equal(0, table[0]);
        Assert.Equal(0, table[1]);
        Assert.Equal(1, table[2]);
        Assert.Equal(2, table[3]);
        Assert.Equal(2, table[4]);
        Assert.Equal(3, table[5]);
        Assert.Equal(28, table[512]);
        Assert.Equal(table[100], Sc.SizeToIndexTableEntry(100));

        // A copy: changing it leaves the instance alone.
        table[512] = 0;
        Assert.Equal(28, Sc.SizeToIndexTableEntry(512));
    }

    [Theory]
    // Small path: round up to the alignment, then to a class, if that stays small.
    [InlineData(100UL, 64UL, 128UL)]
    [InlineData(1UL, 4096UL, 4096UL)]
    [InlineData(0UL, 8UL, 8UL)]
    [InlineData(10000UL, 4096UL, 12288UL)]
    [InlineData(14336UL, 16UL, 14336UL)]
    [InlineData(3000UL, 1024UL, 3072UL)]
    // Large path: at least the large minimum, or the large class of the size.
    [InlineData(13000UL, 4096UL, 16384UL)]
    [InlineData(14337UL, 16UL, 16384UL)]
    [InlineData(100UL, 8192UL, 16384UL)]
    [InlineData(20000UL, 65536UL, 20480UL)]
    [InlineData(LargeMax, 4096UL, LargeMax)]
    [InlineData(LargeMax, 0x4000000000000000UL, LargeMax)]
    // Unservable: too large, alignment above the large max, alignment not a power of two.
    [InlineData(LargeMax + 1, 16UL, 0UL)]
    [InlineData(ulong.MaxValue, 16UL, 0UL)]
    [InlineData(16UL, 0x8000000000000000UL, 0UL)]
    [InlineData(16UL, 0UL, 0UL)]
    [InlineData(16UL, 24UL, 0UL)]
    public void SizeAlignToUsable(ulong size, ulong alignment, ulong expected)
    {
        Assert.Equal(expected, Sc.SizeAlignToUsable(size, alignment));
        Assert.Equal(expected, Sc.SizeAlignToUsable(size, alignment, 0));
    }

    [Fact]
    public void SizeAlignToUsableIsAlignedAndLargeEnough()
    {
        // Every small result is a class whose lowest set bit covers the alignment.
        for (int lgAlign = 0; lgAlign <= 12; lgAlign++)
        {
            ulong alignment = 1UL << lgAlign;
            for (ulong size = 1; size <= 20000; size += 7)
            {
                ulong usize = Sc.SizeAlignToUsable(size, alignment);
                Assert.True(usize >= size);
                Assert.Equal(usize, Sc.RoundUp(usize));
                if (usize < Sc.LargeMinClass)
                {
                    Assert.Equal(0UL, (usize & (0 - usize)) % alignment);
                }
            }
        }
    }
}

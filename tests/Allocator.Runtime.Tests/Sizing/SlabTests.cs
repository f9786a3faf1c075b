using System;
using Allocator.Sizing;

namespace Allocator.Tests.Sizing;

/// <summary>
/// Region index by multiply-shift: a port of jemalloc 5.3's test/unit/slab.c (and the idea of
/// test/unit/div.c) over the default classes.
/// </summary>
public class SlabTests
{
    [Fact]
    public void RegionIndexIsExactForEveryRegionOfEveryBin()
    {
        SizeClasses sc = SizeClasses.Default;
        for (int b = 0; b < sc.BinCount; b++)
        {
            BinInfo bin = sc.GetBin(b);
            for (int r = 0; r < bin.RegionsPerSlab; r++)
            {
                Assert.Equal(r, bin.RegionIndex((uint)((ulong)r * bin.RegionSize)));
            }
        }
    }

    [Theory]
    // ceil(2^32 / d): exact for powers of two, rounded up otherwise.
    [InlineData(2u, 2147483648u)]
    [InlineData(3u, 1431655766u)]
    [InlineData(8u, 536870912u)]
    [InlineData(48u, 89478486u)]
    [InlineData(14336u, 299594u)]
    public void Magic(uint divisor, uint magic)
    {
        Assert.Equal(magic, new DivInfo(divisor).Magic);
        Assert.Equal(divisor, new DivInfo(divisor).Divisor);
    }

    [Fact]
    public void DivideIsExactForMultiples()
    {
        for (uint d = 2; d < 1000; d++)
        {
            var div = new DivInfo(d);
            for (uint q = 0; q < 1000; q++)
            {
                Assert.Equal(q, div.Divide(q * d));
            }

            // And for the largest multiple below 2^32.
            uint top = uint.MaxValue / d;
            Assert.Equal(top, div.Divide(top * d));
        }
    }

    [Theory]
    [InlineData(4, 12)]
    [InlineData(4, 14)]
    [InlineData(4, 16)]
    [InlineData(3, 12)]
    public void IsMultipleSaysRegionStartForEveryByteOfEverySlab(int lgQuantum, int lgPage)
    {
        // The free path's region-start test, byte by byte over one slab of every bin, against a remainder.
        var sc = new SizeClasses(lgQuantum, lgPage);
        for (int b = 0; b < sc.BinCount; b++)
        {
            BinInfo bin = sc.GetBin(b);
            for (uint offset = 0; offset < bin.SlabSize; offset++)
            {
                if (bin.Div.IsMultiple(offset) != (offset % bin.RegionSize == 0))
                    Assert.Fail($"IsMultiple({offset}) by {bin.RegionSize} is {bin.Div.IsMultiple(offset)}");
            }
        }
    }

    [Fact]
    public void IsMultipleIsExactAtTheEndsOfTheRange()
    {
        foreach (uint d in new uint[] { 2, 3, 7, 48, 14336, 1u << 20, 3u << 20, (1u << 31) - 1 })
        {
            var div = new DivInfo(d);
            Assert.Equal(ulong.MaxValue / d + 1, div.MultipleMagic);
            uint top = uint.MaxValue / d * d;
            Assert.True(div.IsMultiple(0));
            Assert.True(div.IsMultiple(d));
            Assert.True(div.IsMultiple(top));
            Assert.False(div.IsMultiple(1));
            Assert.False(div.IsMultiple(d - 1));
            Assert.False(div.IsMultiple(d + 1));
            Assert.False(div.IsMultiple(top - 1));
            if (top != uint.MaxValue) Assert.False(div.IsMultiple(top + 1));
        }
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    public void DivisorBelowTwoIsRejected(uint divisor)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DivInfo(divisor));
    }

    [Fact]
    public void DivInfoEquality()
    {
        Assert.True(new DivInfo(48) == new DivInfo(48));
        Assert.True(new DivInfo(48) != new DivInfo(80));
        Assert.Equal(new DivInfo(48).GetHashCode(), new DivInfo(48).GetHashCode());
    }
}

using Allocator.Metadata;

namespace Allocator.Tests.Metadata;

/// <summary>
/// The packed fields of <see cref="Edata"/>: the size index holds every index up to
/// <see cref="Edata.NoSizeIndex"/> (the largest configuration numbers 911 classes) without
/// touching the fields packed beside it.
/// </summary>
public unsafe class EdataFieldTests
{
    [Fact]
    public void Every_size_index_round_trips_and_leaves_the_other_fields_alone()
    {
        Edata e = default;
        e.Init(0xABC, (void*)0x1000_0000, 0x4000, slab: true, 0, serialNumber: 7, ExtentState.Muzzy, zeroed: true, committed: true, isHead: true);
        e.FreeRegions = 0x3FF;
        e.BinShard = 0x3F;
        e.IsGuarded = true;
        e.IsHugePageAllocated = true;
        e.IsProfiled = true;
        e.IsInThreadCache = true;
        for (int index = 0; index <= Edata.NoSizeIndex; index++)
        {
            e.SizeIndex = index;
            Assert.Equal(index, e.SizeIndex);
            Assert.Equal(0xABCu, e.ArenaIndex);
            Assert.Equal(ExtentState.Muzzy, e.State);
            Assert.Equal(0x3FF, e.FreeRegions);
            Assert.Equal(0x3F, e.BinShard);
            Assert.True(e.IsSlab && e.IsZeroed && e.IsCommitted && e.IsHead && e.IsGuarded && e.IsHugePageAllocated && e.IsProfiled && e.IsInThreadCache);
        }

        // And the neighbours' widest values do not leak into the index.
        e.SizeIndex = 0;
        e.FreeRegions = 0;
        e.FreeRegions = 0x3FF;
        e.State = ExtentState.Retained;
        Assert.Equal(0, e.SizeIndex);
    }

    [Fact]
    public void NoSizeIndex_is_above_the_largest_index_a_configuration_numbers()
    {
        // 16 classes per doubling over an 8-byte quantum: the most classes any accepted configuration has.
        var widest = new Allocator.Sizing.SizeClasses(3, 12, Allocator.Sizing.SizeClasses.MaxLgGroup, 3);
        Assert.Equal(911, widest.Count);
        Assert.True(widest.Count - 1 < Edata.NoSizeIndex);
        Assert.True(widest.Count <= Allocator.Sizing.SizeClasses.MaxClassCount);
    }
}

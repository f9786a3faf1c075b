namespace Allocator.Sizing;

/// <summary>
/// Slab geometry of one small size class (jemalloc's bin_info_t): regions of
/// <see cref="RegionSize"/> bytes packed into a slab of <see cref="SlabSize"/> bytes.
/// </summary>
public readonly struct BinInfo
{
    /// <summary>Creates the geometry for a bin; <see cref="SizeClasses"/> is the intended caller.</summary>
    /// <param name="sizeIndex">The size class (and bin) index.</param>
    /// <param name="regionSize">Bytes per region, the class size.</param>
    /// <param name="slabPages">Pages per slab.</param>
    /// <param name="pageSize">The page size in bytes.</param>
    public BinInfo(int sizeIndex, ulong regionSize, int slabPages, ulong pageSize)
    {
        SizeIndex = sizeIndex;
        RegionSize = regionSize;
        SlabPages = slabPages;
        SlabSize = (ulong)slabPages * pageSize;
        RegionsPerSlab = (int)(SlabSize / regionSize);
        Div = new DivInfo((uint)regionSize);
    }

    /// <summary>The size class index, which is also the bin index.</summary>
    public int SizeIndex { get; }

    /// <summary>Bytes per region.</summary>
    public ulong RegionSize { get; }

    /// <summary>Pages per slab.</summary>
    public int SlabPages { get; }

    /// <summary>Bytes per slab.</summary>
    public ulong SlabSize { get; }

    /// <summary>Regions per slab (jemalloc's nregs): slab size over region size, rounded down.</summary>
    public int RegionsPerSlab { get; }

    /// <summary>Divides a region's byte offset by the region size without a divide instruction.</summary>
    public DivInfo Div { get; }

    /// <summary>
    /// Index of the region that starts <paramref name="offset"/> bytes into its slab
    /// (jemalloc's arena_slab_regind).
    /// </summary>
    /// <param name="offset">Byte offset of a region start from the slab's start.</param>
    public int RegionIndex(uint offset) => (int)Div.Divide(offset);
}

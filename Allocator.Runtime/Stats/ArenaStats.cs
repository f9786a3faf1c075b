using System.Collections.Generic;
using Allocator.PageAllocators;

namespace Allocator;

/// <summary>Counters of one small size class's bin.</summary>
/// <param name="SizeIndex">The size class index.</param>
/// <param name="RegionSize">Bytes per region.</param>
/// <param name="RegionsPerSlab">Regions in one slab.</param>
/// <param name="SlabSize">Bytes per slab.</param>
/// <param name="Allocations">Regions taken from slabs (thread-cache fills included).</param>
/// <param name="Deallocations">Regions returned to slabs.</param>
/// <param name="CurrentRegions">Regions out of their slabs now (in use or in a thread cache).</param>
/// <param name="Slabs">Slabs ever created.</param>
/// <param name="CurrentSlabs">Slabs now.</param>
/// <param name="Fills">Thread-cache fills.</param>
/// <param name="Flushes">Thread-cache flushes.</param>
public readonly record struct BinStats(int SizeIndex, long RegionSize, int RegionsPerSlab, long SlabSize, long Allocations,
    long Deallocations, long CurrentRegions, long Slabs, long CurrentSlabs, long Fills, long Flushes);

/// <summary>Counters of one large size class.</summary>
/// <param name="SizeIndex">The size class index.</param>
/// <param name="Size">Bytes of the class.</param>
/// <param name="Allocations">Extents allocated.</param>
/// <param name="Deallocations">Extents freed.</param>
/// <param name="Current">Extents live now (in use or in a thread cache).</param>
public readonly record struct LargeClassStats(int SizeIndex, long Size, long Allocations, long Deallocations, long Current);

/// <summary>
/// A snapshot of an arena: its page allocator's figures plus per-bin and per-large-class counters.
/// Counters are read without stopping the arena, so totals are consistent only when it is idle.
/// </summary>
public sealed class ArenaStats
{
    internal ArenaStats(uint index, PageAllocatorStats pages, IReadOnlyList<BinStats> bins, IReadOnlyList<LargeClassStats> large)
    {
        Index = index;
        Pages = pages;
        Bins = bins;
        LargeClasses = large;
        foreach (BinStats b in bins) AllocatedSmall += b.CurrentRegions * b.RegionSize;
        foreach (LargeClassStats l in large) AllocatedLarge += l.Current * l.Size;
    }

    /// <summary>The arena's index.</summary>
    public uint Index { get; }

    /// <summary>The page allocator's figures.</summary>
    public PageAllocatorStats Pages { get; }

    /// <summary>Bytes in small regions out of their slabs (thread caches included).</summary>
    public long AllocatedSmall { get; }

    /// <summary>Bytes in large extents live (thread caches included).</summary>
    public long AllocatedLarge { get; }

    /// <summary>Bytes allocated: <see cref="AllocatedSmall"/> + <see cref="AllocatedLarge"/>.</summary>
    public long Allocated => AllocatedSmall + AllocatedLarge;

    /// <summary>Bytes in active extents (slabs and large).</summary>
    public long Active => Pages.Active;

    /// <summary>Derived: the page allocator's mapped bytes plus metadata.</summary>
    public long Mapped => Pages.Mapped;

    /// <summary>Bytes of dirty pages.</summary>
    public long Dirty => Pages.Dirty;

    /// <summary>Bytes of muzzy pages.</summary>
    public long Muzzy => Pages.Muzzy;

    /// <summary>Bytes of retained address space.</summary>
    public long Retained => Pages.Retained;

    /// <summary>Bytes that may occupy RAM: active, dirty and touched metadata.</summary>
    public long Resident => Pages.Resident;

    /// <summary>Per small size class.</summary>
    public IReadOnlyList<BinStats> Bins { get; }

    /// <summary>Per large size class that was ever used.</summary>
    public IReadOnlyList<LargeClassStats> LargeClasses { get; }

    /// <summary>The statistics as JSON (see <see cref="StatsJson"/>).</summary>
    public string ToJson() => StatsJson.ToJson(this);

    /// <summary>A malloc_stats_print-style text report.</summary>
    public override string ToString() => StatsPrinter.ToText(this);
}

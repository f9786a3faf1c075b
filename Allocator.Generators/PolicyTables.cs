using System.Collections.Generic;
using System.Linq;
using Allocator.Sizing;

namespace Allocator.Generators;

/// <summary>
/// The data baked into a policy, computed at compile time by the runtime's own
/// <see cref="SizeClasses"/> (linked source), plus the guarded-cache sizing derived from it.
/// </summary>
internal sealed class PolicyTables
{
    private PolicyTables(ArenaSettings settings)
    {
        var classes = new SizeClasses(settings.LgQuantum, settings.LgPage, settings.LgGroup, settings.LgTinyMin);
        Classes = classes;
        ClassSizes = Enumerable.Range(0, classes.Count).Select(classes.IndexToSize).ToArray();
        SizeToIndexLookup = classes.GetSizeToIndexTable();
        var bins = Enumerable.Range(0, classes.BinCount).Select(classes.GetBin).ToArray();
        BinRegionSizes = bins.Select(static b => b.RegionSize).ToArray();
        BinSlabSizes = bins.Select(static b => b.SlabSize).ToArray();
        BinRegionsPerSlab = bins.Select(static b => (uint)b.RegionsPerSlab).ToArray();
        BinDivMagic = bins.Select(static b => b.Div.Magic).ToArray();
        DistinctSlabSizes = BinSlabSizes.Distinct().OrderBy(static s => s).ToArray();

        // Only guarded slabs are cached (guarded large extents are unguarded when freed), by exact
        // size. With retain, slabs come from the bump allocator with one guard page after them;
        // without it, each guarded extent gets a guard page on both sides.
        GuardPagesPerSlab = settings.Retain ? 1 : 2;
        GuardedExtentSizes = settings.GuardSmallEvery == 0
            ? []
            : DistinctSlabSizes.Select(s => s + ((ulong)GuardPagesPerSlab * classes.PageSize)).ToArray();
    }

    public SizeClasses Classes { get; }

    /// <summary>Class size by size index.</summary>
    public ulong[] ClassSizes { get; }

    /// <summary>Size index by <c>(size + 2^LgTinyMin - 1) &gt;&gt; LgTinyMin</c>, for sizes up to LookupMaxClass.</summary>
    public byte[] SizeToIndexLookup { get; }

    /// <summary>Region size of each small bin (bin index = size index).</summary>
    public ulong[] BinRegionSizes { get; }

    /// <summary>Slab extent size of each small bin.</summary>
    public ulong[] BinSlabSizes { get; }

    /// <summary>Regions in one slab of each small bin.</summary>
    public uint[] BinRegionsPerSlab { get; }

    /// <summary>Multiplier that turns a region offset into a region index without dividing, per bin.</summary>
    public uint[] BinDivMagic { get; }

    /// <summary>Each slab size once, ascending.</summary>
    public ulong[] DistinctSlabSizes { get; }

    /// <summary>Guard pages around one guarded slab.</summary>
    public int GuardPagesPerSlab { get; }

    /// <summary>Footprints (slab + guard pages) the guarded cache holds, ascending; empty without small guards.</summary>
    public ulong[] GuardedExtentSizes { get; }

    /// <summary>The largest extent the guarded cache takes, or 0 when it is not used.</summary>
    public ulong GuardedCacheMaxExtentSize => GuardedExtentSizes.Length == 0 ? 0 : GuardedExtentSizes[GuardedExtentSizes.Length - 1];

    public static PolicyTables For(ArenaSettings settings) => new(settings);

    public static IEnumerable<string> Pages(IEnumerable<ulong> sizes, ulong pageSize) =>
        sizes.Select(s => (s / pageSize).ToString(System.Globalization.CultureInfo.InvariantCulture));
}

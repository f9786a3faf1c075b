using System;
using Allocator.Sizing;

namespace Allocator;

/// <summary>
/// Checks, once per arena, that the tables a generated policy carries are the ones this runtime
/// computes for its parameters. They can only differ when the generator that wrote them came from
/// another version of the package; the arena would then misplace blocks, so it refuses to start.
/// </summary>
internal static class GeneratedTables
{
    public static void Check<TPolicy>(SizeClasses classes) where TPolicy : struct, IArenaPolicy
    {
        ReadOnlySpan<ulong> sizes = TPolicy.ClassSizes;
        ReadOnlySpan<byte> lookup = TPolicy.SizeToIndexLookup;
        ReadOnlySpan<ulong> regions = TPolicy.BinRegionSizes;
        ReadOnlySpan<uint> magic = TPolicy.BinDivMagic;
        if (sizes.Length != classes.Count) throw Mismatch<TPolicy>("the number of size classes");
        if (lookup.Length != classes.SizeToIndexTableLength) throw Mismatch<TPolicy>("the length of the size-to-index lookup");
        if (regions.Length != classes.BinCount || magic.Length != classes.BinCount) throw Mismatch<TPolicy>("the number of bins");
        for (int i = 0; i < sizes.Length; i++)
        {
            if (sizes[i] != classes.IndexToSize(i)) throw Mismatch<TPolicy>($"the size of class {i}");
        }

        for (int i = 0; i < lookup.Length; i++)
        {
            if (lookup[i] != classes.SizeToIndexTableEntry(i)) throw Mismatch<TPolicy>($"lookup slot {i}");
        }

        for (int i = 0; i < regions.Length; i++)
        {
            BinInfo bin = classes.GetBin(i);
            if (regions[i] != bin.RegionSize) throw Mismatch<TPolicy>($"the region size of bin {i}");
            if (magic[i] != bin.Div.Magic) throw Mismatch<TPolicy>($"the division magic of bin {i}");
        }
    }

    private static InvalidOperationException Mismatch<TPolicy>(string what) =>
        new($"The tables generated for {typeof(TPolicy)} disagree with this runtime's size classes ({what}). " +
            "The generator and Allocator.Runtime come from different versions: rebuild the project against one package.");
}

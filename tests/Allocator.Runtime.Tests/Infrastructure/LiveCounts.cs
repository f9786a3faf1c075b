using System;
using System.Collections.Generic;
using System.Linq;
using Allocator.Sizing;

namespace Allocator.Tests.Infrastructure;

/// <summary>
/// An arena's per-class live counts against the blocks a test holds. The test's side is classed
/// by the size table from the requested sizes, not by asking the arena, so a lost free, a double
/// count or a leak shows as a class whose numbers differ.
/// </summary>
public static class LiveCounts
{
    private static readonly SizeClasses Classes = SizeClasses.Default;

    /// <summary>
    /// Throws unless every class of <paramref name="arena"/> (default size classes) has exactly as
    /// many current regions or large extents as <paramref name="heldSizes"/> has sizes of that class.
    /// Blocks in a thread cache count as live: flush the caches (Purge on each thread) first.
    /// </summary>
    public static void Expect(Arena arena, IEnumerable<nuint> heldSizes, string where)
    {
        var expected = new Dictionary<int, long>();
        foreach (nuint size in heldSizes)
        {
            int index = Classes.SizeToIndex(size == 0 ? 1 : size);
            expected[index] = expected.GetValueOrDefault(index) + 1;
        }

        ArenaStats stats = arena.GetStats();
        var actual = new Dictionary<int, long>();
        foreach (BinStats b in stats.Bins) if (b.CurrentRegions != 0) actual[b.SizeIndex] = b.CurrentRegions;
        foreach (LargeClassStats l in stats.LargeClasses) if (l.Current != 0) actual[l.SizeIndex] = l.Current;
        foreach (int index in expected.Keys.Union(actual.Keys).Order())
        {
            long want = expected.GetValueOrDefault(index), have = actual.GetValueOrDefault(index);
            if (want != have)
                throw new InvalidOperationException($"{where}: class {index} ({Classes.IndexToSize(index)} bytes) has {have} live blocks in the stats, the test holds {want}");
        }
    }
}

using System.Collections.Generic;
using System.Globalization;
using Allocator.Generators.Model;

namespace Allocator.Generators;

/// <summary>Says in words what a policy does, for the generated <c>&lt;remarks&gt;</c>.</summary>
internal static class PolicyDescription
{
    public static IEnumerable<string> Describe(ArenaSpec spec, PolicyTables tables)
    {
        var s = spec.Settings;
        yield return s.Retain
            ? "Retains address space: freed extents stay mapped (retained) and are reused before the OS is asked for more."
            : "Does not retain address space: extents that decay past muzzy are unmapped.";

        // With no muzzy stage (muzzy decay 0) dirty pages are purged for good, not lazily.
        var dirtyTarget = s.MuzzyDecayMs == 0 ? "purged" : "purged lazily (muzzy)";
        yield return s.DirtyDecayMs switch
        {
            -1 => "Dirty pages never decay; they stay resident until purged explicitly.",
            0 => $"Dirty pages are {dirtyTarget} as soon as they are freed.",
            _ => $"Dirty pages are {dirtyTarget} gradually over {Duration(s.DirtyDecayMs)}.",
        };

        yield return s.MuzzyDecayMs switch
        {
            -1 => "Muzzy pages never decay further.",
            0 => "No muzzy stage: decayed dirty pages are purged for good at once.",
            _ => $"Muzzy pages are purged for good gradually over {Duration(s.MuzzyDecayMs)}.",
        };

        yield return $"Freed extents of {Bytes(s.OversizeThreshold)} or more are purged at once.";

        yield return s.LgExtentMaxActiveFit >= 63
            ? "A cached dirty extent may be split for a request of any size."
            : $"A cached dirty extent is never split for a request more than {(1L << s.LgExtentMaxActiveFit).ToString(CultureInfo.InvariantCulture)} times smaller.";

        yield return $"Size classes: quantum {Bytes(1L << s.LgQuantum)}, pages of {Bytes(1L << s.LgPage)}, {1 << s.LgGroup} classes per doubling, smallest class {Bytes(1L << s.LgTinyMin)}.";

        var c = tables.Classes;
        yield return $"{c.Count} size classes: {c.BinCount} small ones up to {Bytes((long)c.SmallMaxClass)} served from slabs of {List(PolicyTables.Pages(tables.DistinctSlabSizes, c.PageSize))} pages, large ones from {Bytes((long)c.LargeMinClass)}.";

        yield return Guards(s.GuardSmallEvery, "slab") + " " + Guards(s.GuardLargeEvery, "large extent");

        if (s.GuardSmallEvery != 0 || s.GuardLargeEvery != 0)
        {
            yield return $"No new guard page is made once the guards of all arenas use {(s.GuardMappingShare * 100).ToString("0.###", CultureInfo.InvariantCulture)}% of the process's mapping limit (vm.max_map_count).";
        }

        yield return tables.GuardedExtentSizes.Length == 0
            ? "No guarded extent cache: no slab is guarded."
            : $"Guarded slabs are reused without a protection call from a guarded cache of {tables.GuardedExtentSizes.Length} exact-size bins, holding extents of {List(PolicyTables.Pages(tables.GuardedExtentSizes, c.PageSize))} pages ({(tables.GuardPagesPerSlab == 1 ? "slab plus one guard page after it" : "slab plus a guard page on each side")}), at most {Bytes((long)tables.GuardedCacheMaxExtentSize)} each.";

        yield return s.ThreadCache
            ? "Each thread caches recently freed regions."
            : "No thread cache: every small allocation goes to its bin.";

        yield return s.DebugChecks
            ? "Debug checks on: every free is checked against the slab bitmap, so a double free is caught at once."
            : "Debug checks off.";

        if (s.LeakReport)
        {
            yield return "Leak reports on: every block is sampled, and Dispose reports the blocks still allocated by site.";
        }
        else if (s.ProfileSampleBytes != 0)
        {
            yield return s.ProfileSampleBytes == 1
                ? "Heap profiling samples every block."
                : $"Heap profiling samples on average every {Bytes(s.ProfileSampleBytes)} allocated.";
        }

        if (s.HugePages != HugePageMode.Off)
        {
            yield return HugePages(s, spec.HooksTypeName is not null);
        }

        yield return spec.HooksTypeName is null
            ? "Extents come from the default OS hooks."
            : $"Extents come from a new {spec.HooksTypeName} per arena.";
    }

    private static string HugePages(ArenaSettings s, bool customHooks)
    {
        if (customHooks)
        {
            return "Huge pages are declared but unused: custom hooks supply the memory.";
        }

        var how = s.HugePages == HugePageMode.Eager
            ? "each marked for huge pages when it is mapped"
            : $"each made huge once {Percent(s.HugificationThreshold)} of it has been in use for {Duration(s.HugifyDelayMs)}";
        var interval = s.HugePageMinPurgeIntervalMs == 0 ? string.Empty : $", at most once every {Duration(s.HugePageMinPurgeIntervalMs)}";
        var dirty = s.HugePageDirtyMult < 0
            ? "dirty pageslab pages are not limited"
            : $"dirty pageslab pages above {Percent(s.HugePageDirtyMult)} of the active ones are purged{interval}";
        return $"Extents of up to 64 KiB come from 2 MiB pageslabs, {how}; {dirty}.";
    }

    private static string Percent(double ratio) => (ratio * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";

    private static string List(IEnumerable<string> items)
    {
        var all = new List<string>(items);
        return all.Count <= 1 ? string.Join(string.Empty, all) : string.Join(", ", all.GetRange(0, all.Count - 1)) + " and " + all[all.Count - 1];
    }

    private static string Guards(int every, string what) => every switch
    {
        0 => $"No {what} is guarded.",
        1 => $"Every {what} has guard pages.",
        _ => $"Every {Ordinal(every)} {what} has guard pages.",
    };

    private static string Ordinal(int n)
    {
        var suffix = (n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };
        return n.ToString(CultureInfo.InvariantCulture) + suffix;
    }

    internal static string Duration(long ms) => ms % 1000 == 0
        ? (ms / 1000).ToString(CultureInfo.InvariantCulture) + " s"
        : ms.ToString(CultureInfo.InvariantCulture) + " ms";

    internal static string Bytes(long bytes)
    {
        string[] units = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        var index = 0;
        var value = bytes;
        while (index < units.Length - 1 && value >= 1024 && value % 1024 == 0)
        {
            value /= 1024;
            index++;
        }

        return value.ToString(CultureInfo.InvariantCulture) + " " + units[index];
    }
}

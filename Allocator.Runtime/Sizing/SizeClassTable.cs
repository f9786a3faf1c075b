namespace Allocator.Sizing;

/// <summary>
/// Generates the size-class table as jemalloc 5.3 lays it out for 64-bit pointers:
/// tiny classes below the quantum, one pseudo group up to <c>2^(lgQuantum + lgGroup)</c>, then
/// regular groups of <c>2^lgGroup</c> classes per doubling up to <c>2^62 + ...</c>.
/// </summary>
internal sealed class SizeClassTable
{
    /// <summary>Pointer width the table is computed for; the last group stops below 2^(bits - 1).</summary>
    internal const int PointerBits = 64;

    /// <summary>Classes up to 2^this are served by the lookup table (jemalloc's SC_LG_MAX_LOOKUP).</summary>
    internal const int LgMaxLookup = 12;

    internal SizeClass[] Classes = new SizeClass[0];
    internal int NTiny;
    internal int LookupClassCount;
    internal int BinCount;
    internal int PageSizeClassCount;
    internal int LgTinyMaxClass = -1;
    internal ulong LookupMaxClass;
    internal ulong SmallMaxClass;
    internal int LgLargeMinClass;
    internal ulong LargeMaxClass;

    /// <summary>
    /// Number of classes the parameters produce, without building them: tiny classes, one pseudo
    /// group, and full regular groups from 2^(q+g) to 2^62 minus the one class that would reach 2^63.
    /// </summary>
    internal static int CountClasses(int lgQuantum, int lgGroup, int lgTinyMin)
    {
        int nGroup = 1 << lgGroup;
        int regularGroups = (PointerBits - 2) - (lgQuantum + lgGroup) + 1;
        return (lgQuantum - lgTinyMin) + nGroup + (regularGroups * nGroup) - 1;
    }

    /// <summary>Builds the table; the parameters must already be validated.</summary>
    internal static SizeClassTable Build(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin)
    {
        var t = new SizeClassTable();
        var classes = new SizeClass[CountClasses(lgQuantum, lgGroup, lgTinyMin)];
        int nGroup = 1 << lgGroup;
        int index = 0;
        int nDelta = 0;
        int lgBase = lgTinyMin;
        int lgDelta = lgBase;

        // Tiny classes: one power of two per step, each spaced by the one before.
        while (lgBase < lgQuantum)
        {
            classes[index] = t.Add(index, lgBase, lgDelta, nDelta, lgPage, lgGroup);
            t.NTiny++;
            t.LgTinyMaxClass = lgBase;
            index++;
            lgDelta = lgBase;
            lgBase++;
        }

        // Pseudo group. With tiny classes below it, its first class (2^q) is written as
        // 2^(q-1) + 1 * 2^(q-1) so that it continues the tiny spacing.
        if (t.NTiny != 0)
        {
            lgBase--;
            nDelta = 1;
            classes[index] = t.Add(index, lgBase, lgDelta, nDelta, lgPage, lgGroup);
            index++;
            lgBase++;
            lgDelta++;
        }

        while (nDelta < nGroup)
        {
            classes[index] = t.Add(index, lgBase, lgDelta, nDelta, lgPage, lgGroup);
            index++;
            nDelta++;
        }

        // Regular groups: 2^lgBase + n * 2^(lgBase - lgGroup) for n = 1..nGroup; the last
        // group drops its top class, which would be 2^63 and not fit a signed size.
        lgBase += lgGroup;
        while (lgBase < PointerBits - 1)
        {
            int limit = lgBase == PointerBits - 2 ? nGroup - 1 : nGroup;
            for (nDelta = 1; nDelta <= limit; nDelta++)
            {
                SizeClass sc = t.Add(index, lgBase, lgDelta, nDelta, lgPage, lgGroup);
                classes[index] = sc;
                if (sc.LgDeltaLookup != 0)
                {
                    t.LookupMaxClass = sc.Size;
                }

                if (sc.IsBin)
                {
                    t.SmallMaxClass = sc.Size;

                    // The next doubling is the first large class; with one class per group
                    // the next class is already two doublings up.
                    t.LgLargeMinClass = lgGroup > 0 ? lgBase + 1 : lgBase + 2;
                }

                t.LargeMaxClass = sc.Size;
                index++;
            }

            lgBase++;
            lgDelta++;
        }

        t.Classes = classes;
        return t;
    }

    /// <summary>A copy with other rows (the counts stay: only slab pages may differ).</summary>
    internal SizeClassTable WithClasses(SizeClass[] classes)
    {
        var copy = (SizeClassTable)MemberwiseClone();
        copy.Classes = classes;
        return copy;
    }

    /// <summary>Creates one row and updates the counts that depend only on its flags.</summary>
    private SizeClass Add(int index, int lgBase, int lgDelta, int nDelta, int lgPage, int lgGroup)
    {
        ulong size = (1UL << lgBase) + ((ulong)nDelta << lgDelta);
        ulong page = 1UL << lgPage;
        bool isPsz = size % page == 0;
        bool isBin = size < (1UL << (lgPage + lgGroup));
        int slabPages = isBin ? SlabPagesFor(size, page) : 0;
        int lgDeltaLookup = size <= (1UL << LgMaxLookup) ? lgDelta : 0;

        // jemalloc counts lookup classes in the tiny and regular loops only; the final count is
        // the same because the last lookup class (4096) always lies in a regular group here.
        if (lgDeltaLookup != 0)
        {
            LookupClassCount = index + 1;
        }

        if (isPsz)
        {
            PageSizeClassCount++;
        }

        if (isBin)
        {
            BinCount++;
        }

        return new SizeClass(index, lgBase, lgDelta, nDelta, isPsz, isBin, slabPages, lgDeltaLookup);
    }

    /// <summary>
    /// Smallest slab that holds a whole number of regions and is a whole number of pages: the
    /// least common multiple of region size and page, in pages.
    /// </summary>
    internal static int SlabPagesFor(ulong regionSize, ulong page) =>
        (int)(regionSize / SizeMath.Gcd(regionSize, page));
}

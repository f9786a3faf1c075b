using System.Globalization;
using System.Text;

namespace Allocator;

/// <summary>Prints arena statistics as text, in the spirit of jemalloc's malloc_stats_print.</summary>
public static class StatsPrinter
{
    /// <summary>The report: totals, then one line per bin and per large class in use.</summary>
    public static string ToText(ArenaStats stats)
    {
        System.ArgumentNullException.ThrowIfNull(stats);
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        var p = stats.Pages;
        sb.Append(c, $"arena {stats.Index}\n");
        sb.Append(c, $"  allocated: {stats.Allocated,16:N0}  (small {stats.AllocatedSmall:N0}, large {stats.AllocatedLarge:N0})\n");
        sb.Append(c, $"  active:    {p.Active,16:N0}\n");
        sb.Append(c, $"  mapped:    {p.Mapped,16:N0}  (pa_mapped {p.PaMapped:N0} + base {p.BaseMapped:N0})\n");
        sb.Append(c, $"  resident:  {p.Resident,16:N0}\n");
        sb.Append(c, $"  dirty:     {p.Dirty,16:N0}  purges {p.DirtyPurges:N0}, madvise {p.DirtyPurgeCalls:N0}, pages {p.DirtyPurgedPages:N0}\n");
        sb.Append(c, $"  muzzy:     {p.Muzzy,16:N0}  purges {p.MuzzyPurges:N0}, madvise {p.MuzzyPurgeCalls:N0}, pages {p.MuzzyPurgedPages:N0}\n");
        sb.Append(c, $"  slab pages purged in place: madvise {p.SlabPurgeCalls:N0}, pages {p.SlabPurgedPages:N0}\n");
        sb.Append(c, $"  retained:  {p.Retained,16:N0}\n");
        if (p.Pageslabs != 0)
        {
            sb.Append(c, $"  hugepages: {p.HpaMapped,16:N0}  (pageslabs {p.Pageslabs:N0}, huge {p.HugePageslabs:N0}, AnonHugePages {p.AnonHugePages:N0})\n");
            sb.Append(c, $"    active {p.HpaActive:N0}, dirty {p.HpaDirty:N0}, touched {p.HpaTouched:N0}, cached {p.SecBytes:N0}\n");
            sb.Append(c, $"    hugifies {p.Hugifies:N0} (refused {p.HugifyFailures:N0}), dehugifies {p.Dehugifies:N0}, purges {p.HpaPurgePasses:N0}, madvise {p.HpaPurges:N0}\n");
        }

        sb.Append(c, $"  metadata:  {p.BaseAllocated,16:N0}  (resident {p.BaseResident:N0})\n");
        sb.Append(c, $"  abandoned: {p.Abandoned,16:N0}\n");
        sb.Append(c, $"  guards:    mappings {p.GuardMappings:N0} (all arenas at most {p.GuardMappingLimit:N0}), skipped for budget {p.GuardsSkippedForBudget:N0}, protect refusals {p.GuardProtectRefusals:N0}\n");
        sb.Append("bins:      size  ind  allocated      nmalloc      ndalloc   curregs  curslabs  regs  pgs     nfills   nflushes\n");
        foreach (BinStats b in stats.Bins)
        {
            if (b.Allocations == 0) continue;
            sb.Append(c, $"     {b.RegionSize,9} {b.SizeIndex,4} {b.CurrentRegions * b.RegionSize,10} {b.Allocations,12} {b.Deallocations,12} {b.CurrentRegions,9} {b.CurrentSlabs,9} {b.RegionsPerSlab,5} {b.SlabSize / (long)Allocator.Os.Pages.PageSize,4} {b.Fills,10} {b.Flushes,10}\n");
        }

        sb.Append("large:            size  ind      nmalloc      ndalloc   curlextents\n");
        foreach (LargeClassStats l in stats.LargeClasses)
        {
            sb.Append(c, $"     {l.Size,20} {l.SizeIndex,4} {l.Allocations,12} {l.Deallocations,12} {l.Current,13}\n");
        }

        return sb.ToString();
    }
}

using System;

namespace Allocator;

/// <summary>
/// Serves the extents of an <see cref="ArenaAttribute"/> declaration of up to 64 KiB (slabs and
/// small large allocations) from 2 MiB pageslabs that the kernel can back with transparent huge
/// pages, as jemalloc's hugepage allocator (<c>hpa</c>) does. Defaults are jemalloc's.
/// </summary>
/// <remarks>
/// Ignored with <see cref="ExtentHooksAttribute"/> (custom hooks supply their own memory; the
/// analyzers warn) and where the OS has no transparent huge pages (the stats then count no huge page).
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if ALLOCATOR_EMBEDDED_ATTRIBUTES
internal
#else
public
#endif
sealed class HugePagesAttribute : Attribute
{
    /// <summary>How pageslabs become huge. Default <see cref="HugePageMode.Lazy"/>, jemalloc's policy.</summary>
    public HugePageMode Mode { get; set; } = ArenaDeclarationRules.DefaultHugePagesDeclared;

    /// <summary>
    /// With <see cref="HugePageMode.Lazy"/>: milliseconds a pageslab must stay a hugify candidate
    /// before it is made huge (jemalloc's <c>hpa_hugify_delay_ms</c>); 0 or more. Default 10 000.
    /// </summary>
    public long HugifyDelayMs { get; set; } = ArenaDeclarationRules.DefaultHugifyDelayMs;

    /// <summary>
    /// With <see cref="HugePageMode.Lazy"/>: the share of a pageslab's pages that must be in use for
    /// it to become a hugify candidate (jemalloc's <c>hpa_hugification_threshold_ratio</c>), above 0
    /// and at most 1. Default 0.95.
    /// </summary>
    public double HugificationThreshold { get; set; } = ArenaDeclarationRules.DefaultHugificationThreshold;

    /// <summary>
    /// Dirty pages allowed per active page before the shard purges (jemalloc's <c>hpa_dirty_mult</c>);
    /// 0 or more, or -1 for no limit. Default 0.25.
    /// </summary>
    public double DirtyMult { get; set; } = ArenaDeclarationRules.DefaultHugePageDirtyMult;

    /// <summary>
    /// The least milliseconds between two purge passes of the shard (jemalloc's
    /// <c>hpa_min_purge_interval_ms</c>); 0 or more. Default 5 000.
    /// </summary>
    public long MinPurgeIntervalMs { get; set; } = ArenaDeclarationRules.DefaultHugePageMinPurgeIntervalMs;
}

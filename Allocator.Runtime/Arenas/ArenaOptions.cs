using System;
using Allocator.Decay;
using Allocator.Guards;
using Allocator.Hooks;
using Allocator.Map;
using Allocator.PageAllocators;
using Allocator.Sizing;

namespace Allocator;

/// <summary>
/// The configuration of an arena created at run time with <see cref="Arena.Create"/>. Defaults equal
/// jemalloc 5.3's on 64-bit Linux; a generated arena takes the same knobs from attributes instead.
/// </summary>
public sealed record ArenaOptions
{
    /// <summary>Keep freed address space (retained) instead of unmapping it. Default true.</summary>
    public bool Retain { get; init; } = true;

    /// <summary>Milliseconds for freed (dirty) pages to be lazily purged: -1 never, 0 at once. Default 10 s.</summary>
    public long DirtyDecayMs { get; init; } = 10_000;

    /// <summary>Milliseconds for lazily purged (muzzy) pages to be released: -1 never, 0 at once. Default 0.</summary>
    public long MuzzyDecayMs { get; init; }

    /// <summary>Freed extents at least this large are purged at once (unless a decay time is -1). Default 8 MiB.</summary>
    public long OversizeThreshold { get; init; } = 8 << 20;

    /// <summary>A cached dirty extent is never split for a request 2^this times smaller. Default 6.</summary>
    public int LgExtentMaxActiveFit { get; init; } = 6;

    /// <summary>Log2 of the smallest size-class spacing. Default 4 (16 bytes).</summary>
    public int LgQuantum { get; init; } = 4;

    /// <summary>Log2 of the page size the classes are computed for; must equal the OS page. Default: the OS page.</summary>
    public int LgPage { get; init; } = System.Numerics.BitOperations.Log2((uint)Environment.SystemPageSize);

    /// <summary>Log2 of the number of size classes per doubling. Default 2.</summary>
    public int LgGroup { get; init; } = 2;

    /// <summary>Log2 of the smallest size class. Default 3 (8 bytes).</summary>
    public int LgTinyMin { get; init; } = 3;

    /// <summary>Surround every N-th slab with guard pages (1 = all, 0 = none). Default 0.</summary>
    public int GuardSmallEvery { get; init; }

    /// <summary>Surround every N-th large allocation with guard pages (1 = all, 0 = none). Default 0.</summary>
    public int GuardLargeEvery { get; init; }

    /// <summary>
    /// The share of the process's mapping limit (Linux's vm.max_map_count, read at start; 65,530 when
    /// it cannot be read) that guard pages may use, above 0 and at most 1. Default 0.25. Each guard
    /// page can split a mapping in three (two more mappings), and the .NET runtime dies when the
    /// kernel refuses it a mapping; so once the guards of all arenas together reach this arena's share,
    /// an extent sampled for guards is served unguarded and counted in
    /// <see cref="Allocator.PageAllocators.PageAllocatorStats.GuardsSkippedForBudget"/>, until guarded extents are freed.
    /// </summary>
    public double GuardMappingShare { get; init; } = ArenaDeclarationRules.DefaultGuardMappingShare;

    /// <summary>Give each thread a cache of recently freed regions (no lock on a cache hit). Default true.</summary>
    public bool ThreadCache { get; init; } = true;

    /// <summary>
    /// The largest size the thread cache keeps. Default 1 MiB: above jemalloc's 32 KiB because .NET
    /// code rents and returns buffers of 64 KiB to 1 MiB in tight loops. Each large class caches at
    /// most about 1 MiB per thread, and idle cached blocks are flushed back over time.
    /// </summary>
    public long ThreadCacheMax { get; init; } = 1 << 20;

    /// <summary>
    /// How many shards each small size class's bin has. Every thread cache is assigned the shard
    /// with the fewest threads, and fills from and flushes to that shard's slabs, so threads share
    /// neither a bin lock nor the cache lines of a slab. 0, the default, means four per processor
    /// (at most <see cref="MaxBinShards"/>); 1 is one bin per class.
    /// </summary>
    public int BinShards { get; init; }

    /// <summary>The most shards a bin may have (<see cref="BinShards"/>).</summary>
    public const int MaxBinShards = 64;

    /// <summary>Check every free at once (double frees of small regions are caught immediately). Default false.</summary>
    public bool DebugChecks { get; init; }

    /// <summary>
    /// Heap profiling: the mean bytes allocated between samples (each thread draws the distance to its
    /// next sample from an exponential distribution with this mean). 0, the default, turns it off;
    /// 524288 (2^19, jemalloc's default) costs little enough to leave on. See <see cref="Arena.GetHeapProfile"/>.
    /// </summary>
    public long ProfileSampleBytes { get; init; }

    /// <summary>
    /// Sample every block and, when the arena is disposed with blocks still allocated, report them by
    /// allocation site through <see cref="Arena.LeaksFound"/> (or standard error when nobody listens).
    /// Every block then takes the slow path and small ones a page each: a debugging switch. Default false.
    /// </summary>
    public bool LeakReport { get; init; }

    /// <summary>The hooks that supply address space; null for the OS.</summary>
    public IExtentHooks? Hooks { get; init; }

    /// <summary>The clock decay reads; null for the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// Whether the process's <see cref="Allocator.PageAllocators.BackgroundPurger"/> purges this arena, so that
    /// freed pages go back to the OS on time although no thread calls the arena. Null (the
    /// default) means yes when <see cref="Allocator.PageAllocators.BackgroundPurger.Enabled"/> is set and decay
    /// reads the system clock, no with a custom <see cref="TimeProvider"/> (whose time the purger's
    /// sleeps would not follow); true or false decides explicitly.
    /// </summary>
    public bool? BackgroundPurge { get; init; }

    /// <summary>
    /// Serve extents of up to 64 KiB (slabs and small large allocations) from 2 MiB pageslabs that the
    /// kernel can back with transparent huge pages (Linux). Default <see cref="HugePageMode.Off"/>.
    /// Ignored with custom <see cref="Hooks"/>; where the system has no transparent huge pages the
    /// arena still works and its stats count no page huge.
    /// </summary>
    public HugePageMode HugePages { get; init; }

    /// <summary>With <see cref="HugePageMode.Lazy"/>: how long a pageslab must stay nearly full before it is made huge (jemalloc's hpa_hugify_delay_ms). Default 10 s.</summary>
    public long HugifyDelayMs { get; init; } = ArenaDeclarationRules.DefaultHugifyDelayMs;

    /// <summary>
    /// With <see cref="HugePageMode.Lazy"/>: the share of a pageslab's pages in use that makes it a
    /// hugify candidate (jemalloc's hpa_hugification_threshold_ratio), above 0 and at most 1. Default 0.95.
    /// </summary>
    public double HugificationThreshold { get; init; } = ArenaDeclarationRules.DefaultHugificationThreshold;

    /// <summary>Dirty pageslab pages allowed per active page before the hugepage shard purges (jemalloc's hpa_dirty_mult); -1 for no limit. Default 0.25.</summary>
    public double HugePageDirtyMult { get; init; } = ArenaDeclarationRules.DefaultHugePageDirtyMult;

    /// <summary>The least milliseconds between two purge passes of the hugepage shard (jemalloc's hpa_min_purge_interval_ms). Default 5 s.</summary>
    public long HugePageMinPurgeIntervalMs { get; init; } = ArenaDeclarationRules.DefaultHugePageMinPurgeIntervalMs;

    /// <summary>A private address map instead of the process-wide one (tests that account for every mapping).</summary>
    internal ExtentMap? Map { get; init; }

    /// <summary>A private guard-mapping account instead of the process's (tests that cross a small budget).</summary>
    internal GuardMappingAccount? GuardAccount { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!DecayTracker.IsValidDecayMs(DirtyDecayMs))
            throw new ArgumentOutOfRangeException(nameof(DirtyDecayMs), DirtyDecayMs, $"A decay time is -1 (never), 0 (at once) or milliseconds up to {DecayTracker.MaxDecayMs}.");
        if (!DecayTracker.IsValidDecayMs(MuzzyDecayMs))
            throw new ArgumentOutOfRangeException(nameof(MuzzyDecayMs), MuzzyDecayMs, $"A decay time is -1 (never), 0 (at once) or milliseconds up to {DecayTracker.MaxDecayMs}.");
        if (!SizeClasses.TryValidate(LgQuantum, LgPage, LgGroup, LgTinyMin, out string? parameter, out string? error))
            throw new ArgumentOutOfRangeException(ToPropertyName(parameter), error);
        if (1L << LgPage != Environment.SystemPageSize)
            throw new ArgumentOutOfRangeException(nameof(LgPage), LgPage, $"The size classes must be computed for the OS page ({Environment.SystemPageSize} bytes).");
        if ((1L << LgPage) / (1L << LgTinyMin) > 512)
            throw new ArgumentOutOfRangeException(nameof(LgTinyMin), LgTinyMin, "A slab of this page size would hold more than 512 of the smallest regions; raise LgTinyMin.");
        if (OversizeThreshold < 1L << LgPage)
            throw new ArgumentOutOfRangeException(nameof(OversizeThreshold), OversizeThreshold, "The oversize threshold must be at least a page.");
        if (LgExtentMaxActiveFit is < 0 or > 64)
            throw new ArgumentOutOfRangeException(nameof(LgExtentMaxActiveFit), LgExtentMaxActiveFit, "Must be between 0 and 64.");
        if (GuardSmallEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(GuardSmallEvery), GuardSmallEvery, "A guard sampling count is 0 (off) or positive.");
        if (GuardLargeEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(GuardLargeEvery), GuardLargeEvery, "A guard sampling count is 0 (off) or positive.");
        if (!ArenaDeclarationRules.IsValidGuardMappingShare(GuardMappingShare))
            throw new ArgumentOutOfRangeException(nameof(GuardMappingShare), GuardMappingShare, "The guard mapping share is a fraction of vm.max_map_count above 0 and at most 1.");

        if (!Enum.IsDefined(HugePages))
            throw new ArgumentOutOfRangeException(nameof(HugePages), HugePages, "The hugepage mode is Off, Lazy or Eager.");
        if (!ArenaDeclarationRules.IsValidHugePageMs(HugifyDelayMs))
            throw new ArgumentOutOfRangeException(nameof(HugifyDelayMs), HugifyDelayMs, $"The hugify delay is 0 to {DecayTracker.MaxDecayMs} milliseconds.");
        if (!ArenaDeclarationRules.IsValidHugificationThreshold(HugificationThreshold))
            throw new ArgumentOutOfRangeException(nameof(HugificationThreshold), HugificationThreshold, "The hugification threshold is a share of a pageslab above 0 and at most 1.");
        if (!ArenaDeclarationRules.IsValidHugePageDirtyMult(HugePageDirtyMult))
            throw new ArgumentOutOfRangeException(nameof(HugePageDirtyMult), HugePageDirtyMult, "The dirty multiplier is 0 or more dirty pages per active page, or -1 for no limit.");
        if (!ArenaDeclarationRules.IsValidHugePageMs(HugePageMinPurgeIntervalMs))
            throw new ArgumentOutOfRangeException(nameof(HugePageMinPurgeIntervalMs), HugePageMinPurgeIntervalMs, $"The minimum purge interval is 0 to {DecayTracker.MaxDecayMs} milliseconds.");

        if (!ArenaDeclarationRules.IsValidProfileSampleBytes(ProfileSampleBytes))
            throw new ArgumentOutOfRangeException(nameof(ProfileSampleBytes), ProfileSampleBytes, ArenaDeclarationRules.ProfileSampleBytesRule);
        if (ThreadCacheMax is < 0 or > 8 << 20)
            throw new ArgumentOutOfRangeException(nameof(ThreadCacheMax), ThreadCacheMax, "The thread cache holds sizes up to at most 8 MiB.");
        if (BinShards is < 0 or > MaxBinShards)
            throw new ArgumentOutOfRangeException(nameof(BinShards), BinShards, $"A bin has 1 to {MaxBinShards} shards, or 0 for the default.");
    }

    private static string ToPropertyName(string? parameter) =>
        string.IsNullOrEmpty(parameter) ? "SizeClasses" : char.ToUpperInvariant(parameter[0]) + parameter.Substring(1);
}

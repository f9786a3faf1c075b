using System;
using System.ComponentModel;
using Allocator.Guards;
using Allocator.Hooks;
using Allocator.Map;
using Allocator.Sizing;

namespace Allocator.PageAllocators;

/// <summary>How a <see cref="PageAllocator{TPolicy}"/> is set up. Defaults equal jemalloc 5.3's on 64-bit Linux.</summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed record PageAllocatorOptions
{
    /// <summary>The hooks that supply address space; null for the OS.</summary>
    public IExtentHooks? Hooks { get; init; }

    /// <summary>Keep freed address space (retained) instead of unmapping it.</summary>
    public bool Retain { get; init; } = true;

    /// <summary>Milliseconds for dirty pages to become muzzy: -1 never, 0 at once.</summary>
    public long DirtyDecayMs { get; init; } = 10_000;

    /// <summary>Milliseconds for muzzy pages to become retained: -1 never, 0 at once.</summary>
    public long MuzzyDecayMs { get; init; }

    /// <summary>Freed extents at least this large are purged at once unless a decay time is -1.</summary>
    public long OversizeThreshold { get; init; } = 8 << 20;

    /// <summary>A dirty extent is not split for a request 2^this times smaller.</summary>
    public int LgExtentMaxActiveFit { get; init; } = 6;

    /// <summary>Guard every N-th slab extent (1 = all, 0 = none).</summary>
    public int GuardSmallEvery { get; init; }

    /// <summary>Guard every N-th large extent (1 = all, 0 = none).</summary>
    public int GuardLargeEvery { get; init; }

    /// <summary>The share of the process's mapping limit guard pages may use, in (0, 1]; see <see cref="ArenaOptions.GuardMappingShare"/>.</summary>
    public double GuardMappingShare { get; init; } = ArenaDeclarationRules.DefaultGuardMappingShare;

    /// <summary>The guard-mapping account; null for the process's.</summary>
    internal GuardMappingAccount? GuardAccount { get; init; }

    /// <summary>Clock for decay; tests pass a fake one.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>The address map; null for the process-wide one.</summary>
    public ExtentMap? Map { get; init; }

    /// <summary>Page-size classes; null for those of the OS page.</summary>
    public SizeClasses? PageClasses { get; init; }

    /// <summary>Serve small unguarded, unzeroed, page-aligned extents from the hugepage allocator (default hooks on Linux only).</summary>
    public HugePageMode HugePages { get; init; }

    /// <summary>With <see cref="HugePageMode.Lazy"/>: how long a pageslab stays a hugify candidate before it is hugified.</summary>
    public long HugifyDelayMs { get; init; } = ArenaDeclarationRules.DefaultHugifyDelayMs;

    /// <summary>With <see cref="HugePageMode.Lazy"/>: the share of a pageslab in use that makes it a hugify candidate.</summary>
    public double HugificationThreshold { get; init; } = ArenaDeclarationRules.DefaultHugificationThreshold;

    /// <summary>Dirty pageslab pages allowed per active page before purging; -1 for no limit.</summary>
    public double HugePageDirtyMult { get; init; } = ArenaDeclarationRules.DefaultHugePageDirtyMult;

    /// <summary>The least milliseconds between two purge passes of the hugepage shard.</summary>
    public long HugePageMinPurgeIntervalMs { get; init; } = ArenaDeclarationRules.DefaultHugePageMinPurgeIntervalMs;

    /// <summary>Metadata is mapped through <see cref="Hooks"/> too (jemalloc's metadata_use_hooks); otherwise straight from the OS.</summary>
    public bool MetadataUsesHooks { get; init; } = true;
}

using System;
using Allocator.Extents;
using Allocator.Hooks;

namespace Allocator;

/// <summary>
/// The compile-time configuration of an arena. The source generator emits one implementing struct
/// per <c>[Arena]</c> declaration with every member returning a literal, so the JIT compiles a copy
/// of <c>Arena&lt;TPolicy&gt;</c> with the unused paths (guards, retain, decay) removed.
/// </summary>
/// <remarks>
/// Arenas configured at run time use a policy whose <see cref="IExtentPolicy.IsRuntimeConfigured"/> is true;
/// the core then reads every knob from the arena instance instead of from the policy.
/// </remarks>
public interface IArenaPolicy : IExtentPolicy
{
    /// <summary>Milliseconds for dirty pages to decay to muzzy; -1 never, 0 at once.</summary>
    static abstract long DirtyDecayMs { get; }

    /// <summary>Milliseconds for muzzy pages to decay to retained; -1 never, 0 at once.</summary>
    static abstract long MuzzyDecayMs { get; }

    /// <summary>Freed extents at least this large are purged at once (unless a decay time is -1).</summary>
    static abstract long OversizeThreshold { get; }

    /// <summary>Log2 of the smallest size-class spacing.</summary>
    static abstract int LgQuantum { get; }

    /// <summary>Log2 of the page size the size classes were computed for.</summary>
    static abstract int LgPage { get; }

    /// <summary>Log2 of the number of size classes per doubling.</summary>
    static abstract int LgGroup { get; }

    /// <summary>Log2 of the smallest (tiny) size class.</summary>
    static abstract int LgTinyMin { get; }

    /// <summary>The share of the process's mapping limit (vm.max_map_count) guard pages may use, in (0, 1].</summary>
    static abstract double GuardMappingShare { get; }

    /// <summary>Whether each thread keeps a cache of recently freed regions.</summary>
    static abstract bool ThreadCache { get; }

    /// <summary>Check every free against the slab bitmap at once (double frees are caught immediately).</summary>
    static abstract bool DebugChecks { get; }

    /// <summary>
    /// The size-to-class lookup table for sizes up to the lookup limit, one entry per 2^<see cref="LgTinyMin"/>
    /// bytes (jemalloc's sz_size2index_tab). Generated policies return data baked into the assembly;
    /// a runtime-configured policy returns an empty span (the arena keeps its own copy).
    /// </summary>
    static abstract ReadOnlySpan<byte> SizeToIndexLookup { get; }

    /// <summary>Size in bytes of each class, by size index (generated; empty for a runtime-configured policy).</summary>
    static abstract ReadOnlySpan<ulong> ClassSizes { get; }

    /// <summary>Region size of each small bin, by bin index (generated; empty for a runtime-configured policy).</summary>
    static abstract ReadOnlySpan<ulong> BinRegionSizes { get; }

    /// <summary>
    /// Per bin, the multiplier that turns a region's byte offset in its slab into the region's index,
    /// <c>(offset * magic) &gt;&gt; 32</c> (generated; empty for a runtime-configured policy).
    /// </summary>
    static abstract ReadOnlySpan<uint> BinDivMagic { get; }

    /// <summary>
    /// The mean bytes between heap-profile samples; 0 (the default) turns profiling off, and the
    /// JIT then removes the sampling test from the allocation paths.
    /// </summary>
    static virtual long ProfileSampleBytes => 0;

    /// <summary>
    /// Whether Dispose reports the blocks still allocated, by site (every block is sampled; the
    /// generator then also emits <see cref="ProfileSampleBytes"/> = 1, so the sampling code is in).
    /// </summary>
    static virtual bool LeakReport => false;

    /// <summary>
    /// Whether small extents come from 2 MiB pageslabs the kernel can back with huge pages; the
    /// generator emits this and the hugepage knobs below only for a <c>[HugePages]</c> declaration.
    /// </summary>
    static virtual HugePageMode HugePages => HugePageMode.Off;

    /// <summary>With <see cref="HugePageMode.Lazy"/>: milliseconds a pageslab stays a hugify candidate before it is made huge.</summary>
    static virtual long HugifyDelayMs => ArenaDeclarationRules.DefaultHugifyDelayMs;

    /// <summary>With <see cref="HugePageMode.Lazy"/>: the share of a pageslab in use that makes it a hugify candidate, in (0, 1].</summary>
    static virtual double HugificationThreshold => ArenaDeclarationRules.DefaultHugificationThreshold;

    /// <summary>Dirty hugepage-shard pages allowed per active page before purging; -1 for no limit.</summary>
    static virtual double HugePageDirtyMult => ArenaDeclarationRules.DefaultHugePageDirtyMult;

    /// <summary>The least milliseconds between two purge passes of the hugepage shard.</summary>
    static virtual long HugePageMinPurgeIntervalMs => ArenaDeclarationRules.DefaultHugePageMinPurgeIntervalMs;

    /// <summary>Creates the hooks that back this arena, or returns null for the default OS hooks.</summary>
    static abstract IExtentHooks? CreateHooks();
}

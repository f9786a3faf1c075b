using Allocator.Extents;
using Allocator.Metadata;

namespace Allocator.Threading;

/// <summary>
/// The rank of every lock in the runtime, outermost first: a thread holding a lock only takes
/// locks of a higher rank. <see cref="RankedLock"/> checks it in Debug builds (and with
/// <c>-p:AllocatorWitness=true</c>). docs/architecture.md lists the same order, and a test checks
/// the two against each other.
/// </summary>
internal enum LockRank
{
    /// <summary>The process-wide lists of thread caches and the live-arena table.</summary>
    ThreadCacheList = 1,

    /// <summary>Registering a shard with the background purger, and taking it off at dispose.</summary>
    PurgerControl,

    /// <summary>The process-wide background purger's list of shards; held across each pass.</summary>
    BackgroundPurge,

    /// <summary>A decay schedule (dirty or muzzy); dropped while purging.</summary>
    Decay,

    /// <summary>A shard of the small extent cache in front of a hugepage shard; released before calling the shard.</summary>
    HpaSec,

    /// <summary>A hugepage shard's growth (a new pageslab); takes the central and the shard lock inside it.</summary>
    HpaGrow,

    /// <summary>The process-wide source of pageslabs (eden).</summary>
    HpaCentral,

    /// <summary>A hugepage shard's pageslabs and their set; dropped around purge and hugify calls.</summary>
    HpaShard,

    /// <summary>Retained growth (<c>ExtentContext.GrowLock</c>) or the guarded bump region; never both.</summary>
    Grow,

    /// <summary>An extent cache (dirty, muzzy or retained); never two at once.</summary>
    Ecache,

    /// <summary>The cache of free edata structs.</summary>
    EdataCache,

    /// <summary>The radix tree's leaf creation.</summary>
    RtreeInit,

    /// <summary>A metadata allocator.</summary>
    Base,

    /// <summary>An arena's list of live large extents and their counters.</summary>
    LargeExtents,

    /// <summary>An arena's heap profiler: its sites and sampled blocks.</summary>
    Profile,

    /// <summary>A bin's slabs and counters; dropped before calling the page allocator.</summary>
    Bin,

    /// <summary>The table of arena indices.</summary>
    ArenaIndices,
}

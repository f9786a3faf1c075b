using System.ComponentModel;

namespace Allocator.Extents;

/// <summary>
/// One consistent-enough snapshot of a page allocator shard's figures, in bytes unless named
/// otherwise. Cheap to take: every figure is an atomic read.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public readonly record struct PageAllocatorStats
{
    /// <summary>The page allocator's own mapped bytes: active, dirty and muzzy extents (metadata excluded).</summary>
    public long PaMapped { get; init; }

    /// <summary>Derived: <see cref="PaMapped"/> plus metadata mappings (<see cref="BaseMapped"/>).</summary>
    public long Mapped => PaMapped + BaseMapped;

    /// <summary>Bytes in active extents.</summary>
    public long Active { get; init; }

    /// <summary>Bytes in the dirty cache.</summary>
    public long Dirty { get; init; }

    /// <summary>Bytes in the muzzy cache.</summary>
    public long Muzzy { get; init; }

    /// <summary>Bytes of retained address space.</summary>
    public long Retained { get; init; }

    /// <summary>Derived: active and dirty pages plus touched metadata, the upper bound of what occupies RAM.</summary>
    public long Resident => Active + Dirty + BaseResident;

    /// <summary>Metadata bytes handed out.</summary>
    public long BaseAllocated { get; init; }

    /// <summary>Metadata bytes touched.</summary>
    public long BaseResident { get; init; }

    /// <summary>Metadata bytes mapped.</summary>
    public long BaseMapped { get; init; }

    /// <summary>Address space given up after hook failures.</summary>
    public long Abandoned { get; init; }

    /// <summary>Dirty purge passes.</summary>
    public long DirtyPurges { get; init; }

    /// <summary>Extents purged from the dirty cache (one madvise or dalloc call each).</summary>
    public long DirtyPurgeCalls { get; init; }

    /// <summary>Pages purged from the dirty cache.</summary>
    public long DirtyPurgedPages { get; init; }

    /// <summary>Muzzy purge passes.</summary>
    public long MuzzyPurges { get; init; }

    /// <summary>Extents purged from the muzzy cache.</summary>
    public long MuzzyPurgeCalls { get; init; }

    /// <summary>Pages purged from the muzzy cache.</summary>
    public long MuzzyPurgedPages { get; init; }

    /// <summary>Runs of free pages inside partly used slabs given back by an explicit purge (one madvise each).</summary>
    public long SlabPurgeCalls { get; init; }

    /// <summary>Free pages inside partly used slabs given back by an explicit purge.</summary>
    public long SlabPurgedPages { get; init; }

    /// <summary>Edata structs waiting for reuse.</summary>
    public long EdataCached { get; init; }

    /// <summary>Mappings this shard's guard pages may cost now (two per guard page in place).</summary>
    public long GuardMappings { get; init; }

    /// <summary>
    /// The total of all arenas' guard mappings past which this shard makes no new guard page: its
    /// share of the process's mapping limit.
    /// </summary>
    public long GuardMappingLimit { get; init; }

    /// <summary>Extents sampled for guards but served unguarded because the guard-mapping budget was spent.</summary>
    public long GuardsSkippedForBudget { get; init; }

    /// <summary>Protection calls the OS refused while guarding or unguarding (each survived: see docs/reliability.md).</summary>
    public long GuardProtectRefusals { get; init; }
}

using System.ComponentModel;
using Allocator.Metadata;

namespace Allocator.PageAllocators;

/// <summary>
/// One consistent-enough snapshot of a page allocator shard's figures, in bytes unless named
/// otherwise. Cheap to take: every figure is an atomic read.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public readonly record struct PageAllocatorStats
{
    /// <summary>The page allocator's own mapped bytes: active, dirty and muzzy extents (metadata excluded).</summary>
    public long PaMapped { get; init; }

    /// <summary>Derived: <see cref="PaMapped"/> plus the hugepage allocator's pageslabs (<see cref="HpaMapped"/>) plus metadata mappings (<see cref="BaseMapped"/>).</summary>
    public long Mapped => PaMapped + HpaMapped + BaseMapped;

    /// <summary>Bytes in active extents.</summary>
    public long Active { get; init; }

    /// <summary>Bytes in the dirty cache.</summary>
    public long Dirty { get; init; }

    /// <summary>Bytes in the muzzy cache.</summary>
    public long Muzzy { get; init; }

    /// <summary>Bytes of retained address space.</summary>
    public long Retained { get; init; }

    /// <summary>Derived: active and dirty pages (of both backends) plus touched metadata, the upper bound of what occupies RAM.</summary>
    public long Resident => Active + Dirty + HpaDirty + BaseResident;

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

    /// <summary>Pageslabs (2 MiB each) the hugepage allocator owns; 0 when it is off.</summary>
    public long Pageslabs { get; init; }

    /// <summary>Derived: bytes of the hugepage allocator's pageslabs.</summary>
    public long HpaMapped => Pageslabs * (2L << 20);

    /// <summary>Pageslabs the hugepage allocator believes huge (hugified, or eager and in use).</summary>
    public long HugePageslabs { get; init; }

    /// <summary>Bytes of the hugepage allocator handed out (to live extents and its small extent cache).</summary>
    public long HpaActive { get; init; }

    /// <summary>Bytes freed inside pageslabs and still resident.</summary>
    public long HpaDirty { get; init; }

    /// <summary>Derived: bytes of pageslabs resident, active or dirty.</summary>
    public long HpaTouched => HpaActive + HpaDirty;

    /// <summary>Bytes waiting in the small extent cache in front of the hugepage allocator.</summary>
    public long SecBytes { get; init; }

    /// <summary>Pageslabs hugified.</summary>
    public long Hugifies { get; init; }

    /// <summary>Hugify attempts the system refused (no transparent huge pages).</summary>
    public long HugifyFailures { get; init; }

    /// <summary>Pageslabs dehugified before a purge.</summary>
    public long Dehugifies { get; init; }

    /// <summary>Pageslab purge passes.</summary>
    public long HpaPurgePasses { get; init; }

    /// <summary>Ranges purged inside pageslabs (one madvise each).</summary>
    public long HpaPurges { get; init; }

    /// <summary>Bytes of the pageslabs the kernel really backs with huge pages (AnonHugePages in /proc/self/smaps).</summary>
    public long AnonHugePages { get; init; }
}

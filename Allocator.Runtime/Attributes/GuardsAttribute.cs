using System;

namespace Allocator;

/// <summary>
/// Guard pages (inaccessible pages around an extent) for an <see cref="ArenaAttribute"/>
/// declaration, sampled as jemalloc's <c>san_guard_small</c> / <c>san_guard_large</c> options do:
/// every N-th extent is guarded, 1 guards all, 0 turns guards off. A sparse sample is cheap
/// enough to keep on in production, as GWP-ASan does.
/// </summary>
/// <remarks>
/// Guarded slabs are cached in a separate guarded set so that reuse costs no protection call;
/// guarded large extents are unguarded when freed.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if ALLOCATOR_EMBEDDED_ATTRIBUTES
internal
#else
public
#endif
sealed class GuardsAttribute : Attribute
{
    /// <summary>Guard every N-th slab extent (small allocations); 1 = all, 0 = none. Default 0.</summary>
    public int SmallEvery { get; set; } = ArenaDeclarationRules.DefaultGuardEvery;

    /// <summary>Guard every N-th large extent; 1 = all, 0 = none. Default 0.</summary>
    public int LargeEvery { get; set; } = ArenaDeclarationRules.DefaultGuardEvery;

    /// <summary>
    /// The share of the process's mapping limit (Linux's vm.max_map_count) that guard pages may use,
    /// above 0 and at most 1. Default 0.25. Each guard page can add two mappings; once all arenas'
    /// guards together reach this arena's share, its sampled extents are served unguarded (counted
    /// as skipped in its statistics) until guarded extents are freed.
    /// </summary>
    public double MappingShare { get; set; } = ArenaDeclarationRules.DefaultGuardMappingShare;
}

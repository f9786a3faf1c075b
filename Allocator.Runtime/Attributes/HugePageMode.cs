namespace Allocator;

/// <summary>Whether an arena serves small extents from 2 MiB pageslabs that the kernel can back with transparent huge pages.</summary>
/// <remarks>Beside the attributes because <see cref="HugePagesAttribute"/> takes it (the Roslyn projects compile this folder).</remarks>
#if ALLOCATOR_EMBEDDED_ATTRIBUTES
internal
#else
public
#endif
enum HugePageMode
{
    /// <summary>No hugepage allocator: every extent comes from the classic page allocator.</summary>
    Off,

    /// <summary>
    /// jemalloc's policy: a pageslab that stays at least 95% in use for <c>HugifyDelayMs</c>
    /// is collapsed into a huge page (MADV_COLLAPSE where the kernel has it, MADV_HUGEPAGE otherwise);
    /// dirty pages above a quarter of the active ones are purged, a huge slab losing its huge page first.
    /// </summary>
    Lazy,

    /// <summary>Every pageslab is marked MADV_HUGEPAGE when it is mapped, so it is huge from its first touch; only empty slabs are purged.</summary>
    Eager,
}

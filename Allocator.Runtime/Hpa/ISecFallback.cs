
using Allocator.Metadata;

namespace Allocator.Hpa;

/// <summary>What the small extent cache asks of the allocator behind it (the hugepage shard; a counting fake in tests).</summary>
internal unsafe interface ISecFallback
{
    /// <summary>An active extent of <paramref name="size"/> bytes, or null.</summary>
    Edata* Alloc(nuint size, nuint alignment, bool zero);

    /// <summary>Up to <paramref name="count"/> extents of <paramref name="size"/> bytes into <paramref name="results"/>; how many.</summary>
    int AllocBatch(nuint size, int count, Edata** results);

    /// <summary>Frees one extent.</summary>
    void Free(Edata* e);

    /// <summary>Frees a chain of extents linked through <see cref="Edata.ListNext"/>.</summary>
    void FreeBatch(Edata* chain);
}

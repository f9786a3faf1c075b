using System;
using System.ComponentModel;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator.PageAllocators;

/// <summary>
/// What a page allocator shard asks of the allocator that actually serves its extents (jemalloc's
/// pai_t): the classic one today, a hugepage one beside it later. Nothing above the shard knows
/// which one served an extent.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal unsafe interface IPageAllocatorBackend
{
    /// <summary>An active extent of <paramref name="size"/> bytes, or null.</summary>
    /// <param name="size">Bytes, a page multiple.</param>
    /// <param name="alignment">A power of two.</param>
    /// <param name="zero">The memory must read as zero.</param>
    /// <param name="guarded">Surround the extent with guard pages.</param>
    /// <param name="frequentReuse">The extent will be freed and asked for again often (slabs): worth caching guarded.</param>
    Edata* Alloc(nuint size, nuint alignment, bool zero, bool guarded, bool frequentReuse);

    /// <summary>Grows an extent in place; false with nothing changed when it cannot.</summary>
    bool Expand([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize, bool zero);

    /// <summary>Shrinks an extent in place; false with nothing changed when it cannot.</summary>
    bool Shrink([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize);

    /// <summary>Frees an extent.</summary>
    void Free([AcquiredExtent] Edata* e);

    /// <summary>Nanoseconds until deferred work (decay) is due; <see cref="long.MaxValue"/> when none is pending.</summary>
    long TimeUntilDeferredWork();

    /// <summary>Does the deferred work that is due (a decay pass that purges down to the limits), waiting for the locks.</summary>
    void DoDeferredWork();
}

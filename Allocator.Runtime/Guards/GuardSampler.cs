using System;
using System.ComponentModel;
using System.Threading;
using Allocator.Extents;

namespace Allocator.Guards;

/// <summary>
/// Decides which extents get guard pages: every N-th large extent and every M-th slab (jemalloc's
/// san_large_extent_decide_guard and san_slab_extent_decide_guard).
/// </summary>
/// <remarks>
/// One per page allocator, shared by its threads. jemalloc counts per thread; a per-thread count
/// here would be shared by every arena on the thread, so one arena's traffic would move another's
/// sampling. The countdowns are updated with compare-and-swap, so concurrent callers never lose a
/// step and each reset guards exactly one extent.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed class GuardSampler
{
    private readonly nuint _page;
    private readonly ulong _largeMaxClass;
    private int _largeUntilGuard, _smallUntilGuard;

    /// <summary>Creates the sampler of the page allocator that owns <paramref name="ctx"/>.</summary>
    /// <param name="ctx">The shard: page size, largest size class, and whether its hooks support guards at all.</param>
    /// <param name="largeEvery">Guard every this many large extents; 0 never.</param>
    /// <param name="smallEvery">Guard every this many slabs; 0 never.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public GuardSampler(ExtentContext ctx, int largeEvery, int smallEvery)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (largeEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(largeEvery), largeEvery, "Guard every N-th large extent needs N >= 0 (0 turns large guards off).");
        if (smallEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(smallEvery), smallEvery, "Guard every N-th slab needs N >= 0 (0 turns small guards off).");
        // Custom hooks cannot guard: sampling would only pick extents that then fail to be guarded.
        LargeEvery = ctx.HooksAreDefault ? largeEvery : 0;
        SmallEvery = ctx.HooksAreDefault ? smallEvery : 0;
        _page = ctx.Page;
        _largeMaxClass = ctx.PageClasses.LargeMaxClass;
        _largeUntilGuard = LargeEvery;
        _smallUntilGuard = SmallEvery;
    }

    /// <summary>Every how many large extents one is guarded; 0 when large guards are off.</summary>
    public int LargeEvery { get; }

    /// <summary>Every how many slabs one is guarded; 0 when small guards are off.</summary>
    public int SmallEvery { get; }

    /// <summary>
    /// Counts one large extent of <paramref name="size"/> bytes and says whether to guard it. When its
    /// turn comes but it cannot be guarded (alignment above a page, or no room for two guard pages
    /// below the largest size class), the turn passes to the next one that can.
    /// </summary>
    public bool ShouldGuardLarge(nuint size, nuint alignment)
    {
        if (LargeEvery == 0) return false;
        bool suitable = alignment <= _page && (ulong)size <= _largeMaxClass && _largeMaxClass - size >= 2 * (ulong)_page;
        return Step(ref _largeUntilGuard, LargeEvery, suitable);
    }

    /// <summary>Counts one slab and says whether to guard it.</summary>
    public bool ShouldGuardSlab() => SmallEvery != 0 && Step(ref _smallUntilGuard, SmallEvery, suitable: true);

    // Count down to 1; at 1 a suitable extent is guarded and the count starts again, an unsuitable one
    // leaves it at 1.
    private static bool Step(ref int untilGuard, int every, bool suitable)
    {
        while (true)
        {
            int n = Volatile.Read(ref untilGuard);
            if (n > 1)
            {
                if (Interlocked.CompareExchange(ref untilGuard, n - 1, n) == n) return false;
            }
            else
            {
                if (!suitable) return false;
                if (Interlocked.CompareExchange(ref untilGuard, every, n) == n) return true;
            }
        }
    }
}

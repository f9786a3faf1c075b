using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.Threading;

namespace Allocator.Guards;

/// <summary>
/// Guarded extents cut one after another from a region of fresh address space: each gets one guard page on its right, and its left is covered by the previous
/// one's guard (or by the start of the region), so a guarded slab costs one guard page, not two.
/// </summary>
/// <remarks>
/// Needs retain and the default hooks: the region is a head mapping kept for the life of the page
/// allocator, and only the default hooks can guard. Its lock ranks with the grow lock (the two are
/// never held together); under it only the edata cache's lock is taken. A region counts as mapped
/// (<see cref="ExtentStats.PaMapped"/>) piece by piece, as allocations are cut from it, each with its
/// guard page: like retained space, the uncut rest is address space, not memory in use.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed unsafe class SanBump
{
    /// <summary>The size of a region, unless one allocation needs more.</summary>
    public const nuint RegionSize = 4 << 20;

    private readonly RankedLock _lock = new(LockRank.Grow);
    private Edata* _current;

    /// <summary>Whether a bump allocator can work for <paramref name="ctx"/> (retain on, default hooks).</summary>
    public static bool IsSupported(ExtentContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        return ctx.Retain && ctx.HooksAreDefault;
    }

    /// <summary>
    /// An active extent of <paramref name="size"/> usable bytes, committed (and zeroed when
    /// <paramref name="zero"/>), registered with no size class, guarded by one page on its right.
    /// </summary>
    /// <returns>The extent, or null when no address space or metadata could be had.</returns>
    /// <exception cref="ArgumentException"><paramref name="ctx"/> does not retain or has custom hooks.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is zero or not a page multiple.</exception>
    public Edata* Alloc(ExtentContext ctx, nuint size, bool zero)
    {
        if (!IsSupported(ctx)) throw new ArgumentException("Bump-allocated guards need retain on and the default extent hooks.", nameof(ctx));
        nuint page = ctx.Page;
        if (size == 0 || size % page != 0 || size > nuint.MaxValue - page)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Must be a non-zero multiple of the page size ({page}).");
        nuint guardedSize = size + page;

        Edata* e;
        Edata* replaced = null;
        using (_lock.EnterScope())
        {
            if (_current == null || _current->Size < guardedSize)
            {
                Edata* grown = ExtentOps<RuntimeExtentPolicy>.AllocWrapper(ctx, null, Math.Max(guardedSize, RegionSize), page, zero: false, commit: false);
                // Keep the old region on failure: a smaller request may still fit in it.
                if (grown == null) return null;
                replaced = _current;
                _current = grown;
            }

            if (_current->Size == guardedSize)
            {
                e = _current;
                _current = null;
            }
            else
            {
                Edata* rest = ExtentOps<RuntimeExtentPolicy>.SplitWrapper(ctx, _current, guardedSize, _current->Size - guardedSize);
                if (rest == null)
                {
                    e = null;
                }
                else
                {
                    e = _current;
                    _current = rest;
                }
            }
        }

        // Too small for this request, and the next one is served from the new region: give it back.
        if (replaced != null) Release(ctx, replaced);
        if (e == null) return null;

        if (!PageGuard.GuardPages(ctx, e, left: false, right: true, remap: true))
        {
            // Untouched and unguarded: keep it as retained address space (served later as an ordinary
            // extent). The next slab cut above it has no guard page between them; neighbor
            // acquisition refuses guarded extents, so coalescing stops at that slab.
            ExtentOps<RuntimeExtentPolicy>.Record(ctx, ctx.Retained, e);
            return null;
        }

        if (!ExtentOps<RuntimeExtentPolicy>.CommitZero(ctx, e, zero, fresh: true))
        {
            // Guarded: it waits in the retained cache's guarded set for a request of its size.
            ExtentOps<RuntimeExtentPolicy>.Record(ctx, ctx.Retained, e);
            return null;
        }

        // jemalloc 5.3 forgets this, so its pac_mapped drifts low by every bump allocation. Only the
        // usable bytes count: a guard page is never resident, and the recount sees usable sizes.
        ctx.Stats.AddMapped((long)e->Size);
        return e;
    }

    /// <summary>Unmaps the current region. Call it when the page allocator is destroyed.</summary>
    public void Destroy(ExtentContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        Edata* region;
        using (_lock.EnterScope())
        {
            region = _current;
            _current = null;
        }

        if (region != null) Release(ctx, region);
    }

    // jemalloc destroys a replaced region without deregistering it, leaving map entries that point at
    // a recycled edata; deregister first.
    private static void Release(ExtentContext ctx, Edata* region)
    {
        Debug.Assert(region->State == ExtentState.Active && !region->IsGuarded);
        ctx.Map.DeregisterBoundary(region);
        ExtentOps<RuntimeExtentPolicy>.DestroyWrapper(ctx, region);
    }
}

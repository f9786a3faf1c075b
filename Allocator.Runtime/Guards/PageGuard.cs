using System;
using System.ComponentModel;
using System.Diagnostics;
using Allocator.Extents;
using Allocator.Hooks;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;

namespace Allocator.Guards;

/// <summary>
/// Guard pages around extents: a PROT_NONE page before and/or after the usable
/// range, so that running off either end of an allocation faults at once.
/// </summary>
/// <remarks>
/// A guarded extent's <see cref="Edata.Address"/> and <see cref="Edata.Size"/> describe only the
/// usable range; the guard pages lie outside it and are never in the address map, so a neighbor
/// looking across a guard page finds an empty leaf and never acquires the guarded extent. Two-sided
/// guards come from a larger unguarded extent; one-sided (right) guards from <see cref="SanBump"/>.
/// Only <see cref="DefaultExtentHooks"/> support guards: custom hooks may back memory with something
/// mprotect does not understand.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal static unsafe class PageGuard
{
    /// <summary>
    /// Turns the first page (<paramref name="left"/>) and/or the last page (<paramref name="right"/>)
    /// of an active, unguarded extent into guard pages. The extent's size must include them. With
    /// <paramref name="remap"/> the extent is registered before and after, and its map entries move to
    /// the new boundary pages (size index none, not a slab).
    /// </summary>
    /// <returns>
    /// True when guarded; false, with nothing changed, when the hooks are not the default ones, the
    /// shard's <see cref="GuardBudget"/> is spent, or the OS refused.
    /// </returns>
    /// <remarks>
    /// When the OS protects the first page but refuses the second and then refuses to undo the first,
    /// the extent is still returned guarded: its layout is a guarded one, only the second guard page
    /// stays accessible (outside the usable range, so nothing is lost but detection on that side).
    /// </remarks>
    /// <exception cref="ArgumentException">Neither side was asked for, or the extent has no page left to use.</exception>
    public static bool GuardPages(ExtentContext ctx, [AcquiredExtent] Edata* e, bool left, bool right, bool remap)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (!left && !right) throw new ArgumentException("Guard at least one side.", nameof(left));
        nuint page = ctx.Page;
        nuint guardBytes = (left ? page : 0) + (right ? page : 0);
        if (e->Size <= guardBytes)
            throw new ArgumentException($"An extent of {e->Size} bytes has no usable page left after {guardBytes} bytes of guards.", nameof(e));
        Debug.Assert(e->State == ExtentState.Active && !e->IsGuarded);
        Debug.Assert(!e->IsSlab, "deregister a slab's interior before guarding it");
        if (!ctx.HooksAreDefault) return false;

        byte* start = (byte*)e->Base;
        byte* usable = left ? start + page : start;
        nuint usableSize = e->Size - guardBytes;
        byte* rightGuard = usable + usableSize;
        int guardPages = (left ? 1 : 0) + (right ? 1 : 0);
        // Leaves first: once a page is protected there must be no way left to fail.
        if (remap && !EnsureLeaves(ctx, usable, rightGuard - page)) return false;
        // Charged before the call, so that concurrent shards never pass the budget together.
        GuardBudget budget = ctx.GuardBudget;
        if (!budget.TryCharge(guardPages)) return false;
        if (left && !Pages.Protect(start, page))
        {
            budget.Release(guardPages);
            budget.CountRefusal();
            return false;
        }

        if (right && !Pages.Protect(rightGuard, page))
        {
            budget.CountRefusal();
            if (!left || Pages.Unprotect(start, page))
            {
                budget.Release(guardPages);
                return false;
            }

            budget.CountRefusal();
        }

        if (remap) ctx.Map.DeregisterBoundary(e);
        e->SetAddress(usable);
        e->SetSize(usableSize);
        e->IsGuarded = true;
        if (remap) Reregister(ctx, e);
        return true;
    }

    /// <summary>
    /// The inverse of <see cref="GuardPages"/> with remap: gives the guard pages back to the extent
    /// (readable and writable again), clears <see cref="Edata.IsGuarded"/> and registers the extent at
    /// its restored boundary pages. The extent must be active, guarded and registered.
    /// </summary>
    /// <returns>
    /// True when unguarded. False when the OS refused: the extent is still guarded and registered as
    /// before, but a guard page may have become accessible; give it up with <see cref="Discard"/>.
    /// </returns>
    /// <exception cref="OutOfMemoryException">No metadata memory for the map's leaves (nothing is changed).</exception>
    public static bool UnguardPages(ExtentContext ctx, [AcquiredExtent] Edata* e, bool left, bool right)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (!left && !right) throw new ArgumentException("Unguard at least one side.", nameof(left));
        Debug.Assert(e->State == ExtentState.Active && e->IsGuarded && ctx.HooksAreDefault);
        Debug.Assert(!e->IsSlab, "deregister a slab's interior before unguarding it");
        nuint page = ctx.Page;
        byte* usable = (byte*)e->Base;
        byte* start = left ? usable - page : usable;
        byte* rightGuard = usable + e->Size;
        nuint total = e->Size + (left ? page : 0) + (right ? page : 0);
        // The leaves normally exist (the whole span was registered before it was guarded, and leaves are
        // never freed), but an extent guarded without remap may never have touched the guard pages' leaves.
        if (!EnsureLeaves(ctx, start, start + total - page))
            throw new OutOfMemoryException("No metadata memory for the address map while unguarding an extent.");

        // Protection first, the map after: a refusal then leaves the map as it was. Restoring access
        // merges mappings rather than splitting them, so the OS rarely refuses; when it does, the
        // caller unmaps the whole span, which takes any page still inaccessible with it.
        bool ok;
        if (left && right && total <= (nuint)ctx.PageClasses.LargeMinClass && e->IsCommitted)
        {
            // One call for a small span, as jemalloc does: the usable middle is already read-write.
            ok = Pages.Unprotect(start, total);
        }
        else
        {
            // Separate calls: a ranged one would make a large (or decommitted) middle accessible for nothing.
            ok = (!left || Pages.Unprotect(start, page)) && (!right || Pages.Unprotect(rightGuard, page));
        }

        if (!ok)
        {
            ctx.GuardBudget.CountRefusal();
            return false;
        }

        ctx.Map.DeregisterBoundary(e);
        e->SetAddress(start);
        e->SetSize(total);
        e->IsGuarded = false;
        ctx.GuardBudget.Release((left ? 1 : 0) + (right ? 1 : 0));
        Reregister(ctx, e);
        return true;
    }

    /// <summary>
    /// Unmaps an active, registered, guarded extent together with its guard pages, whatever their
    /// protection (munmap takes inaccessible pages as readily as others): the way out when
    /// <see cref="UnguardPages"/> was refused. The address space goes back to the OS, not to a cache.
    /// </summary>
    /// <returns>The usable bytes given up (the caller's mapped figure drops by as much).</returns>
    internal static nuint Discard(ExtentContext ctx, [AcquiredExtent] Edata* e, bool left, bool right)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        Debug.Assert(e->State == ExtentState.Active && e->IsGuarded && ctx.HooksAreDefault);
        nuint usableSize = e->Size;
        ctx.Map.DeregisterBoundary(e);
        nuint page = ctx.Page;
        e->SetAddress((byte*)e->Base - (left ? page : 0));
        e->SetSize(usableSize + (left ? page : 0) + (right ? page : 0));
        e->IsGuarded = false;
        ctx.GuardBudget.Release((left ? 1 : 0) + (right ? 1 : 0));
        ExtentOps<RuntimeExtentPolicy>.DestroyWrapper(ctx, e);
        return usableSize;
    }

    /// <summary>
    /// Removes the right guard of a retained, deregistered extent about to be destroyed, so the
    /// destroy hook unmaps the guard page with it and no PROT_NONE page outlives the page allocator.
    /// Writes nothing to the address map: the caller deregistered the extent already.
    /// </summary>
    public static void UnguardPagesPreDestroy(ExtentContext ctx, Edata* e)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        Debug.Assert(e->IsGuarded && e->State == ExtentState.Retained && ctx.HooksAreDefault);
        Debug.Assert(!ctx.Map.IsMapped(e), "deregister before destroying");
        // Only a right guard can be here. Guarded extents reach the retained cache only with retain on
        // and the default hooks (without retain, or with hooks that unmap, they are unguarded and
        // unmapped on the way out), and large guarded ones are unguarded eagerly when freed. What stays
        // guarded is slabs, and with retain on guarded slabs are cut from the bump region, which
        // guards only the right side.
        byte* rightGuard = (byte*)e->Past;
        // Even if the OS refuses, the unmap that follows covers the guard page now that the size includes it.
        if (!Pages.Unprotect(rightGuard, ctx.Page)) ctx.GuardBudget.CountRefusal();
        e->SetSize(e->Size + ctx.Page);
        e->IsGuarded = false;
        ctx.GuardBudget.Release(1);
    }

    private static bool EnsureLeaves(ExtentContext ctx, byte* firstPage, byte* lastPage) =>
        ctx.Map.Tree.Element(firstPage, initMissing: true) != null && ctx.Map.Tree.Element(lastPage, initMissing: true) != null;

    private static void Reregister(ExtentContext ctx, Edata* e)
    {
        bool ok = ctx.Map.RegisterBoundary(e, Edata.NoSizeIndex, slab: false);
        // Cannot fail: EnsureLeaves created both leaves before anything changed.
        Debug.Assert(ok);
    }
}

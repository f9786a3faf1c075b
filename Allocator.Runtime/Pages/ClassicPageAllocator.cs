using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Threading;

namespace Allocator.Extents;

/// <summary>
/// The classic page allocator (jemalloc's pac): serves extents from the dirty, muzzy and retained
/// caches, grows retained address space geometrically, and hands freed extents to the dirty cache.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class ClassicPageAllocator
{
    /// <summary>Creates the allocator over the given shard context.</summary>
    public ClassicPageAllocator(ExtentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
    }

    /// <summary>The extents, caches and hooks this allocator works on.</summary>
    public ExtentContext Context { get; }

    /// <summary>
    /// An extent of <paramref name="size"/> bytes (a page multiple) aligned to
    /// <paramref name="alignment"/>: recycled dirty, then muzzy, then retained or newly mapped.
    /// </summary>
    /// <returns>An active, committed extent, or null when no memory could be had.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The size is zero or not a page multiple, or the alignment is not a power of two.</exception>
    public Edata* Alloc(nuint size, nuint alignment, bool zero)
    {
        ExtentContext ctx = Context;
        CheckRequest(ctx, size, alignment);
        Edata* e = ExtentOps.Alloc(ctx, ctx.Dirty, null, size, alignment, zero, guarded: false);
        // With a muzzy decay time of 0 the muzzy cache is always empty: skip its lock.
        if (e == null && ctx.MuzzyDecayMs != 0) e = ExtentOps.Alloc(ctx, ctx.Muzzy, null, size, alignment, zero, guarded: false);
        if (e == null)
        {
            e = ExtentOps.AllocGrow(ctx, null, size, alignment, zero, guarded: false);
            if (e != null) ctx.Stats.AddMapped((long)size);
        }

        return e;
    }

    private static void CheckRequest(ExtentContext ctx, nuint size, nuint alignment)
    {
        if (size == 0 || size % ctx.Page != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An extent size must be a non-zero multiple of the page size ({ctx.Page}).");
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        if ((ulong)size > ctx.PageClasses.LargeMaxClass)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An extent cannot exceed {ctx.PageClasses.LargeMaxClass} bytes.");
    }

    /// <summary>
    /// Grows an active extent in place by taking its forward neighbor from the dirty, muzzy or
    /// retained cache. False, with nothing changed, when that cannot be done.
    /// </summary>
    public bool Expand([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize, bool zero)
    {
        ExtentContext ctx = Context;
        Debug.Assert(newSize > oldSize && e->Size == oldSize && !e->IsGuarded);
        nuint amount = newSize - oldSize;
        long mappedAdd = 0;
        Edata* trail = ExtentOps.Alloc(ctx, ctx.Dirty, e, amount, ctx.Page, zero, guarded: false);
        if (trail == null) trail = ExtentOps.Alloc(ctx, ctx.Muzzy, e, amount, ctx.Page, zero, guarded: false);
        if (trail == null)
        {
            trail = ExtentOps.AllocGrow(ctx, e, amount, ctx.Page, zero, guarded: false);
            mappedAdd = (long)amount;
        }

        if (trail == null) return false;
        if (!ExtentOps.MergeWrapper(ctx, e, trail))
        {
            ctx.Stats.AddMapped(mappedAdd);
            Free(trail);
            return false;
        }

        ctx.Stats.AddMapped(mappedAdd);
        return true;
    }

    /// <summary>Shrinks an active extent in place; the cut-off tail goes to the dirty cache.</summary>
    public bool Shrink([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize)
    {
        Debug.Assert(newSize < oldSize && e->Size == oldSize && !e->IsGuarded);
        Edata* trail = ExtentOps.SplitWrapper(Context, e, newSize, oldSize - newSize);
        if (trail == null) return false;
        ExtentOps.Dalloc(Context, Context.Dirty, trail);
        return true;
    }

    /// <summary>Frees an active extent into the dirty cache.</summary>
    public void Free([AcquiredExtent] Edata* e) => ExtentOps.Dalloc(Context, Context.Dirty, e);

    /// <summary>
    /// Purges everything now: dirty and muzzy extents are unmapped, or (with retain) purged and kept
    /// as retained address space.
    /// </summary>
    public void PurgeAll()
    {
        Drain(Context.Dirty, ref Context.Stats.DirtyPurges, ref Context.Stats.DirtyPurgeCalls, ref Context.Stats.DirtyPurgedPages);
        Drain(Context.Muzzy, ref Context.Stats.MuzzyPurges, ref Context.Stats.MuzzyPurgeCalls, ref Context.Stats.MuzzyPurgedPages);
    }

    private void Drain(Ecache ecache, ref long purges, ref long calls, ref long pages)
    {
        ExtentContext ctx = Context;
        long extents = 0, purged = 0;
        Edata* e;
        while ((e = ExtentOps.Evict(ctx, ecache, 0)) != null)
        {
            extents++;
            purged += (long)(e->Size / ctx.Page);
            ctx.Stats.AddMapped(-(long)e->Size);
            ExtentOps.DallocWrapper(ctx, e);
        }

        if (extents == 0) return;
        Interlocked.Increment(ref purges);
        Interlocked.Add(ref calls, extents);
        Interlocked.Add(ref pages, purged);
    }

    /// <summary>
    /// Returns all address space to the hooks. Every extent must have been freed; dirty and muzzy
    /// ones are purged first.
    /// </summary>
    public void Destroy()
    {
        PurgeAll();
        ExtentContext ctx = Context;
        Edata* e;
        while ((e = ExtentOps.Evict(ctx, ctx.Retained, 0)) != null) ExtentOps.DestroyWrapper(ctx, e);
    }
}

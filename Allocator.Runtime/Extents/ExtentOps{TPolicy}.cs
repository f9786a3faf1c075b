using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator.Extents;

/// <summary>
/// The extent operations: recycle from an ecache, split, merge and coalesce
/// through neighbor acquisition, record into an ecache, grow retained address space, allocate
/// fresh mappings as a last resort, and return extents to the hooks.
/// </summary>
/// <remarks>
/// Lock order: <see cref="ExtentContext.GrowLock"/>, then an ecache lock; never two ecache locks.
/// Recycling holds one ecache lock across extract and split. Where jemalloc abandons address space
/// after a failed split, these operations put every piece back into the ecache it came from, so a
/// refusing hook costs a failed request, never a leaked mapping.
/// </remarks>
/// <typeparam name="TPolicy">The shard's policy: a literal one removes the guard, retain and hook branches it turns off.</typeparam>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public static unsafe class ExtentOps<TPolicy> where TPolicy : struct, IExtentPolicy
{
    private enum SplitResult { Ok, Error, CantAlloc }

    /// <summary>Takes an extent of <paramref name="size"/> bytes from <paramref name="ecache"/>, committed; null when none fits.</summary>
    /// <param name="ctx">The shard.</param>
    /// <param name="ecache">The cache to recycle from.</param>
    /// <param name="expand">When not null, the extent must be this one's forward neighbor (in-place growth).</param>
    /// <param name="size">Bytes, a page multiple.</param>
    /// <param name="alignment">Alignment, a power of two.</param>
    /// <param name="zero">The extent must read as zero.</param>
    /// <param name="guarded">Take a guarded extent from the guarded set (exact fit).</param>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static Edata* Alloc(ExtentContext ctx, Ecache ecache, [AcquiredExtent] Edata* expand, nuint size, nuint alignment, bool zero, bool guarded)
    {
        return Recycle(ctx, ecache, expand, size, alignment, zero, guarded);
    }

    /// <summary>
    /// Takes an extent from the retained cache, growing retained address space when it has none
    /// that fits, and as a last resort maps a fresh extent through the alloc hook.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static Edata* AllocGrow(ExtentContext ctx, [AcquiredExtent] Edata* expand, nuint size, nuint alignment, bool zero, bool guarded)
    {
        Edata* e = AllocRetained(ctx, expand, size, alignment, zero, guarded);
        if (e != null) return e;
        // With retain, a fixed-address mapping to expand into is not worth asking the OS for.
        if (ExtentPolicy<TPolicy>.Retain(ctx) && expand != null) return null;
        if (guarded) return null;
        return AllocWrapper(ctx, expand, size, alignment, zero, commit: true);
    }

    /// <summary>Puts an active extent the caller no longer uses into <paramref name="ecache"/>.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static void Dalloc(ExtentContext ctx, Ecache ecache, [AcquiredExtent] Edata* e)
    {
        e->SetAddress(e->Base);
        e->IsZeroed = false;
        Record(ctx, ecache, e);
    }

    /// <summary>
    /// Removes the least recently used extent from <paramref name="ecache"/> while it holds more than
    /// <paramref name="npagesMin"/> pages, coalescing delayed extents first. A dirty or muzzy extent
    /// comes back active; a retained one comes back deregistered, ready to destroy.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static Edata* Evict(ExtentContext ctx, Ecache ecache, nuint npagesMin)
    {
        using var scope = ecache.Enter();
        Edata* e;
        while (true)
        {
            // Guarded extents go last: they cannot merge and cost system calls to make again.
            e = ecache.Eset.LruFirst;
            if (e == null && ExtentPolicy<TPolicy>.MayGuard) e = ecache.GuardedEset.LruFirst;
            if (e == null || ecache.Npages <= npagesMin) return null;
            bool guarded = ExtentPolicy<TPolicy>.IsGuarded(e);
            ecache.SetFor(guarded).Remove(e);
            if (!ecache.DelayCoalesce || guarded) break;

            ctx.Map.UpdateState(e, ExtentState.Active);
            e = TryCoalesce(ctx, ecache, e, out bool coalesced);
            // Nothing merged: the extent is already active, which is what the caller gets.
            if (!coalesced) return e;
            ctx.Map.UpdateState(e, ecache.State);
            ecache.Eset.Insert(e);
        }

        if (ecache.State == ExtentState.Retained) ctx.Map.DeregisterBoundary(e);
        else ctx.Map.UpdateState(e, ExtentState.Active);
        return e;
    }

    /// <summary>
    /// Maps a fresh extent through the alloc hook (jemalloc's extent_alloc_wrapper), right after
    /// <paramref name="expand"/> when given (the hook must then map exactly there or fail). With
    /// retain it is a head: it never merges with the extent below it.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static Edata* AllocWrapper(ExtentContext ctx, [AcquiredExtent] Edata* expand, nuint size, nuint alignment, bool zero, bool commit)
    {
        void* newAddress = expand == null ? null : expand->Past;
        Edata* e = ctx.EdataCache.Get();
        if (e == null) return null;
        bool zeroed = zero, committed = commit;
        void* p = ctx.Hooks.Alloc(newAddress, size, AlignUp(alignment, ctx.Page), ref zeroed, ref committed, ctx.ArenaIndex);
        if (p == null)
        {
            ctx.EdataCache.Put(e);
            return null;
        }

        e->Init(ctx.ArenaIndex, p, size, false, Edata.NoSizeIndex, ctx.NextSerialNumber(), ExtentState.Active, zeroed, committed, isHead: ExtentPolicy<TPolicy>.Retain(ctx));
        if (!ctx.Map.RegisterBoundary(e, Edata.NoSizeIndex, false))
        {
            ctx.Hooks.Destroy(p, size, committed, ctx.ArenaIndex);
            ctx.EdataCache.Put(e);
            return null;
        }

        return e;
    }

    /// <summary>
    /// Gives an active, unguarded extent back: unmapped through the dalloc hook when it agrees,
    /// otherwise decommitted or purged (in that order of preference) and kept as retained.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static void DallocWrapper(ExtentContext ctx, [AcquiredExtent] Edata* e)
    {
        Debug.Assert(e->State == ExtentState.Active);
        if (!ExtentPolicy<TPolicy>.DallocWillFail(ctx))
        {
            Debug.Assert(!e->IsGuarded, "unguard before handing a guarded extent to the dalloc hook");
            ctx.Map.DeregisterBoundary(e);
            if (ctx.Hooks.Dalloc(e->Base, e->Size, e->IsCommitted, ctx.ArenaIndex))
            {
                ctx.EdataCache.Put(e);
                return;
            }

            bool ok = ctx.Map.RegisterBoundary(e, Edata.NoSizeIndex, false);
            Debug.Assert(ok, "re-registering cannot fail: the leaves exist");
        }

        bool zeroed;
        if (!e->IsCommitted) zeroed = true;
        else if (DecommitWrapper(ctx, e, 0, e->Size)) zeroed = true;
        else if (ctx.Hooks.PurgeForced(e->Base, e->Size, 0, e->Size, ctx.ArenaIndex)) zeroed = true;
        else
        {
            if (e->State != ExtentState.Muzzy) ctx.Hooks.PurgeLazy(e->Base, e->Size, 0, e->Size, ctx.ArenaIndex);
            zeroed = false;
        }

        e->IsZeroed = zeroed;
        Record(ctx, ctx.Retained, e);
    }

    /// <summary>Unmaps an extent for good (arena destroy). The caller has deregistered it and removed any guard pages.</summary>
    public static void DestroyWrapper(ExtentContext ctx, Edata* e)
    {
        Debug.Assert(e->State is ExtentState.Retained or ExtentState.Active);
        Debug.Assert(!e->IsGuarded, "unguard before destroying");
        ctx.Hooks.Destroy(e->Base, e->Size, e->IsCommitted, ctx.ArenaIndex);
        ctx.EdataCache.Put(e);
    }

    /// <summary>Commits [offset, offset + length) of an extent; true on success.</summary>
    public static bool CommitWrapper(ExtentContext ctx, [AcquiredExtent] Edata* e, nuint offset, nuint length)
    {
        bool ok = ctx.Hooks.Commit(e->Base, e->Size, offset, length, ctx.ArenaIndex);
        e->IsCommitted = e->IsCommitted || ok;
        return ok;
    }

    /// <summary>Decommits [offset, offset + length) of an extent; true on success.</summary>
    public static bool DecommitWrapper(ExtentContext ctx, [AcquiredExtent] Edata* e, nuint offset, nuint length)
    {
        bool ok = ctx.Hooks.Decommit(e->Base, e->Size, offset, length, ctx.ArenaIndex);
        e->IsCommitted = e->IsCommitted && !ok;
        return ok;
    }

    /// <summary>Splits an active extent the caller holds; the trail (returned) is a new extent, not a head.</summary>
    public static Edata* SplitWrapper(ExtentContext ctx, [AcquiredExtent] Edata* e, nuint sizeA, nuint sizeB) => SplitImpl(ctx, e, sizeA, sizeB);

    /// <summary>Merges two adjacent active extents the caller holds into <paramref name="a"/>; false when the hook refuses.</summary>
    public static bool MergeWrapper(ExtentContext ctx, [AcquiredExtent] Edata* a, [AcquiredExtent] Edata* b) => MergeImpl(ctx, a, b);

    /// <summary>
    /// Puts an active extent into <paramref name="ecache"/>, coalescing as the cache's policy says:
    /// muzzy and retained fully, dirty only when large (and an oversize one is purged at once).
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public static void Record(ExtentContext ctx, Ecache ecache, [AcquiredExtent] Edata* e)
    {
        Edata* oversize = null;
        using (ecache.Enter())
        {
            Debug.Assert(ctx.Map.IsMapped(e));
            if (!ExtentPolicy<TPolicy>.IsGuarded(e))
            {
                if (!ecache.DelayCoalesce)
                {
                    e = TryCoalesce(ctx, ecache, e, out _);
                }
                else if ((ulong)e->Size >= ctx.PageClasses.LargeMinClass)
                {
                    bool coalesced;
                    do e = TryCoalesce(ctx, ecache, e, out coalesced);
                    while (coalesced);
                    if ((long)e->Size >= ctx.OversizeThreshold && ctx.MayForceDecay) oversize = e;
                }
            }

            if (oversize == null) Deactivate(ctx, ecache, e);
        }

        // Purged outside the lock: it makes system calls and may record into the retained cache.
        if (oversize != null) MaximallyPurge(ctx, oversize);
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static void MaximallyPurge(ExtentContext ctx, Edata* e)
    {
        long pages = (long)(e->Size / ctx.Page);
        long bytes = (long)e->Size;
        DallocWrapper(ctx, e);
        Interlocked.Increment(ref ctx.Stats.DirtyPurgeCalls);
        Interlocked.Add(ref ctx.Stats.DirtyPurgedPages, pages);
        ctx.Stats.AddMapped(-bytes);
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* Recycle(ExtentContext ctx, Ecache ecache, Edata* expand, nuint size, nuint alignment, bool zero, bool guarded)
    {
        Debug.Assert(!guarded || expand == null);
        Edata* e;
        using (ecache.Enter())
        {
            e = RecycleExtract(ctx, ecache, expand, size, alignment, guarded);
            if (e == null) return null;
            e = RecycleSplit(ctx, ecache, expand, size, alignment, e);
        }

        if (e == null) return null;
        if (!CommitZero(ctx, e, zero))
        {
            Record(ctx, ecache, e);
            return null;
        }

        return e;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* RecycleExtract(ExtentContext ctx, Ecache ecache, Edata* expand, nuint size, nuint alignment, bool guarded)
    {
        Debug.Assert(!guarded || ExtentPolicy<TPolicy>.MayGuard);
        guarded = ExtentPolicy<TPolicy>.MayGuard && guarded;
        Eset eset = ecache.SetFor(guarded);
        Edata* e;
        if (expand != null)
        {
            Debug.Assert(alignment <= ctx.Page);
            e = ctx.Map.TryAcquireNeighbor(expand, ecache.State, forward: true, expanding: true);
            if (e == null) return null;
            if (e->Size < size)
            {
                ctx.Map.Release(e, ecache.State);
                return null;
            }
        }
        else
        {
            int lgMaxFit = ecache.DelayCoalesce ? ExtentPolicy<TPolicy>.LgExtentMaxActiveFit(ctx) : 64;
            // Guarded extents are never split, so only an exact fit will do.
            e = eset.Fit(size, alignment, exactOnly: guarded, lgMaxFit);
            if (e == null) return null;
        }

        eset.Remove(e);
        ctx.Map.UpdateState(e, ExtentState.Active);
        return e;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* RecycleSplit(ExtentContext ctx, Ecache ecache, Edata* expand, nuint size, nuint alignment, Edata* e)
    {
        SplitResult r = SplitInterior(ctx, ref e, out Edata* lead, out Edata* trail, out Edata* toRestore, out Edata* salvaged, expand, size, alignment);
        if (r == SplitResult.Ok)
        {
            if (lead != null) Deactivate(ctx, ecache, lead);
            if (trail != null) Deactivate(ctx, ecache, trail);
            return e;
        }

        // Every piece is a whole, registered extent: put them back rather than abandon them.
        if (salvaged != null) Deactivate(ctx, ecache, salvaged);
        if (toRestore != null) Deactivate(ctx, ecache, toRestore);
        return null;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static SplitResult SplitInterior(ExtentContext ctx, ref Edata* e, out Edata* lead, out Edata* trail,
        out Edata* toRestore, out Edata* salvaged, Edata* expand, nuint size, nuint alignment)
    {
        lead = trail = toRestore = salvaged = null;
        nuint b = (nuint)e->Base;
        nuint leadSize = AlignUp(b, AlignUp(alignment, ctx.Page)) - b;
        Debug.Assert(expand == null || leadSize == 0);
        if (e->Size < leadSize + size)
        {
            toRestore = e;
            e = null;
            return SplitResult.CantAlloc;
        }

        nuint trailSize = e->Size - leadSize - size;
        if (leadSize != 0)
        {
            lead = e;
            e = SplitImpl(ctx, lead, leadSize, size + trailSize);
            if (e == null)
            {
                toRestore = lead;
                lead = null;
                return SplitResult.Error;
            }
        }

        if (trailSize != 0)
        {
            trail = SplitImpl(ctx, e, size, trailSize);
            if (trail == null)
            {
                toRestore = e;
                salvaged = lead;
                lead = null;
                e = null;
                return SplitResult.Error;
            }
        }

        return SplitResult.Ok;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* SplitImpl(ExtentContext ctx, Edata* e, nuint sizeA, nuint sizeB)
    {
        Debug.Assert(e->Size == sizeA + sizeB && !e->IsGuarded);
        Debug.Assert(sizeA % ctx.Page == 0 && sizeB % ctx.Page == 0 && sizeA != 0 && sizeB != 0);
        Edata* trail = ctx.EdataCache.Get();
        if (trail == null) return null;
        trail->Init(e->ArenaIndex, (byte*)e->Base + sizeA, sizeB, false, Edata.NoSizeIndex, e->SerialNumber, e->State,
            e->IsZeroed, e->IsCommitted, isHead: false);
        trail->IsHugePageAllocated = e->IsHugePageAllocated;
        if (!ctx.Map.PrepareSplit(e, sizeA, out var plan) ||
            !ctx.Hooks.Split(e->Base, e->Size, sizeA, sizeB, e->IsCommitted, ctx.ArenaIndex))
        {
            ctx.EdataCache.Put(trail);
            return null;
        }

        e->SetSize(sizeA);
        e->SizeIndex = Edata.NoSizeIndex;
        e->IsSlab = false;
        ctx.Map.CommitSplit(plan, e, trail);
        return trail;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static bool MergeImpl(ExtentContext ctx, Edata* a, Edata* b)
    {
        Debug.Assert(a->Past == b->Base && a->ArenaIndex == b->ArenaIndex && a->ArenaIndex == ctx.ArenaIndex);
        Debug.Assert(!b->IsHead, "merging across the start of a mapping");
        if (!ctx.Hooks.Merge(a->Base, a->Size, b->Base, b->Size, a->IsCommitted, ctx.ArenaIndex)) return false;
        var plan = ctx.Map.PrepareMerge(a, b);
        a->State = ExtentState.Active;
        a->SetSize(a->Size + b->Size);
        a->SerialNumber = Math.Min(a->SerialNumber, b->SerialNumber);
        a->IsZeroed = a->IsZeroed && b->IsZeroed;
        a->SizeIndex = Edata.NoSizeIndex;
        a->IsSlab = false;
        ctx.Map.CommitMerge(plan, a);
        ctx.EdataCache.Put(b);
        return true;
    }

    // Merge an acquired neighbor in; if the hook refuses, the neighbor goes back to the cache.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static bool Coalesce(ExtentContext ctx, Ecache ecache, Edata* inner, Edata* outer, bool forward)
    {
        Debug.Assert(outer->State == ExtentState.Merging);
        ecache.Eset.Remove(outer);
        bool merged = forward ? MergeImpl(ctx, inner, outer) : MergeImpl(ctx, outer, inner);
        if (!merged) Deactivate(ctx, ecache, outer);
        return merged;
    }

    // Every neighbor acquired here is either merged or put back: nothing is left in Merging.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* TryCoalesce(ExtentContext ctx, Ecache ecache, Edata* e, out bool coalesced)
    {
        Debug.Assert(ecache.IsHeldByCurrentThread && !e->IsGuarded);
        bool again;
        do
        {
            again = false;
            Edata* next = ctx.Map.TryAcquireNeighbor(e, ecache.State, forward: true, expanding: false);
            if (next != null && Coalesce(ctx, ecache, e, next, forward: true))
            {
                if (ecache.DelayCoalesce)
                {
                    coalesced = true;
                    return e;
                }

                again = true;
            }

            Edata* prev = ctx.Map.TryAcquireNeighbor(e, ecache.State, forward: false, expanding: false);
            if (prev != null && Coalesce(ctx, ecache, e, prev, forward: false))
            {
                e = prev;
                if (ecache.DelayCoalesce)
                {
                    coalesced = true;
                    return e;
                }

                again = true;
            }
        }
        while (again);

        coalesced = false;
        return e;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static void Deactivate(ExtentContext ctx, Ecache ecache, Edata* e)
    {
        ctx.Map.UpdateState(e, ecache.State);
        ecache.SetFor(ExtentPolicy<TPolicy>.IsGuarded(e)).Insert(e);
    }

    /// <summary>
    /// Commits an active extent if it is not, then zeroes it when asked and it may hold old bytes;
    /// false, with nothing changed, when the commit fails. Only <paramref name="fresh"/> extents (cut
    /// from a mapping made by this very request, never handed out) are trusted by their zeroed flag:
    /// a recycled one is written with zeros, whatever its flag or an earlier purge says.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    internal static bool CommitZero(ExtentContext ctx, Edata* e, bool zero, bool fresh = false)
    {
        if (!e->IsCommitted && !CommitWrapper(ctx, e, 0, e->Size)) return false;
        // Under concurrency, recycled large blocks came back holding another block's bytes although
        // their flag or a purge vouched for them (issue 20); written zeros cannot be wrong.
        if (zero && !(fresh && e->IsZeroed)) System.Runtime.InteropServices.NativeMemory.Clear(e->Address, e->Size);
        return true;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* AllocRetained(ExtentContext ctx, Edata* expand, nuint size, nuint alignment, bool zero, bool guarded)
    {
        ctx.GrowLock.Enter();
        try
        {
            Edata* e = Recycle(ctx, ctx.Retained, expand, size, alignment, zero, guarded);
            if (e != null || !ExtentPolicy<TPolicy>.Retain(ctx) || expand != null || guarded) return e;
            return GrowRetained(ctx, size, alignment, zero);
        }
        finally
        {
            ctx.GrowLock.Exit();
        }
    }

    // Grow lock held: map the next geometric size, keep what the request does not need as retained.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private static Edata* GrowRetained(ExtentContext ctx, nuint size, nuint alignment, bool zero)
    {
        nuint minimum = size + AlignUp(alignment, ctx.Page) - ctx.Page;
        if (minimum < size) return null;
        if (!ctx.Grow.TryPrepare(minimum, out ulong allocSize, out int skip)) return null;
        Edata* e = ctx.EdataCache.Get();
        if (e == null) return null;
        bool zeroed = false, committed = false;
        void* p = ctx.Hooks.Alloc(null, (nuint)allocSize, ctx.Page, ref zeroed, ref committed, ctx.ArenaIndex);
        if (p == null)
        {
            ctx.EdataCache.Put(e);
            return null;
        }

        e->Init(ctx.ArenaIndex, p, (nuint)allocSize, false, Edata.NoSizeIndex, ctx.NextSerialNumber(), ExtentState.Active,
            zeroed, committed, isHead: true);
        if (!ctx.Map.RegisterBoundary(e, Edata.NoSizeIndex, false))
        {
            ctx.Hooks.Destroy(p, (nuint)allocSize, committed, ctx.ArenaIndex);
            ctx.EdataCache.Put(e);
            return null;
        }

        SplitResult r = SplitInterior(ctx, ref e, out Edata* lead, out Edata* trail, out Edata* toRestore, out Edata* salvaged, null, size, alignment);
        if (r != SplitResult.Ok)
        {
            if (salvaged != null) Record(ctx, ctx.Retained, salvaged);
            if (toRestore != null) Record(ctx, ctx.Retained, toRestore);
            return null;
        }

        if (lead != null) Record(ctx, ctx.Retained, lead);
        if (trail != null) Record(ctx, ctx.Retained, trail);
        if (!CommitZero(ctx, e, zero, fresh: true))
        {
            Record(ctx, ctx.Retained, e);
            return null;
        }

        ctx.Grow.Commit(skip);
        return e;
    }

    private static nuint AlignUp(nuint value, nuint alignment) => (value + alignment - 1) & ~(alignment - 1);
}

using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Decay;
using Allocator.Extents;
using Allocator.Guards;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator.PageAllocators;

/// <summary>
/// The classic page allocator (jemalloc's pac): serves extents from the dirty, muzzy and retained
/// caches, grows retained address space geometrically, and moves freed pages through
/// dirty → muzzy → retained on the decay schedule.
/// </summary>
/// <typeparam name="TPolicy">The shard's policy; see <see cref="IExtentPolicy"/>.</typeparam>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed unsafe class ClassicPageAllocator<TPolicy> : IPageAllocatorBackend where TPolicy : struct, IExtentPolicy
{
    /// <summary>Decay work below this many pages is not worth waking a background purger for.</summary>
    public const ulong DeferredPurgeThresholdPages = 1024;

    private readonly SanBump _sanBump = new();
    private readonly DecayClock _clock;
    private readonly DecayTracker _dirtyDecay;
    private readonly DecayTracker _muzzyDecay;

    /// <summary>Creates the allocator over the given shard context; decay times are the context's.</summary>
    public ClassicPageAllocator(ExtentContext context, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckDecayMs(context.DirtyDecayMs, "dirtyDecayMs");
        CheckDecayMs(context.MuzzyDecayMs, "muzzyDecayMs");
        Context = context;
        _clock = new DecayClock(time ?? TimeProvider.System);
        long now = _clock.NowNs();
        _dirtyDecay = new DecayTracker(now, context.DirtyDecayMs);
        _muzzyDecay = new DecayTracker(now, context.MuzzyDecayMs);
    }

    /// <summary>The extents, caches and hooks this allocator works on.</summary>
    public ExtentContext Context { get; }

    /// <summary>The clock decay reads.</summary>
    public TimeProvider TimeProvider => _clock.TimeProvider;

    /// <summary>The schedule of the dirty cache.</summary>
    public DecayTracker DirtyDecay => _dirtyDecay;

    /// <summary>The schedule of the muzzy cache.</summary>
    public DecayTracker MuzzyDecay => _muzzyDecay;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The size is zero or not a page multiple, or the alignment is not a power of two.</exception>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* Alloc(nuint size, nuint alignment, bool zero, bool guarded, bool frequentReuse)
    {
        CheckRequest(Context, size, alignment);
        Edata* e = null;
        // Guarded large extents are never cached (they would only be reused by an exact fit), so
        // they skip the caches; guarded slabs come back from the guarded sets.
        guarded = ExtentPolicy<TPolicy>.MayGuard && guarded;
        if (!guarded || frequentReuse) e = AllocReal(size, alignment, zero, guarded);
        if (e == null && guarded) e = AllocNewGuarded(size, alignment, zero, frequentReuse);
        return e;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private Edata* AllocReal(nuint size, nuint alignment, bool zero, bool guarded)
    {
        ExtentContext ctx = Context;
        Edata* e = ExtentOps<TPolicy>.Alloc(ctx, ctx.Dirty, null, size, alignment, zero, guarded);
        // With a muzzy decay time of 0 the muzzy cache is always empty: skip its lock.
        if (e == null && ctx.MuzzyDecayMs != 0) e = ExtentOps<TPolicy>.Alloc(ctx, ctx.Muzzy, null, size, alignment, zero, guarded);
        if (e == null)
        {
            e = ExtentOps<TPolicy>.AllocGrow(ctx, null, size, alignment, zero, guarded);
            if (e != null) ctx.Stats.AddMapped((long)e->Size);
        }

        return e;
    }

    private Edata* AllocNewGuarded(nuint size, nuint alignment, bool zero, bool frequentReuse)
    {
        ExtentContext ctx = Context;
        bool bump = frequentReuse && SanBump.IsSupported(ctx);
        // Past the guard-mapping budget the request is an ordinary one (counted as skipped), before a
        // bigger extent is built for guards it could not have.
        if (!ctx.GuardBudget.HasRoomFor(bump ? 1 : 2)) return AllocReal(size, alignment, zero, guarded: false);
        // Slabs are cut from a bump region with a guard page after each: one mprotect per slab.
        if (bump)
        {
            // Guards are a sample, not a promise: if the guarded slab cannot be had, an ordinary one will do.
            Edata* bumped = _sanBump.Alloc(ctx, size, zero);
            return bumped != null ? bumped : AllocReal(size, alignment, zero, guarded: false);
        }

        nuint guardedSize = size + 2 * ctx.Page;
        if (guardedSize < size) return null;
        Edata* e = AllocReal(guardedSize, ctx.Page, zero, guarded: false);
        if (e == null) return null;
        if (!PageGuard.GuardPages(ctx, e, left: true, right: true, remap: true))
        {
            // Guards are a sample, not a promise: without them the caller still gets its memory.
            Free(e);
            return AllocReal(size, alignment, zero, guarded: false);
        }

        ctx.Stats.AddMapped(-2 * (long)ctx.Page);
        return e;
    }

    /// <summary>An unguarded extent; see <see cref="Alloc(nuint, nuint, bool, bool, bool)"/>.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* Alloc(nuint size, nuint alignment, bool zero) => Alloc(size, alignment, zero, guarded: false, frequentReuse: false);

    /// <inheritdoc/>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public bool Expand([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize, bool zero)
    {
        ExtentContext ctx = Context;
        Debug.Assert(newSize > oldSize && e->Size == oldSize && !e->IsGuarded);
        nuint amount = newSize - oldSize;
        Edata* trail = ExtentOps<TPolicy>.Alloc(ctx, ctx.Dirty, e, amount, ctx.Page, zero, guarded: false);
        if (trail == null) trail = ExtentOps<TPolicy>.Alloc(ctx, ctx.Muzzy, e, amount, ctx.Page, zero, guarded: false);
        if (trail == null)
        {
            trail = ExtentOps<TPolicy>.AllocGrow(ctx, e, amount, ctx.Page, zero, guarded: false);
            if (trail != null) ctx.Stats.AddMapped((long)amount);
        }

        if (trail == null) return false;
        if (!ExtentOps<TPolicy>.MergeWrapper(ctx, e, trail))
        {
            Free(trail);
            return false;
        }

        return true;
    }

    /// <inheritdoc/>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public bool Shrink([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize)
    {
        Debug.Assert(newSize < oldSize && e->Size == oldSize && !e->IsGuarded);
        Edata* trail = ExtentOps<TPolicy>.SplitWrapper(Context, e, newSize, oldSize - newSize);
        if (trail == null) return false;
        ExtentOps<TPolicy>.Dalloc(Context, Context.Dirty, trail);
        HandleDeferredWork();
        return true;
    }

    /// <inheritdoc/>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Free([AcquiredExtent] Edata* e)
    {
        Dalloc(e);
        HandleDeferredWork();
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void Dalloc(Edata* e)
    {
        bool slab = e->IsSlab;
        // A free extent has no size class and is no slab, in its edata and in the map.
        Context.Map.Remap(e, Edata.NoSizeIndex, slab: false);
        // Only guarded slabs are worth caching guarded; a guarded large extent would only ever be
        // reused by an exact fit, so its guards come off now and it joins the ordinary caches.
        if (ExtentPolicy<TPolicy>.IsGuarded(e) && !slab && !TryUnguard(e)) return;
        ExtentOps<TPolicy>.Dalloc(Context, Context.Dirty, e);
    }

    // Every extent unguarded here has guards on both sides: guarded large extents always do, and
    // slabs only come right-guarded from the bump region, which needs retain with the default
    // hooks, where dalloc refuses and slabs stay guarded until destroy. When the OS refuses to
    // unguard, the extent is unmapped with its guard pages rather than cached with a page that
    // might still fault: false, and the extent is gone.
    private bool TryUnguard(Edata* e)
    {
        ExtentContext ctx = Context;
        Debug.Assert(!e->IsSlab || !SanBump.IsSupported(ctx));
        nuint before = e->Size;
        if (PageGuard.UnguardPages(ctx, e, left: true, right: true))
        {
            ctx.Stats.AddMapped((long)(e->Size - before));
            return true;
        }

        ctx.Stats.AddMapped(-(long)PageGuard.Discard(ctx, e, left: true, right: true));
        return false;
    }

    /// <inheritdoc/>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public long TimeUntilDeferredWork()
    {
        long dirty = TimeUntilPurge(_dirtyDecay, Context.Dirty);
        return dirty == 0 ? 0 : Math.Min(dirty, TimeUntilPurge(_muzzyDecay, Context.Muzzy));
    }

    private static long TimeUntilPurge(DecayTracker decay, Ecache ecache)
    {
        // A contended lock means somebody is deciding right now: report "due" rather than wait.
        if (!decay.Lock.TryEnter()) return 0;
        try
        {
            return decay.NsUntilPurge(ecache.Npages, DeferredPurgeThresholdPages);
        }
        finally
        {
            decay.Lock.Exit();
        }
    }

    /// <inheritdoc/>
    public void DoDeferredWork() => Decay(DecayEagerness.Always, waitForLock: true);

    /// <summary>
    /// Purges everything now (jemalloc's arena purge): dirty pages go straight to retained (or are
    /// unmapped without retain), then muzzy ones.
    /// </summary>
    public void PurgeAll()
    {
        DecayAll(_dirtyDecay, Context.Dirty);
        DecayAll(_muzzyDecay, Context.Muzzy);
    }

    /// <summary>
    /// One decay pass over both caches, as a tick or the background purger runs it. Returns without
    /// waiting when another thread holds a decay lock, unless <paramref name="waitForLock"/> is set.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Decay(DecayEagerness eagerness, bool waitForLock = false)
    {
        DecayOne(_dirtyDecay, Context.Dirty, eagerness, waitForLock);
        DecayOne(_muzzyDecay, Context.Muzzy, eagerness, waitForLock);
    }

    /// <summary>Changes a decay time at run time: -1 never, 0 at once, or milliseconds. The backlog restarts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The time is below -1 or above <see cref="DecayTracker.MaxDecayMs"/>.</exception>
    public void SetDecayMs(ExtentState state, long decayMs)
    {
        CheckDecayMs(decayMs, nameof(decayMs));
        (DecayTracker decay, Ecache ecache) = state switch
        {
            ExtentState.Dirty => (_dirtyDecay, Context.Dirty),
            ExtentState.Muzzy => (_muzzyDecay, Context.Muzzy),
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Only the dirty and muzzy caches decay."),
        };
        using (decay.Lock.EnterScope())
        {
            decay.Reinit(_clock.NowNs(), decayMs);
            if (state == ExtentState.Dirty) Context.DirtyDecayMs = decayMs;
            else Context.MuzzyDecayMs = decayMs;
            MaybeDecayPurge(decay, ecache, DecayEagerness.OnEpochAdvance);
        }
    }

    /// <summary>
    /// Returns all address space to the hooks. Every extent must have been freed; dirty and muzzy
    /// ones are purged first.
    /// </summary>
    public void Destroy()
    {
        PurgeAll();
        ExtentContext ctx = Context;
        _sanBump.Destroy(ctx);
        Edata* e;
        while ((e = ExtentOps<TPolicy>.Evict(ctx, ctx.Retained, 0)) != null)
        {
            // Seed commit: retained guarded slabs must lose their guard before the mapping goes, or
            // the guard page would outlive the arena.
            if (ExtentPolicy<TPolicy>.IsGuarded(e)) PageGuard.UnguardPagesPreDestroy(ctx, e);
            ExtentOps<TPolicy>.DestroyWrapper(ctx, e);
        }
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void HandleDeferredWork()
    {
        // A decay time of 0 means freed pages do not linger at all.
        if (_dirtyDecay.DecayMs == 0) DecayOne(_dirtyDecay, Context.Dirty, DecayEagerness.Always, waitForLock: true);
        if (_muzzyDecay.DecayMs == 0 && Context.Muzzy.Npages != 0) DecayOne(_muzzyDecay, Context.Muzzy, DecayEagerness.Always, waitForLock: true);
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void DecayOne(DecayTracker decay, Ecache ecache, DecayEagerness eagerness, bool waitForLock)
    {
        if (waitForLock) decay.Lock.Enter();
        else if (!decay.Lock.TryEnter()) return;
        try
        {
            MaybeDecayPurge(decay, ecache, eagerness);
        }
        finally
        {
            decay.Lock.Exit();
        }
    }

    // Everything, straight past muzzy: the explicit purge.
    private void DecayAll(DecayTracker decay, Ecache ecache)
    {
        using (decay.Lock.EnterScope()) DecayToLimit(decay, ecache, fully: true, 0, ecache.Npages);
    }

    // Decay lock held.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void MaybeDecayPurge(DecayTracker decay, Ecache ecache, DecayEagerness eagerness)
    {
        long ms = decay.DecayMs;
        if (ms <= 0)
        {
            if (ms == 0) DecayToLimit(decay, ecache, fully: false, 0, ecache.Npages);
            return;
        }

        nuint npages = ecache.Npages;
        bool advanced = decay.MaybeAdvanceEpoch(_clock.NowNs(), npages);
        ulong limit = decay.NpagesLimit;
        if ((eagerness == DecayEagerness.Always || (advanced && eagerness == DecayEagerness.OnEpochAdvance)) && npages > limit)
            DecayToLimit(decay, ecache, fully: false, (nuint)limit, npages - (nuint)limit);
    }

    // Decay lock held on entry and exit; dropped while purging so epochs can advance meanwhile.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void DecayToLimit(DecayTracker decay, Ecache ecache, bool fully, nuint limit, nuint max)
    {
        if (decay.Purging)
        {
            if (!fully) return;
            // An explicit purge must not return while another pass (the background purger's, say)
            // purges only down to its decay limit: wait for it, then purge what it left.
            var spin = new SpinWait();
            do
            {
                decay.Lock.Exit();
                spin.SpinOnce();
                decay.Lock.Enter();
            }
            while (decay.Purging);
            max = ecache.Npages;
        }

        if (max == 0) return;
        decay.Purging = true;
        decay.Lock.Exit();
        try
        {
            // Evicted extents are active and in no set, so their list links are free to chain them:
            // a purge pass allocates nothing on the GC heap.
            var stash = new EdataList<ActiveLinks>();
            nuint stashed = 0;
            Edata* e;
            while (stashed < max && (e = ExtentOps<TPolicy>.Evict(Context, ecache, limit)) != null)
            {
                stash.Append(e);
                stashed += e->Size / Context.Page;
            }

            DecayStashed(ecache, fully, ref stash);
        }
        finally
        {
            decay.Lock.Enter();
            decay.Purging = false;
        }
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void DecayStashed(Ecache ecache, bool fully, ref EdataList<ActiveLinks> stash)
    {
        if (stash.IsEmpty) return;
        ExtentContext ctx = Context;
        bool tryMuzzy = !fully && ctx.MuzzyDecayMs != 0;
        long pages = 0, unmapped = 0, extents = 0;
        Edata* e;
        while ((e = stash.First) != null)
        {
            stash.Remove(e);
            extents++;
            pages += (long)(e->Size / ctx.Page);
            if (ecache == ctx.Dirty && tryMuzzy && ctx.Hooks.PurgeLazy(e->Base, e->Size, 0, e->Size, ctx.ArenaIndex))
            {
                ExtentOps<TPolicy>.Dalloc(ctx, ctx.Muzzy, e);
                continue;
            }

            // Unmapping needs the guards off first; with retain the extent stays guarded when retained.
            if (ExtentPolicy<TPolicy>.IsGuarded(e) && !ExtentPolicy<TPolicy>.DallocWillFail(ctx) && !TryUnguard(e)) continue;
            unmapped += (long)e->Size;
            ExtentOps<TPolicy>.DallocWrapper(ctx, e);
        }

        ExtentStats s = ctx.Stats;
        bool dirty = ecache == ctx.Dirty;
        Interlocked.Increment(ref dirty ? ref s.DirtyPurges : ref s.MuzzyPurges);
        Interlocked.Add(ref dirty ? ref s.DirtyPurgeCalls : ref s.MuzzyPurgeCalls, extents);
        Interlocked.Add(ref dirty ? ref s.DirtyPurgedPages : ref s.MuzzyPurgedPages, pages);
        s.AddMapped(-unmapped);
    }

    private static void CheckRequest(ExtentContext ctx, nuint size, nuint alignment)
    {
        if (size == 0 || (size & (ctx.Page - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An extent size must be a non-zero multiple of the page size ({ctx.Page}).");
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        if ((ulong)size > ctx.PageClasses.LargeMaxClass)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An extent cannot exceed {ctx.PageClasses.LargeMaxClass} bytes.");
    }

    private static void CheckDecayMs(long decayMs, string name)
    {
        if (!DecayTracker.IsValidDecayMs(decayMs))
            throw new ArgumentOutOfRangeException(name, decayMs, $"A decay time is -1 (never), 0 (at once) or a number of milliseconds up to {DecayTracker.MaxDecayMs}.");
    }
}

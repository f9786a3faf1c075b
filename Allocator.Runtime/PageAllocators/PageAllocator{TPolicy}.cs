using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Extents;
using Allocator.Guards;
using Allocator.Hooks;
using Allocator.Hpa;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Sizing;
using Allocator.Threading;

namespace Allocator.PageAllocators;

/// <summary>
/// A page allocator shard (jemalloc's pa_shard): the one place an arena gets extents from. It owns
/// the metadata, the extent context (edata cache and the three ecaches) and the classic page
/// allocator behind <see cref="IPageAllocatorBackend"/>, keeps the map's size index and slab bits
/// right, and counts active pages.
/// </summary>
/// <remarks>
/// With <see cref="PageAllocatorOptions.HugePages"/> on, the hugepage allocator (behind its small
/// extent cache) sits beside <see cref="Classic"/> and is chosen per request here: unguarded, unzeroed requests of at most a page of alignment and 64 KiB. Each extent
/// records its backend (<see cref="Edata.IsHugePageAllocated"/>) and goes back to it when freed.
/// </remarks>
/// <typeparam name="TPolicy">
/// The shard's policy. A literal one must agree with the options (the constructor checks); its copy
/// of the extent layer then has no sampling or guard code when guards are off, and so on.
/// </typeparam>
[EditorBrowsable(EditorBrowsableState.Advanced)]
internal sealed unsafe class PageAllocator<TPolicy> : IDisposable where TPolicy : struct, IExtentPolicy
{
    private readonly nuint _page;
    private long _activePages;
    private readonly RankedLock _purgerLock = new(LockRank.PurgerControl);
    private BackgroundPurger.Registration? _backgroundPurge;
    private bool _destroyed;
    private readonly HpaShard? _hpa;
    private readonly Sec? _sec;
    private long _hpaActivePages;

    /// <summary>Creates a shard for arena <paramref name="arenaIndex"/>.</summary>
    /// <exception cref="ArgumentException">The options disagree with a literal <typeparamref name="TPolicy"/>; the message names the setting.</exception>
    public PageAllocator(uint arenaIndex, PageAllocatorOptions? options = null)
    {
        options ??= new PageAllocatorOptions();
        CheckAgreesWithPolicy(options);
        IExtentHooks hooks = options.Hooks ?? DefaultExtentHooks.For(options.Retain);
        SizeClasses classes = options.PageClasses ?? OsPageClasses.Value;
        _page = Pages.PageSize;
        // Eager's pageslabs are huge from their first touch; so is the metadata of their slabs, once there is much of it.
        Base = new Base(options.MetadataUsesHooks ? hooks : DefaultExtentHooks.Unmapping, arenaIndex)
        {
            HugePageBlocks = options.HugePages == HugePageMode.Eager && UsesHugePages(options) && Thp.Available,
        };
        try
        {
            Context = new ExtentContext(arenaIndex, hooks, options.Map ?? ExtentMap.Shared, Base, classes, options.Retain,
                options.LgExtentMaxActiveFit, options.OversizeThreshold, options.DirtyDecayMs, options.MuzzyDecayMs);
            Classic = new ClassicPageAllocator<TPolicy>(Context, options.TimeProvider);
            Sampler = new GuardSampler(Context, options.GuardLargeEvery, options.GuardSmallEvery);
            Context.GuardBudget = new GuardBudget(options.GuardAccount ?? GuardMappingAccount.Process, options.GuardMappingShare);

            if (UsesHugePages(options))
            {
                if (options.HugifyDelayMs < 0) throw new ArgumentOutOfRangeException(nameof(options), options.HugifyDelayMs, "The hugify delay is 0 or more milliseconds.");
                _hpa = new HpaShard(HpaCentral.Shared, OsHpaHooks.Instance, Base, Context.EdataCache, Context.Map, classes, arenaIndex,
                    HpaOptionsOf(options));
                _sec = new Sec(_hpa, new SecOptions());
            }
        }
        catch
        {
            Base.Dispose();
            throw;
        }
    }

    private static HpaShardOptions HpaOptionsOf(PageAllocatorOptions options) => new()
    {
        Eager = options.HugePages == HugePageMode.Eager,
        HugifyDelayMs = options.HugifyDelayMs,
        HugificationThreshold = (nuint)(HugePage.Size * options.HugificationThreshold),
        DirtyMult = options.HugePageDirtyMult,
        MinPurgeIntervalMs = options.HugePageMinPurgeIntervalMs,
    };

    // Hugepages need the OS underneath (custom hooks supply their own memory) and mmap.
    private static bool UsesHugePages(PageAllocatorOptions options) =>
        options.HugePages != HugePageMode.Off && options.Hooks is null or DefaultExtentHooks && OperatingSystem.IsLinux() && HugePage.IsSupported;

    private static void CheckAgreesWithPolicy(PageAllocatorOptions options)
    {
        if (TPolicy.IsRuntimeConfigured) return;
        Check(nameof(options.Retain), options.Retain, TPolicy.Retain);
        Check(nameof(options.LgExtentMaxActiveFit), options.LgExtentMaxActiveFit, TPolicy.LgExtentMaxActiveFit);
        Check(nameof(options.GuardSmallEvery), options.GuardSmallEvery, TPolicy.GuardSmallEvery);
        Check(nameof(options.GuardLargeEvery), options.GuardLargeEvery, TPolicy.GuardLargeEvery);
        Check("default hooks", options.Hooks is null or DefaultExtentHooks, TPolicy.UsesDefaultHooks);

        static void Check<T>(string name, T given, T policy)
        {
            if (!Equals(given, policy))
                throw new ArgumentException($"The options say {name} = {given} but the policy {typeof(TPolicy)} was compiled for {policy}.", nameof(options));
        }
    }

    /// <summary>Metadata memory of this shard.</summary>
    public Base Base { get; }

    /// <summary>Extents, caches, hooks.</summary>
    public ExtentContext Context { get; }

    /// <summary>The classic backend.</summary>
    public ClassicPageAllocator<TPolicy> Classic { get; }

    /// <summary>Decides which extents get guard pages.</summary>
    public GuardSampler Sampler { get; }

    /// <summary>
    /// Checks the hugepage allocator: every pageslab consistent with its bitmaps and its set, and its
    /// active pages equal to those of <paramref name="liveHugePageExtents"/> plus the cached ones.
    /// </summary>
    /// <exception cref="InvalidOperationException">An invariant is broken; the message says which.</exception>
    public void ValidateHugePages(ReadOnlySpan<nint> liveHugePageExtents)
    {
        if (_hpa is null) return;
        long pages = 0;
        foreach (nint handle in liveHugePageExtents)
        {
            var e = (Edata*)handle;
            if (!e->IsHugePageAllocated || e->State != ExtentState.Active || !Context.Map.IsMapped(e))
                throw new InvalidOperationException($"Hugepage invariant broken: the extent at 0x{(nuint)e->Base:x} is not an active, mapped hugepage extent.");
            pages += (long)(e->Size / _page);
        }

        if (pages != Volatile.Read(ref _hpaActivePages))
            throw new InvalidOperationException($"Hugepage invariant broken: the shard counts {Volatile.Read(ref _hpaActivePages)} live hugepage pages but the extents have {pages}.");
        _hpa.Validate(pages + _sec!.Bytes / (long)_page);
    }

    /// <summary>Whether the hugepage allocator serves this shard's small extents.</summary>
    public bool UsesHugePageAllocator => _hpa is not null;

    internal HpaShard? HugePageShard => _hpa;

    /// <summary>Bytes in active extents.</summary>
    public long ActiveBytes => Volatile.Read(ref _activePages) * (long)_page;

    /// <summary>
    /// An active extent for an allocation of size class <paramref name="sizeIndex"/>: a slab (its
    /// interior pages registered, so any region's address finds it) or a large extent. Null when no
    /// memory could be had.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public Edata* Alloc(nuint size, nuint alignment, bool slab, int sizeIndex, bool zero)
    {
        bool guarded = slab
            ? ExtentPolicy<TPolicy>.MayGuardSlabs && Sampler.ShouldGuardSlab()
            : ExtentPolicy<TPolicy>.MayGuardLarge && Sampler.ShouldGuardLarge(size, alignment);
        Edata* e = null;
        if (_hpa is not null && !guarded && _hpa.Accepts(size, alignment, zero))
        {
            e = _sec!.Alloc(size, alignment, zero);
            if (e != null) Interlocked.Add(ref _hpaActivePages, (long)(e->Size / _page));
        }

        // A refusal or a failure of the hugepage allocator falls back to the classic one.
        if (e == null) e = Classic.Alloc(size, alignment, zero, guarded, frequentReuse: slab);
        if (e == null) return null;
        Interlocked.Add(ref _activePages, (long)(e->Size / _page));
        Context.Map.Remap(e, sizeIndex, slab);
        if (slab) Context.Map.RegisterInterior(e, sizeIndex);
        return e;
    }

    /// <summary>Grows a large extent in place; false with nothing changed when it cannot.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public bool Expand([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize, int sizeIndex, bool zero)
    {
        // A hugepage extent is never resized in place: the caller moves it.
        if (ExtentPolicy<TPolicy>.IsGuarded(e) || e->IsHugePageAllocated) return false;
        if (!Classic.Expand(e, oldSize, newSize, zero)) return false;
        Interlocked.Add(ref _activePages, (long)((newSize - oldSize) / _page));
        Context.Map.Remap(e, sizeIndex, false);
        return true;
    }

    /// <summary>Shrinks a large extent in place; false with nothing changed when it cannot.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public bool Shrink([AcquiredExtent] Edata* e, nuint oldSize, nuint newSize, int sizeIndex)
    {
        if (ExtentPolicy<TPolicy>.IsGuarded(e) || e->IsHugePageAllocated) return false;
        if (!Classic.Shrink(e, oldSize, newSize)) return false;
        Interlocked.Add(ref _activePages, -(long)((oldSize - newSize) / _page));
        Context.Map.Remap(e, sizeIndex, false);
        return true;
    }

    /// <summary>Frees an active extent.</summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void Free([AcquiredExtent] Edata* e)
    {
        Debug.Assert(e->State == ExtentState.Active);
        // The backend clears the size index and slab bit; it still needs the latter (guarded slabs are cached guarded).
        if (e->IsSlab) Context.Map.DeregisterInterior(e);
        Interlocked.Add(ref _activePages, -(long)(e->Size / _page));
        if (e->IsHugePageAllocated)
        {
            Interlocked.Add(ref _hpaActivePages, -(long)(e->Size / _page));
            Context.Map.Remap(e, Edata.NoSizeIndex, slab: false);
            _sec!.Free(e);
            return;
        }

        Classic.Free(e);
    }

    /// <summary>
    /// One decay pass, as an allocation tick runs it: purges only if an epoch advanced, and not at
    /// all while the background purger serves the shard (the tick then only advances the epoch and
    /// wakes the purger early when dirty pages jumped).
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void DecayTick()
    {
        BackgroundPurger.Registration? background = _backgroundPurge;
        if (background is null)
        {
            Classic.Decay(DecayEagerness.OnEpochAdvance);
            return;
        }

        Classic.Decay(DecayEagerness.Never);
        background.OnTick();
    }

    /// <summary>Purges every dirty and muzzy page now.</summary>
    public void PurgeAll()
    {
        Classic.PurgeAll();
        if (_hpa is null) return;
        _sec!.Flush();
        _hpa.PurgeAll();
    }

    /// <summary>Changes the dirty or muzzy decay time at run time.</summary>
    public void SetDecayMs(ExtentState state, long decayMs) => Classic.SetDecayMs(state, decayMs);

    /// <summary>
    /// Hands this shard's decay, and the hugepage shard's hugifies and purges, to the process's
    /// <see cref="BackgroundPurger"/>, so that application threads never purge and freed
    /// pages go back although nobody calls the arena.
    /// Idempotent.
    /// </summary>
    public void StartBackgroundPurge()
    {
        using (_purgerLock.EnterScope())
        {
            ObjectDisposedException.ThrowIf(_destroyed, this);
            ExtentContext ctx = Context;
            if (_backgroundPurge is not null) return;
            HpaShard? hpa = _hpa;
            _backgroundPurge = BackgroundPurger.Register(Classic, () => (long)ctx.Dirty.Npages + (hpa?.DirtyPagesHint ?? 0), hpa);
            // From now on the purger hugifies and purges the pageslabs; allocating threads only wake it.
            hpa?.DeferTo(BackgroundPurger.Wake);
        }
    }

    /// <summary>Whether the process's background purger serves this shard.</summary>
    public bool IsBackgroundPurged => _backgroundPurge is not null;

    /// <summary>A snapshot of the figures.</summary>
    public PageAllocatorStats GetStats()
    {
        ExtentContext ctx = Context;
        ExtentStats s = ctx.Stats;
        long page = (long)_page;
        HpaShardStats h = _hpa?.GetStats() ?? default;
        long anonHuge = 0;
        if (_hpa is not null && h.Pageslabs != 0)
        {
            var ranges = new System.Collections.Generic.List<(nuint, nuint)>();
            foreach (nuint slab in _hpa.SlabAddresses()) ranges.Add((slab, HugePage.Size));
            anonHuge = AnonHugePages.Measure(ranges);
        }

        return new PageAllocatorStats
        {
            Pageslabs = h.Pageslabs,
            HugePageslabs = h.HugePageslabs,
            HpaActive = h.ActivePages * page,
            HpaDirty = h.DirtyPages * page,
            SecBytes = _sec?.Bytes ?? 0,
            Hugifies = h.Hugifies,
            HugifyFailures = h.HugifyFailures,
            Dehugifies = h.Dehugifies,
            HpaPurgePasses = h.PurgePasses,
            HpaPurges = h.Purges,
            AnonHugePages = anonHuge,
            PaMapped = s.PaMapped,
            Active = ActiveBytes,
            Dirty = (long)ctx.Dirty.Npages * page,
            Muzzy = (long)ctx.Muzzy.Npages * page,
            Retained = (long)ctx.Retained.Npages * page,
            BaseAllocated = (long)Base.Allocated,
            BaseResident = (long)Base.Resident,
            BaseMapped = (long)Base.Mapped,
            Abandoned = s.Abandoned,
            DirtyPurges = Volatile.Read(ref s.DirtyPurges),
            DirtyPurgeCalls = Volatile.Read(ref s.DirtyPurgeCalls),
            DirtyPurgedPages = Volatile.Read(ref s.DirtyPurgedPages),
            MuzzyPurges = Volatile.Read(ref s.MuzzyPurges),
            MuzzyPurgeCalls = Volatile.Read(ref s.MuzzyPurgeCalls),
            MuzzyPurgedPages = Volatile.Read(ref s.MuzzyPurgedPages),
            SlabPurgeCalls = Volatile.Read(ref s.SlabPurgeCalls),
            SlabPurgedPages = Volatile.Read(ref s.SlabPurgedPages),
            EdataCached = ctx.EdataCache.Count,
            GuardMappings = ctx.GuardBudget.Mappings,
            GuardMappingLimit = ctx.GuardBudget.Limit,
            GuardsSkippedForBudget = ctx.GuardBudget.SkippedForBudget,
            GuardProtectRefusals = ctx.GuardBudget.RefusedByOs,
        };
    }

    /// <summary>
    /// Returns every mapping and all metadata to the hooks. Every extent must have been freed.
    /// </summary>
    public void Dispose()
    {
        BackgroundPurger.Registration? background;
        using (_purgerLock.EnterScope())
        {
            if (_destroyed) return;
            _destroyed = true;
            background = _backgroundPurge;
            _backgroundPurge = null;
        }

        // Waits for a pass that is purging this shard to finish.
        if (background is not null) Allocator.PageAllocators.BackgroundPurger.Unregister(background);
        _sec?.Flush();
        _hpa?.Destroy();
        Classic.Destroy();
        Base.Dispose();
    }
}

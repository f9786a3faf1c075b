using System;
using System.Collections.Generic;
using System.Diagnostics;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Sizing;
using Allocator.Threading;

namespace Allocator.Hpa;

/// <summary>
/// One arena's hugepage allocator (jemalloc's hpa_shard): serves extents of at most
/// <see cref="HpaShardOptions.SlabMaxAlloc"/> from 2 MiB pageslabs got from the
/// <see cref="HpaCentral"/>, best fit across slabs and first fit inside one, and decides when a
/// slab is hugified (it stayed nearly full for a while), dehugified and purged (dirty pages over a
/// share of the active ones).
/// </summary>
/// <remarks>
/// The shard lock guards the psset and every slab; a purge or hugify drops it around the system
/// calls, with the slab marked as changing state. Growth is serialized by its own lock so that
/// frees go on while one thread maps. Empty slabs stay mapped until <see cref="Destroy"/>.
/// </remarks>
internal sealed unsafe class HpaShard : ISecFallback
{
    private readonly RankedLock _lock = new(LockRank.HpaShard);
    private readonly RankedLock _growLock = new(LockRank.HpaGrow);
    private readonly HpaCentral _central;
    private readonly IHpaHooks _hooks;
    private readonly Base _base;
    private readonly EdataCache _edataCache;
    private readonly ExtentMap _map;
    private readonly uint _arenaIndex;
    private readonly HpaShardOptions _opts;
    private readonly nuint _page = Os.Pages.PageSize;
    private readonly Psset _psset;
    private readonly Dictionary<nuint, nint> _slabs = new();
    private ulong _age;
    private long _npendingPurge;
    private long _lastPurgeNs;
    private long _purgePasses, _purges, _hugifies, _hugifyFailures, _dehugifies;
    private bool _hugifyRefused;
    private bool _destroyed;
    private volatile bool _deferralAllowed;
    private Action? _wakeDeferredWorker;

    /// <summary>Creates a shard for arena <paramref name="arenaIndex"/>; its slab metadata comes from <paramref name="base"/>, its edatas from <paramref name="edataCache"/>.</summary>
    public HpaShard(HpaCentral central, IHpaHooks hooks, Base @base, EdataCache edataCache, ExtentMap map, SizeClasses pageClasses,
        uint arenaIndex, HpaShardOptions opts)
    {
        _central = central;
        _hooks = hooks;
        _base = @base;
        _edataCache = edataCache;
        _map = map;
        _arenaIndex = arenaIndex;
        _opts = opts;
        _deferralAllowed = opts.DeferralAllowed;
        _psset = new Psset(pageClasses);
        _lastPurgeNs = hooks.NowNs();
    }

    /// <summary>The options.</summary>
    public HpaShardOptions Options => _opts;

    /// <summary>Whether a background thread does the deferred work (set from the options, or later by <see cref="DeferTo"/>).</summary>
    public bool DeferralAllowed => _deferralAllowed;

    /// <summary>Dirty pages, read without the lock (a hint for waking the background thread).</summary>
    public long DirtyPagesHint => _psset.NDirty;

    /// <summary>
    /// Hands the deferred work (hugifies after their delay, purges to the dirty limit) to a background
    /// thread: allocations and frees stop doing it inline, and call <paramref name="wake"/> when some is due.
    /// </summary>
    public void DeferTo(Action wake)
    {
        using (_lock.EnterScope())
        {
            _wakeDeferredWorker = wake;
            _deferralAllowed = true;
        }
    }

    /// <summary>Whether this shard takes a request (jemalloc's refusals: above a page of alignment, zeroed, too large).</summary>
    public bool Accepts(nuint size, nuint alignment, bool zero) => size <= _opts.SlabMaxAlloc && alignment <= _page && !zero;

    /// <inheritdoc/>
    public Edata* Alloc(nuint size, nuint alignment, bool zero)
    {
        Edata* e;
        return AllocBatch(size, alignment, zero, 1, &e) == 1 ? e : null;
    }

    /// <inheritdoc/>
    public int AllocBatch(nuint size, int count, Edata** results) => AllocBatch(size, _page, false, count, results);

    private int AllocBatch(nuint size, nuint alignment, bool zero, int count, Edata** results)
    {
        if (size == 0 || size % _page != 0) throw new ArgumentOutOfRangeException(nameof(size), size, $"A hugepage extent is a non-zero multiple of the page size ({_page}).");
        if (!Accepts(size, alignment, zero) || count <= 0) return 0;

        int got;
        bool oom;
        using (_lock.EnterScope())
        {
            got = AllocFromPsset(size, count, results, out oom);
            MaybeDoDeferredWork(forced: false);
        }

        if (got == count || oom) return got;

        // Short: grow. Another thread may have grown meanwhile, so try again first.
        using (_growLock.EnterScope())
        {
            using (_lock.EnterScope())
            {
                got += AllocFromPsset(size, count - got, results + got, out oom);
                if (got == count || oom) return got;
            }

            Hpdata* ps = NewSlab();
            if (ps == null) return got;
            using (_lock.EnterScope())
            {
                ps->Age = _age++;
                _psset.Insert(ps);
                _slabs.Add((nuint)ps->Address, (nint)ps);
                // Still holding the lock: the new slab serves this request before anybody else's.
                got += AllocFromPsset(size, count - got, results + got, out _);
            }
        }

        return got;
    }

    // The system calls of growth run outside the shard lock.
    private Hpdata* NewSlab()
    {
        var ps = (Hpdata*)_base.Allocate((nuint)sizeof(Hpdata), 64);
        if (ps == null) return null;
        void* address = _central.Extract();
        if (address == null) return null;
        bool huge = _opts.Eager && !_hugifyRefused && _hooks.Hugify(address, HugePage.Size, collapse: false);
        if (_opts.Eager && !huge) _hugifyRefused = true;
        Hpdata.Init(ps, address, 0, isHuge: huge);
        return ps;
    }

    // Shard lock held.
    private int AllocFromPsset(nuint size, int count, Edata** results, out bool oom)
    {
        oom = false;
        for (int i = 0; i < count; i++)
        {
            Edata* e = _edataCache.Get();
            if (e == null)
            {
                oom = true;
                return i;
            }

            Hpdata* ps = _psset.PickAlloc(size);
            if (ps == null)
            {
                _edataCache.Put(e);
                return i;
            }

            _psset.UpdateBegin(ps);
            // The age follows the allocations in the slab: an emptied slab starts young again.
            if (ps->IsEmpty) ps->Age = _age++;
            void* address = Hpdata.Reserve(ps, size);
            // An eager slab purged while empty is still marked for huge pages: its next use faults one in.
            if (_opts.Eager && !_hugifyRefused && !ps->Huge) Hpdata.Hugify(ps);
            e->Init(_arenaIndex, address, size, slab: false, Edata.NoSizeIndex, ps->Age, ExtentState.Active, zeroed: false, committed: true, isHead: false);
            e->IsHugePageAllocated = true;
            if (!_map.RegisterBoundary(e, Edata.NoSizeIndex, slab: false))
            {
                Hpdata.Unreserve(ps, address, size);
                _edataCache.Put(e);
                UpdateEligibility(ps);
                _psset.UpdateEnd(ps);
                oom = true;
                return i;
            }

            UpdateEligibility(ps);
            _psset.UpdateEnd(ps);
            results[i] = e;
        }

        return count;
    }

    /// <inheritdoc/>
    public void Free(Edata* e)
    {
        e->ListNext = null;
        FreeBatch(e);
    }

    /// <inheritdoc/>
    public void FreeBatch(Edata* chain)
    {
        for (Edata* e = chain; e != null; e = e->ListNext)
        {
            Debug.Assert(e->IsHugePageAllocated && e->State == ExtentState.Active && e->ArenaIndex == _arenaIndex);
            _map.DeregisterBoundary(e);
        }

        using (_lock.EnterScope())
        {
            Edata* e = chain;
            while (e != null)
            {
                Edata* next = e->ListNext;
                void* address = e->Base;
                nuint size = e->Size;
                Hpdata* ps = SlabOf(address);
                _edataCache.Put(e);
                _psset.UpdateBegin(ps);
                Hpdata.Unreserve(ps, address, size);
                UpdateEligibility(ps);
                _psset.UpdateEnd(ps);
                e = next;
            }

            MaybeDoDeferredWork(forced: false);
        }
    }

    private Hpdata* SlabOf(void* address)
    {
        bool found = _slabs.TryGetValue((nuint)address & ~(HugePage.Size - 1), out nint ps);
        Debug.Assert(found, "a hugepage extent outside every slab of its shard");
        return (Hpdata*)ps;
    }

    // Shard lock held; between UpdateBegin and UpdateEnd.
    private void UpdateEligibility(Hpdata* ps)
    {
        if (ps->ChangingState)
        {
            ps->PurgeAllowed = false;
            ps->HugifyAllowed = false;
            return;
        }

        // Purging part of a huge page splits it: an eager shard purges whole (empty) slabs only.
        ps->PurgeAllowed = ps->NDirty > 0 && (!_opts.Eager || ps->IsEmpty);
        if (!_opts.Eager && !_hugifyRefused && !ps->Huge && (nuint)ps->NActive * _page >= _opts.HugificationThreshold)
        {
            // Sticky once set; each renewal pushes the hugify back while the slab keeps changing.
            ps->HugifyAllowed = true;
            ps->TimeHugifyAllowedNs = _hooks.NowNs();
        }

        if (ps->NActive == 0) ps->HugifyAllowed = false;
    }

    private long DirtyMax()
    {
        if (_opts.DirtyMult < 0) return long.MaxValue;
        return (long)Math.Floor(_psset.NActive * _opts.DirtyMult);
    }

    // Hugifying the candidate turns its retained pages into touched ones: room for them must exist.
    private bool HugificationBlocked(long adjustedDirty, long max)
    {
        Hpdata* candidate = _psset.PickHugify();
        return candidate != null && adjustedDirty + candidate->NRetained > max;
    }

    private bool ShouldPurge()
    {
        long adjusted = _psset.NDirty - _npendingPurge;
        long max = DirtyMax();
        return adjusted > max || HugificationBlocked(adjusted, max);
    }

    // Shard lock held on entry and exit; dropped around the system calls.
    private bool TryPurge()
    {
        Hpdata* ps = _psset.PickPurge();
        if (ps == null) return false;
        PurgeSlab(ps);
        return true;
    }

    private void PurgeSlab(Hpdata* ps)
    {
        _psset.UpdateBegin(ps);
        ps->MidPurge = true;
        ps->PurgeAllowed = false;
        ps->HugifyAllowed = false;
        ps->AllocAllowed = false;
        _psset.UpdateEnd(ps);

        // An eager slab keeps its huge-page advice (so its next use is huge again); a lazy one loses it.
        bool dehugify = ps->Huge && !_opts.Eager;
        HpdataPurgeState state;
        int ndirty = Hpdata.PurgeBegin(ps, &state);
        _npendingPurge += ndirty;
        long ranges = 0;
        _lock.Exit();
        try
        {
            if (dehugify) _hooks.Dehugify(ps->Address, HugePage.Size);
            while (Hpdata.PurgeNext(ps, &state, out void* address, out nuint size))
            {
                _hooks.Purge(address, size);
                ranges++;
            }
        }
        finally
        {
            _lock.Enter();
        }

        _npendingPurge -= ndirty;
        _purgePasses++;
        _purges += ranges;
        _lastPurgeNs = _hooks.NowNs();
        if (dehugify) _dehugifies++;

        _psset.UpdateBegin(ps);
        if (ps->Huge) Hpdata.Dehugify(ps);
        Hpdata.PurgeEnd(ps, &state);
        ps->MidPurge = false;
        ps->AllocAllowed = true;
        UpdateEligibility(ps);
        _psset.UpdateEnd(ps);
    }

    // Shard lock held on entry and exit.
    private bool TryHugify()
    {
        long adjusted = _psset.NDirty - _npendingPurge;
        if (HugificationBlocked(adjusted, DirtyMax())) return false;
        Hpdata* ps = _psset.PickHugify();
        if (ps == null) return false;
        if (_hooks.NowNs() - ps->TimeHugifyAllowedNs < _opts.HugifyDelayMs * 1_000_000) return false;

        _psset.UpdateBegin(ps);
        ps->MidHugify = true;
        ps->PurgeAllowed = false;
        ps->HugifyAllowed = false;
        _psset.UpdateEnd(ps);

        bool ok;
        _lock.Exit();
        try
        {
            ok = _hooks.Hugify(ps->Address, HugePage.Size, _opts.Collapse);
        }
        finally
        {
            _lock.Enter();
        }

        if (ok) _hugifies++;
        else
        {
            // No huge pages on this system: stop nominating candidates.
            _hugifyFailures++;
            _hugifyRefused = true;
        }

        _psset.UpdateBegin(ps);
        if (ok) Hpdata.Hugify(ps);
        ps->MidHugify = false;
        UpdateEligibility(ps);
        _psset.UpdateEnd(ps);
        return true;
    }

    private bool PurgeIntervalPassed() => _hooks.NowNs() - _lastPurgeNs >= _opts.MinPurgeIntervalMs * 1_000_000;

    // Shard lock held. Purges before hugifying so that the dirty limit leaves room for the hugify.
    private void MaybeDoDeferredWork(bool forced)
    {
        if (!forced && _deferralAllowed)
        {
            // As jemalloc's shard does: only report due work, so the background thread comes sooner.
            if (_wakeDeferredWorker is { } wake && TimeUntilDeferredWorkLocked() == 0) wake();
            return;
        }

        int maxOps = forced ? int.MaxValue : 16;
        int nops = 0;
        bool mayPurge = PurgeIntervalPassed();
        bool progress;
        do
        {
            progress = false;
            // Nothing left to purge ends the loop even while a blocked hugify still asks for one.
            while (mayPurge && nops < maxOps && ShouldPurge())
            {
                if (!TryPurge()) break;
                nops++;
                progress = true;
            }

            if (nops < maxOps && TryHugify())
            {
                nops++;
                progress = true;
            }
        }
        while (progress && nops < maxOps);
    }

    /// <summary>Does every purge and hugify that is due, as a background thread would.</summary>
    public void DoDeferredWork()
    {
        using (_lock.EnterScope()) MaybeDoDeferredWork(forced: true);
    }

    /// <summary>Nanoseconds until deferred work is due: 0 when it is, <see cref="long.MaxValue"/> when none is pending.</summary>
    public long TimeUntilDeferredWork()
    {
        using (_lock.EnterScope()) return TimeUntilDeferredWorkLocked();
    }

    private long TimeUntilDeferredWorkLocked()
    {
        long now = _hooks.NowNs();
        // A purge is pending only while some slab can be purged; else nothing would ever end the wait.
        long purgeLeft = ShouldPurge() && _psset.PickPurge() != null
            ? Math.Max(0, _lastPurgeNs + _opts.MinPurgeIntervalMs * 1_000_000 - now)
            : long.MaxValue;
        long hugifyLeft = long.MaxValue;
        Hpdata* candidate = _psset.PickHugify();
        if (candidate != null)
        {
            hugifyLeft = Math.Max(0, candidate->TimeHugifyAllowedNs + _opts.HugifyDelayMs * 1_000_000 - now);
            // A hugify blocked by the dirty limit waits for the purge that makes room.
            if (hugifyLeft == 0 && HugificationBlocked(_psset.NDirty - _npendingPurge, DirtyMax())) hugifyLeft = purgeLeft;
        }

        return Math.Min(purgeLeft, hugifyLeft);
    }

    /// <summary>Purges every dirty page of every slab now, whatever the limits (the arena's explicit purge).</summary>
    public void PurgeAll()
    {
        using (_lock.EnterScope())
        {
            foreach (nint handle in new List<nint>(_slabs.Values))
            {
                var ps = (Hpdata*)handle;
                if (ps->NDirty > 0 && !ps->ChangingState) PurgeSlab(ps);
            }
        }
    }

    /// <summary>The figures.</summary>
    public HpaShardStats GetStats()
    {
        using (_lock.EnterScope())
        {
            return new HpaShardStats
            {
                Pageslabs = _psset.NPageslabs,
                HugePageslabs = _psset.NHugePageslabs,
                ActivePages = _psset.NActive,
                DirtyPages = _psset.NDirty,
                PurgePasses = _purgePasses,
                Purges = _purges,
                Hugifies = _hugifies,
                HugifyFailures = _hugifyFailures,
                Dehugifies = _dehugifies,
            };
        }
    }

    /// <summary>The start of every slab (for the address-space readers).</summary>
    public List<nuint> SlabAddresses()
    {
        using (_lock.EnterScope()) return new List<nuint>(_slabs.Keys);
    }

    /// <summary>
    /// Throws on the first broken invariant: each slab consistent (<see cref="Hpdata.CheckConsistent"/>)
    /// and in the psset, the psset's counts equal to the slabs', and the active pages equal to
    /// <paramref name="activePages"/> (the pages of the live extents and of the cached ones).
    /// </summary>
    public void Validate(long activePages)
    {
        using (_lock.EnterScope())
        {
            long active = 0, dirty = 0;
            foreach (nint handle in _slabs.Values)
            {
                var ps = (Hpdata*)handle;
                string? broken = Hpdata.CheckConsistent(ps);
                if (broken != null) throw new InvalidOperationException($"Hugepage invariant broken: the pageslab at 0x{(nuint)ps->Address:x} {broken}.");
                if (!ps->InPsset || ps->Updating) throw new InvalidOperationException($"Hugepage invariant broken: the pageslab at 0x{(nuint)ps->Address:x} is out of its set.");
                active += ps->NActive;
                dirty += ps->NDirty;
            }

            if (active != _psset.NActive || dirty != _psset.NDirty || _slabs.Count != _psset.NPageslabs)
                throw new InvalidOperationException($"Hugepage invariant broken: the set counts {_psset.NPageslabs} slabs, {_psset.NActive} active and {_psset.NDirty} dirty pages, the slabs {_slabs.Count}, {active} and {dirty}.");
            if (active != activePages)
                throw new InvalidOperationException($"Hugepage invariant broken: the slabs have {active} active pages but the live and cached extents {activePages}.");
        }
    }

    /// <summary>Unmaps every pageslab. Every extent must have been freed.</summary>
    /// <exception cref="InvalidOperationException">A slab still has active pages (nothing is unmapped then).</exception>
    public void Destroy()
    {
        using (_lock.EnterScope())
        {
            if (_destroyed) return;
            foreach (nint handle in _slabs.Values)
            {
                if (!((Hpdata*)handle)->IsEmpty)
                    throw new InvalidOperationException($"The hugepage shard of arena {_arenaIndex} still has active pages at 0x{(nuint)((Hpdata*)handle)->Address:x}; free every extent first.");
            }

            _destroyed = true;
            foreach (nint handle in _slabs.Values)
            {
                var ps = (Hpdata*)handle;
                _psset.Remove(ps);
                _hooks.Unmap(ps->Address, HugePage.Size);
            }

            _slabs.Clear();
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.PageAllocators;
using Allocator.Sizing;
using Allocator.Threading;

namespace Allocator;

/// <summary>
/// The slabs of one small size class in one arena (jemalloc's bin_t): the current slab, a heap of
/// non-full slabs ordered by (serial number, address) so the oldest, lowest fill first, and a list
/// of full ones. It keeps its slabs and counters to itself and offers the arena whole operations,
/// each under its own lock. That lock ranks below every extent lock, so it is never held across a
/// call into the page allocator. A class has one bin per shard; every slab records the shard whose
/// bin made it, and its regions go back to that bin whichever thread frees them.
/// </summary>
internal sealed unsafe class Bin
{
    private readonly RankedLock _lock = new(LockRank.Bin);
    private readonly int _sizeIndex;
    private readonly int _shard;
    private readonly uint _regionSize;
    private readonly int _regionsPerSlab;
    private readonly nuint _slabSize;
    private readonly DivInfo _div;

    private Edata* _current;
    private PairingHeap<Edata, SerialThenAddress> _nonFull;
    private EdataList<ActiveLinks> _full;

    private long _allocations, _deallocations, _currentRegions, _slabs, _currentSlabs, _fills, _flushes;

    public Bin(BinInfo info, int shard)
    {
        _sizeIndex = info.SizeIndex;
        _shard = shard;
        _regionSize = (uint)info.RegionSize;
        _regionsPerSlab = info.RegionsPerSlab;
        _slabSize = (nuint)info.SlabSize;
        _div = info.Div;
    }

    /// <summary>
    /// Takes up to <paramref name="want"/> regions into <paramref name="buffer"/>, making new slabs
    /// from <paramref name="pa"/> as needed (with the lock dropped around it).
    /// </summary>
    /// <returns>How many regions were taken; fewer than wanted only when the page allocator had no slab.</returns>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public int Fill<TPolicy>(PageAllocator<TPolicy> pa, void** buffer, int want)
        where TPolicy : struct, IArenaPolicy
    {
        int got = 0;
        _lock.Enter();
        try
        {
            while (got < want)
            {
                void* p = TryTakeRegion();
                if (p != null)
                {
                    buffer[got++] = p;
                    continue;
                }

                _lock.Exit();
                Edata* slab;
                try
                {
                    slab = NewSlab(pa);
                }
                finally
                {
                    _lock.Enter();
                }

                if (slab == null) break;
                AddSlab(slab);
            }

            _allocations += got;
            _currentRegions += got;
            _fills++;
        }
        finally
        {
            _lock.Exit();
        }

        return got;
    }

    /// <summary>
    /// Returns regions to their slabs (<paramref name="slabs"/>[i] holds <paramref name="regions"/>[i])
    /// under one hold of the lock. Slabs that became empty are written to <paramref name="emptied"/>
    /// for the caller to free once the lock is released.
    /// </summary>
    /// <returns>A region that was already free (the others are returned all the same), or null.</returns>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void* Return(void** regions, Edata** slabs, int count, Edata** emptied, out int emptiedCount)
    {
        emptiedCount = 0;
        int freed = 0;
        void* doubleFreed = null;
        using (_lock.EnterScope())
        {
            for (int i = 0; i < count; i++)
            {
                Edata* empty = ReturnRegion(slabs[i], regions[i], out bool alreadyFree);
                if (alreadyFree)
                {
                    doubleFreed = regions[i];
                    continue;
                }

                freed++;
                if (empty != null) emptied[emptiedCount++] = empty;
            }

            _deallocations += freed;
            _currentRegions -= freed;
            _flushes++;
        }

        return doubleFreed;
    }

    /// <summary>Whether region <paramref name="region"/> of <paramref name="slab"/> is allocated (read under the lock).</summary>
    public bool IsAllocated(Edata* slab, int region)
    {
        using (_lock.EnterScope()) return slab->SlabBitmap.IsSet(region);
    }

    /// <summary>The bin's counters, read under one hold of the lock so that they agree with each other.</summary>
    public BinStats GetStats()
    {
        using (_lock.EnterScope())
        {
            return new BinStats(_sizeIndex, _regionSize, _regionsPerSlab, (long)_slabSize, _allocations, _deallocations,
                _currentRegions, _slabs, _currentSlabs, _fills, _flushes);
        }
    }

    /// <summary>
    /// Checks every slab's filing, marks and counts against the bin's, and appends the slabs to
    /// <paramref name="active"/> for the extent check.
    /// </summary>
    /// <exception cref="InvalidOperationException">An invariant is broken; the message says which.</exception>
    public void Validate(uint arenaIndex, List<nint> active)
    {
        using (_lock.EnterScope())
        {
            long regions = 0;
            var slabs = new List<(nint Slab, string Where)>();
            if (_current != null) slabs.Add(((nint)_current, "current"));
            var heap = new List<nint>();
            _nonFull.ForEach(&Collect, Unsafe.AsPointer(ref heap));
            foreach (nint s in heap) slabs.Add((s, "non-full"));
            for (Edata* s = _full.First; s != null; s = EdataList<ActiveLinks>.Next(s)) slabs.Add(((nint)s, "full"));
            foreach (var (handle, where) in slabs)
            {
                var s = (Edata*)handle;
                int used = s->SlabBitmap.CountSet(_regionsPerSlab);
                if (!s->IsSlab || s->SizeIndex != _sizeIndex || s->State != ExtentState.Active || s->ArenaIndex != arenaIndex)
                    throw Arena.InvariantBroken($"the {where} slab at 0x{(nuint)s->Address:x} of bin {_sizeIndex} has slab={s->IsSlab}, size index {s->SizeIndex}, state {s->State}");
                if (s->BinShard != _shard)
                    throw Arena.InvariantBroken($"the {where} slab at 0x{(nuint)s->Address:x} of bin {_sizeIndex} shard {_shard} records shard {s->BinShard}");
                if (used != _regionsPerSlab - s->FreeRegions)
                    throw Arena.InvariantBroken($"the slab at 0x{(nuint)s->Address:x} of bin {_sizeIndex} has {used} regions marked but {_regionsPerSlab - s->FreeRegions} counted");
                if (where == "full" && s->FreeRegions != 0 || where == "non-full" && (s->FreeRegions == 0 || s->FreeRegions == _regionsPerSlab))
                    throw Arena.InvariantBroken($"the slab at 0x{(nuint)s->Address:x} of bin {_sizeIndex} is filed as {where} with {s->FreeRegions} free regions");
                regions += used;
                active.Add(handle);
            }

            if (regions != _currentRegions)
                throw Arena.InvariantBroken($"bin {_sizeIndex} counts {_currentRegions} regions out but its slabs have {regions}");
        }
    }

    /// <summary>Appends every slab of the bin, full ones included.</summary>
    public void CollectSlabs(List<nint> slabs)
    {
        using (_lock.EnterScope()) CollectSlabsLocked(slabs, includeFull: true);
    }

    /// <summary>
    /// Unlinks every slab into <paramref name="extents"/> (for the caller to free) and counts every
    /// region still out as freed: the arena is being reset or disposed.
    /// </summary>
    public void ReleaseAll(List<nint> extents)
    {
        using (_lock.EnterScope())
        {
            if (_current != null) extents.Add((nint)_current);
            Edata* s;
            while ((s = _nonFull.RemoveFirst()) != null) extents.Add((nint)s);
            for (s = _full.First; s != null; s = EdataList<ActiveLinks>.Next(s)) extents.Add((nint)s);
            _current = null;
            _full.Clear();
            _deallocations += _currentRegions;
            _currentRegions = 0;
            _currentSlabs = 0;
        }
    }

    /// <summary>
    /// Gives back to the OS the pages of this bin's partly used slabs that hold only free regions.
    /// The lock is held across the purge so no region in such a page can be handed out meanwhile. A
    /// region taken later faults in a zero page; nothing assumes small regions are zero, and regions
    /// sitting in thread caches count as allocated, so their pages stay.
    /// </summary>
    [MethodImpl(Tiering.OptimizeAtOnce)]
    public void PurgeFreePages(ExtentContext ctx)
    {
        using (_lock.EnterScope())
        {
            var slabs = new List<nint>();
            CollectSlabsLocked(slabs, includeFull: false);
            long purged = 0;
            foreach (nint handle in slabs) purged += PurgeFreePages(ctx, (Edata*)handle);
            Interlocked.Add(ref ctx.Stats.SlabPurgedPages, purged);
        }
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private Edata* NewSlab<TPolicy>(PageAllocator<TPolicy> pa)
        where TPolicy : struct, IArenaPolicy
    {
        Edata* slab = pa.Alloc(_slabSize, pa.Context.Page, slab: true, _sizeIndex, zero: false);
        if (slab == null) return null;
        slab->SlabBitmap.Init(_regionsPerSlab);
        slab->FreeRegions = _regionsPerSlab;
        slab->BinShard = _shard;
        return slab;
    }

    // A region from the current slab, or from the oldest non-full one; null when every slab is full.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void* TryTakeRegion()
    {
        Edata* slab = _current;
        if (slab == null || slab->FreeRegions == 0)
        {
            if (slab != null) _full.Append(slab);
            slab = _nonFull.First;
            if (slab == null)
            {
                _current = null;
                return null;
            }

            _nonFull.Remove(slab);
            _current = slab;
        }

        int region = slab->SlabBitmap.FindFirstAndSet();
        Debug.Assert(region >= 0 && region < _regionsPerSlab);
        slab->FreeRegions--;
        return (byte*)slab->Address + (nuint)region * _regionSize;
    }

    // A fresh slab becomes the current one; the previous current goes where it belongs.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void AddSlab(Edata* slab)
    {
        _slabs++;
        _currentSlabs++;
        Edata* old = _current;
        _current = slab;
        if (old == null) return;
        if (old->FreeRegions == 0) _full.Append(old);
        else _nonFull.Insert(old);
    }

    // Returns the slab when it became empty and was unlinked (the caller frees it), otherwise null.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private Edata* ReturnRegion(Edata* slab, void* p, out bool doubleFree)
    {
        uint offset = (uint)((byte*)p - (byte*)slab->Address);
        int region = (int)_div.Divide(offset);
        if (!slab->SlabBitmap.TryUnset(region))
        {
            doubleFree = true;
            return null;
        }

        doubleFree = false;
        int free = slab->FreeRegions + 1;
        slab->FreeRegions = free;
        if (free == _regionsPerSlab)
        {
            Unlink(slab, wasFull: free == 1);
            _currentSlabs--;
            return slab;
        }

        if (free == 1 && slab != _current)
        {
            _full.Remove(slab);
            LowerSlab(slab);
        }

        return null;
    }

    // Prefer filling the oldest, lowest slab: it keeps younger slabs emptying so they can be freed.
    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void LowerSlab(Edata* slab)
    {
        if (_current != null && Edata.CompareSerialThenAddress(slab, _current) < 0)
        {
            Edata* old = _current;
            _current = slab;
            if (old->FreeRegions == 0) _full.Append(old);
            else _nonFull.Insert(old);
        }
        else
        {
            _nonFull.Insert(slab);
        }
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void Unlink(Edata* slab, bool wasFull)
    {
        if (slab == _current) _current = null;
        else if (wasFull) _full.Remove(slab);
        else _nonFull.Remove(slab);
    }

    private void CollectSlabsLocked(List<nint> slabs, bool includeFull)
    {
        if (_current != null) slabs.Add((nint)_current);
        _nonFull.ForEach(&Collect, Unsafe.AsPointer(ref slabs));
        if (!includeFull) return;
        for (Edata* s = _full.First; s != null; s = EdataList<ActiveLinks>.Next(s)) slabs.Add((nint)s);
    }

    // A PairingHeap.ForEach visitor that adds each extent to the List<nint> its state points at.
    private static void Collect(Edata* e, void* state) => Unsafe.AsRef<List<nint>>(state).Add((nint)e);

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private long PurgeFreePages(ExtentContext ctx, Edata* slab)
    {
        nuint page = ctx.Page;
        int pages = (int)(slab->Size / page);
        long purged = 0;
        int runStart = -1;
        for (int p = 0; p <= pages; p++)
        {
            if (p < pages && PageIsFree(slab, p, page))
            {
                if (runStart < 0) runStart = p;
                continue;
            }

            if (runStart < 0) continue;
            nuint offset = (nuint)runStart * page, length = (nuint)(p - runStart) * page;
            if (ctx.Hooks.PurgeForced(slab->Base, slab->Size, offset, length, ctx.ArenaIndex))
            {
                purged += p - runStart;
                Interlocked.Increment(ref ctx.Stats.SlabPurgeCalls);
            }

            runStart = -1;
        }

        return purged;
    }

    // A page is free when no region overlapping it is allocated (slack past the last region is always free).
    private bool PageIsFree(Edata* slab, int pageIndex, nuint page)
    {
        ulong start = (ulong)pageIndex * page, end = start + page;
        int first = (int)(start / _regionSize);
        int last = (int)Math.Min((end - 1) / _regionSize, (ulong)_regionsPerSlab - 1);
        for (int r = first; r <= last; r++)
        {
            if (slab->SlabBitmap.IsSet(r)) return false;
        }

        return true;
    }
}

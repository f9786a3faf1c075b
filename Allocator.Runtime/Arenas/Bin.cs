using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Allocator.Extents;
using Allocator.Sizing;

namespace Allocator.Arenas;

/// <summary>
/// The slabs of one small size class in one arena (jemalloc's bin_t): the current slab, a heap of
/// non-full slabs ordered by (serial number, address) so the oldest, lowest fill first, and a list
/// of full ones. Its lock is a leaf lock: nothing else is taken while it is held.
/// </summary>
internal sealed unsafe class Bin
{
    public readonly Lock Lock = new();
    public readonly int SizeIndex;
    public readonly uint RegionSize;
    public readonly int RegionsPerSlab;
    public readonly nuint SlabSize;
    public readonly DivInfo Div;

    public Edata* Current;
    public EdataHeap<SerialThenAddress> NonFull;
    public Edata* Full;

    public long Allocations, Deallocations, Requests, CurrentRegions, Slabs, CurrentSlabs, Fills, Flushes;

    public Bin(BinInfo info)
    {
        SizeIndex = info.SizeIndex;
        RegionSize = (uint)info.RegionSize;
        RegionsPerSlab = info.RegionsPerSlab;
        SlabSize = (nuint)info.SlabSize;
        Div = info.Div;
    }

    /// <summary>Takes a region from a slab that has one; null when every slab is full (lock held).</summary>
    public void* TryTakeRegion()
    {
        Edata* slab = Current;
        if (slab == null || slab->FreeRegions == 0)
        {
            if (slab != null) PushFull(slab);
            slab = NonFull.First;
            if (slab == null)
            {
                Current = null;
                return null;
            }

            NonFull.Remove(slab);
            Current = slab;
        }

        int region = slab->SlabBitmap.FindFirstAndSet();
        Debug.Assert(region >= 0 && region < RegionsPerSlab);
        slab->FreeRegions--;
        return (byte*)slab->Address + (nuint)region * RegionSize;
    }

    /// <summary>
    /// Gives back to the OS the pages of this bin's partly used slabs that hold only free regions
    /// (lock held, and kept held across the purge so no region in such a page can be handed out
    /// meanwhile). A region taken later faults in a zero page; nothing assumes small regions are
    /// zero, and regions sitting in thread caches count as allocated, so their pages stay.
    /// </summary>
    public void PurgeFreePages(ExtentContext ctx)
    {
        var slabs = new List<nint>();
        CollectSlabs(slabs, includeFull: false);
        long purged = 0;
        foreach (nint handle in slabs) purged += PurgeFreePages(ctx, (Edata*)handle);
        Interlocked.Add(ref ctx.Stats.SlabPurgedPages, purged);
    }

    /// <summary>Appends this bin's slabs (lock held): the current one, the non-full heap, and with <paramref name="includeFull"/> the full list.</summary>
    public void CollectSlabs(List<nint> slabs, bool includeFull)
    {
        if (Current != null) slabs.Add((nint)Current);
        NonFull.ForEach(&Collect, Unsafe.AsPointer(ref slabs));
        if (!includeFull) return;
        for (Edata* s = Full; s != null; s = s->ListNext) slabs.Add((nint)s);
    }

    /// <summary>An <see cref="EdataHeap{TOrder}.ForEach"/> visitor that adds each extent to the <c>List&lt;nint&gt;</c> its state points at.</summary>
    public static void Collect(Edata* e, void* state) => Unsafe.AsRef<List<nint>>(state).Add((nint)e);

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
        int first = (int)(start / RegionSize);
        int last = (int)System.Math.Min((end - 1) / RegionSize, (ulong)RegionsPerSlab - 1);
        for (int r = first; r <= last; r++)
        {
            if (slab->SlabBitmap.IsSet(r)) return false;
        }

        return true;
    }

    /// <summary>Makes a fresh slab the current one (lock held); the previous current goes where it belongs.</summary>
    public void AddSlab(Edata* slab)
    {
        Slabs++;
        CurrentSlabs++;
        Edata* old = Current;
        Current = slab;
        if (old == null) return;
        if (old->FreeRegions == 0) PushFull(old);
        else NonFull.Insert(old);
    }

    /// <summary>Returns a region to its slab (lock held).</summary>
    /// <returns>The slab when it became empty and was unlinked (the caller frees it), otherwise null.</returns>
    /// <exception cref="System.InvalidOperationException">Thrown nowhere: a double free is reported through <paramref name="doubleFree"/>.</exception>
    public Edata* ReturnRegion(Edata* slab, void* p, out bool doubleFree)
    {
        uint offset = (uint)((byte*)p - (byte*)slab->Address);
        int region = (int)Div.Divide(offset);
        if (!slab->SlabBitmap.TryUnset(region))
        {
            doubleFree = true;
            return null;
        }

        doubleFree = false;
        int free = slab->FreeRegions + 1;
        slab->FreeRegions = free;
        if (free == RegionsPerSlab)
        {
            // Empty: hand the whole slab back to the page allocator.
            Unlink(slab, wasFull: free == 1);
            CurrentSlabs--;
            return slab;
        }

        if (free == 1 && slab != Current)
        {
            RemoveFull(slab);
            LowerSlab(slab);
        }

        return null;
    }

    // Prefer filling the oldest, lowest slab: it keeps younger slabs emptying so they can be freed.
    private void LowerSlab(Edata* slab)
    {
        if (Current != null && Edata.CompareSerialThenAddress(slab, Current) < 0)
        {
            Edata* old = Current;
            Current = slab;
            if (old->FreeRegions == 0) PushFull(old);
            else NonFull.Insert(old);
        }
        else
        {
            NonFull.Insert(slab);
        }
    }

    private void Unlink(Edata* slab, bool wasFull)
    {
        if (slab == Current) Current = null;
        else if (wasFull) RemoveFull(slab);
        else NonFull.Remove(slab);
    }

    private void PushFull(Edata* slab)
    {
        slab->ListPrev = null;
        slab->ListNext = Full;
        if (Full != null) Full->ListPrev = slab;
        Full = slab;
    }

    private void RemoveFull(Edata* slab)
    {
        if (slab->ListPrev != null) slab->ListPrev->ListNext = slab->ListNext;
        else Full = slab->ListNext;
        if (slab->ListNext != null) slab->ListNext->ListPrev = slab->ListPrev;
        slab->ListNext = slab->ListPrev = null;
    }
}

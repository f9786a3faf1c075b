using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Map;
using Allocator.Metadata;

namespace Allocator;

// Small allocation: regions of the slab classes, through the bins when there is no thread cache
// (or the class is not cached) and to refill or flush a cache.
public sealed unsafe partial class Arena<TPolicy>
{
    private void* AllocateSmall(int index, bool zero)
    {
        void* p = null;
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = CurrentCache();
            if (!tc->Bins[index].TryPop(out p))
            {
                Fill(tc, index);
                tc->Bins[index].TryPop(out p);
            }
        }
        else
        {
            // Without a cache a thread still keeps to one shard, so threads rarely share a slab.
            void* one;
            int shard = (int)((uint)Environment.CurrentManagedThreadId % (uint)_binShards);
            p = BinOf(index, shard).Fill(_pa, &one, 1) == 1 ? one : null;
            Tick(null);
        }

        if (p != null && zero) NativeMemory.Clear(p, (nuint)ClassSize(index));
        return p;
    }

    // Out of line: behind the inlined Free hit it is the full-bin and no-cache case only, and when
    // the JIT inlined it (the bin lock, the decay tick) the caller's loop grew past its inlining budget.
    [MethodImpl(Tiering.OptimizeAtOnceOutOfLine)]
    private void FreeSmallSlow(Edata* slab, void* pointer, int index)
    {
        if (DebugChecks) CheckNotFreed(slab, pointer, index);
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = ThreadCacheOrNull();
            if (tc != null)
            {
                Push(tc, index, pointer);
                return;
            }

            // The thread's first free here, before it allocated here: the block is another thread's.
            // It goes back to its own slab, not into the new cache, whose regions come from this
            // thread's shard; kept, it would share a cache line with the other thread's blocks.
            CurrentCache();
        }

        void* one = pointer;
        ReturnToBin(index, &one, 1);
        Tick(null);
    }

    // Debug checks: the region must be allocated in its slab and not already in this thread's cache.
    private void CheckNotFreed(Edata* slab, void* pointer, int index)
    {
        int region = RegionOf(slab, pointer, index);
        if (!BinOf(index, slab->BinShard).IsAllocated(slab, region)) throw DoubleFree(pointer);
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = ThreadCacheOrNull();
            if (tc != null && tc->Bins[index].Contains(pointer)) throw DoubleFree(pointer);
        }
    }

    // Returns regions to their slabs under one hold of the bin lock; empty slabs go back to the page
    // allocator after it is released. A region that is already free is reported after the others are
    // done, and so is one of another class (a sized free with the wrong size): it goes back to its own
    // bin or the large free path first, so the arena stays consistent.
    private void ReturnToBin(int index, void** regions, int count)
    {
        Edata** slabs = stackalloc Edata*[count];
        InvalidOperationException? misfiled = null;
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            void* region = regions[i];
            if (_tree.TryRead(region, out RtreeContents c) && c.IsSlab && c.SizeIndex == index && c.Edata != null &&
                c.Edata->ArenaIndex == _index && RegionOf(c.Edata, region, index) >= 0)
            {
                regions[kept] = region;
                slabs[kept++] = c.Edata;
            }
            else
            {
                misfiled ??= Misfiled(region, index);
                Refile(region);
            }
        }

        // Each shard's regions go back under one hold of its bin's lock; a flush is mostly one shard.
        Edata** emptied = stackalloc Edata*[kept];
        int emptiedCount = 0;
        void* doubleFreed = null;
        while (kept > 0)
        {
            int shard = slabs[0]->BinShard, same = 0;
            for (int i = 0; i < kept; i++)
            {
                if (slabs[i]->BinShard != shard) continue;
                void* r = regions[i];
                Edata* s = slabs[i];
                regions[i] = regions[same];
                slabs[i] = slabs[same];
                regions[same] = r;
                slabs[same++] = s;
            }

            void* again = BinOf(index, shard).Return(regions, slabs, same, emptied + emptiedCount, out int n);
            doubleFreed = again != null ? again : doubleFreed;
            emptiedCount += n;
            regions += same;
            slabs += same;
            kept -= same;
        }

        for (int i = 0; i < emptiedCount; i++) _pa.Free(emptied[i]);
        if (misfiled != null) throw misfiled;
        if (doubleFreed != null) throw DoubleFree(doubleFreed);
    }

    // A block found in a cache bin of another class: free it as what it really is, if it is a live block of ours.
    private void Refile(void* pointer)
    {
        if (!_tree.TryRead(pointer, out RtreeContents c)) return;
        Edata* e = c.Edata;
        if (e == null || c.State != ExtentState.Active || e->ArenaIndex != _index || c.SizeIndex == Edata.NoSizeIndex) return;
        if (c.IsSlab)
        {
            if (RegionOf(e, pointer, c.SizeIndex) < 0) return;
            void* one = pointer;
            ReturnToBin(c.SizeIndex, &one, 1);
        }
        else if (pointer == e->Address && !e->IsInThreadCache)
        {
            FreeLargeNow(e, c.SizeIndex, tick: false);
        }
    }

    // Read before the block is refiled, while its class is still on record.
    private InvalidOperationException Misfiled(void* pointer, int index)
    {
        bool ours = _tree.TryRead(pointer, out RtreeContents c) && c.Edata != null && c.State == ExtentState.Active &&
            c.Edata->ArenaIndex == _index && c.SizeIndex != Edata.NoSizeIndex;
        string what = ours
            ? $"it is in the {ClassSize(c.SizeIndex)}-byte class (a FreeSized given another size, or no alignment); it was freed into its own class"
            : "it is no live block of this arena; it was dropped";
        return new($"0x{(nuint)pointer:x} was freed into arena {_index}'s {ClassSize(index)}-byte class, but {what}.");
    }
}

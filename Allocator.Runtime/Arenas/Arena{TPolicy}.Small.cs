using System.Runtime.InteropServices;
using Allocator.Arenas;
using Allocator.Extents;

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
            void* one;
            p = _bins[index].Fill(_pa, &one, 1) == 1 ? one : null;
            Tick(null);
        }

        if (p != null && zero) NativeMemory.Clear(p, (nuint)ClassSize(index));
        return p;
    }

    private void FreeSmallSlow(Edata* slab, void* pointer, int index)
    {
        if (DebugChecks) CheckNotFreed(slab, pointer, index);
        if (UseThreadCache && index < _cachedClasses)
        {
            Push(CurrentCache(), index, pointer);
            return;
        }

        void* one = pointer;
        ReturnToBin(index, &one, 1);
        Tick(null);
    }

    // Debug checks: the region must be allocated in its slab and not already in this thread's cache.
    private void CheckNotFreed(Edata* slab, void* pointer, int index)
    {
        int region = RegionOf(slab, pointer, index);
        if (!_bins[index].IsAllocated(slab, region)) throw DoubleFree(pointer);
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = ThreadCacheOrNull();
            if (tc != null && tc->Bins[index].Contains(pointer)) throw DoubleFree(pointer);
        }
    }

    // Returns regions to their slabs under one hold of the bin lock; empty slabs go back to the page
    // allocator after it is released. A region that is already free is reported after the others are done.
    private void ReturnToBin(int index, void** regions, int count)
    {
        Edata** slabs = stackalloc Edata*[count];
        for (int i = 0; i < count; i++) slabs[i] = LookupUnchecked(regions[i]);
        Edata** emptied = stackalloc Edata*[count];
        void* doubleFreed = _bins[index].Return(regions, slabs, count, emptied, out int emptiedCount);
        for (int i = 0; i < emptiedCount; i++) _pa.Free(emptied[i]);
        if (doubleFreed != null) throw DoubleFree(doubleFreed);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Allocator.Metadata;

namespace Allocator;

// Large allocation: whole extents above the slab classes, cached per class in the thread cache.
public sealed unsafe partial class Arena<TPolicy>
{
    private void* AllocateLargeCached(nuint usable, int index, bool zero)
    {
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = CurrentCache();
            if (tc->Bins[index].TryPop(out void* cached))
            {
                void* p = TakeCachedLarge(cached);
                if (zero) NativeMemory.Clear(p, usable);
                return p;
            }
        }

        return AllocateLarge(usable, index, _page, zero);
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void* AllocateLarge(nuint usable, int index, nuint alignment, bool zero)
    {
        Edata* e = _pa.Alloc(usable, alignment, slab: false, index, zero);
        if (e == null) return null;
        _large.Add(e, index);

        Tick(UseThreadCache ? ThreadCacheOrNull() : null);
        return e->Address;
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void FreeLarge(Edata* e, int index)
    {
        if (Profiled && e->IsProfiled)
        {
            FreeSampled(e, index);
            return;
        }

        // The in-cache mark catches a large extent freed twice while it sits in a thread cache.
        if (e->IsInThreadCache) throw DoubleFree(e->Address);
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = CurrentCache();
            e->IsInThreadCache = true;
            Push(tc, index, e->Address);
            return;
        }

        FreeLargeNow(e, index, tick: true);
    }

    [MethodImpl(Tiering.OptimizeAtOnce)]
    private void FreeLargeNow(Edata* e, int index, bool tick)
    {
        _large.Remove(e, index);

        _pa.Free(e);
        if (tick) Tick(UseThreadCache ? ThreadCacheOrNull() : null);
    }

    private bool TryResizeLarge(Edata* e, int oldIndex, int newIndex)
    {
        // A sampled block moves, so that its record keeps the size it was sampled with.
        if (Profiled && e->IsProfiled) return false;
        nuint oldSize = e->Size, newSize = (nuint)ClassSize(newIndex);
        bool ok = newSize > oldSize ? _pa.Expand(e, oldSize, newSize, newIndex, zero: false) : _pa.Shrink(e, oldSize, newSize, newIndex);
        if (!ok) return false;
        _large.Resized(oldIndex, newIndex);
        return true;
    }
}

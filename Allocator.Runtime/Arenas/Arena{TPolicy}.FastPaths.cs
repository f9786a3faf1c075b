using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Profiling;

namespace Allocator;

// The public allocation and free paths: the inlined thread-cache hits, the slow path behind them,
// and the pointer lookups that free, resize and usable size share.
public sealed unsafe partial class Arena<TPolicy>
{
    /// <inheritdoc cref="Arena.Allocate"/>
    // The thread-local read comes first, ahead of every branch, so that it dominates the rest of an
    // inlining caller: the JIT then shares one thread-local access among the caller's allocations
    // and frees (see PopCached).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public new void* Allocate(nuint size) => AllocateWithKey(size, ThreadCaches.LastKey, throwOnFailure: true);

    /// <inheritdoc cref="Arena.TryAllocate"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public new void* TryAllocate(nuint size) => AllocateWithKey(size, ThreadCaches.LastKey, throwOnFailure: false);

    // Allocate and TryAllocate with the thread's last key read by the caller.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void* AllocateWithKey(nuint size, ulong lastKey, bool throwOnFailure)
    {
        if (Profiled) return AllocateProfiled(size, throwOnFailure);
        void* p = PopCached(size, lastKey);
        return p != null ? p : AllocateSlow(size, zero: false, throwOnFailure);
    }

    private protected override void* AllocateVirtual(nuint size) => Allocate(size);

    private protected override void* TryAllocateVirtual(nuint size) => TryAllocate(size);

    private protected override void FreeVirtual(void* pointer) => Free(pointer);

    private protected override void FreeSizedVirtual(void* pointer, nuint size) => FreeSized(pointer, size);

    // The thread-cache hit shared by Allocate and TryAllocate: null when the size is not cached, the
    // thread's last-used cache is another arena's, or the cache bin is empty (the slow path then finds
    // the cache through the thread's table). Sizes above the lookup table take an out-of-line hit.
    // The caller read the thread's last key before any branch: .NET's thread-local access is a call
    // into the runtime's TLS (not one fs-relative load as in C), and only an access that dominates
    // the others lets the JIT reuse its result for them. The thread's last cache is read here too
    // (one load from the block the key came from) and handed to the out-of-line hit, which would
    // otherwise make a thread-local call of its own.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* PopCached(nuint size, ulong lastKey)
    {
        if (size > _allocFastMax) return PopAboveLookup(size, lastKey, ThreadCaches.Last);
        if (lastKey != _key) return null;
        return ThreadCaches.Last->Bins[SmallIndex(size)].Pop();
    }

    // The hit of a cached class above the lookup table: it needs neither the disposed check nor the
    // class's size. It calls nothing, so it needs no saved registers: a pop at the bin's low-water
    // mark, which would update the mark out of line, is left to the slow path, which pops the same bin.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* PopAboveLookup(nuint size, ulong lastKey, ThreadCache* last)
    {
        // Above _allocFastMax and at most _cachedMax implies above the lookup table: _allocFastMax
        // stops below it only when no class above it is cached.
        if (size > _cachedMax || lastKey != _key) return null;
        int index = _cachedAboveLookup[(size + _cachedAboveRound) >> _cachedAboveShift];
        Debug.Assert(index == IndexAboveLookup(size), "the cached classes' table names the computed class");
        void* item = last->Bins[index].PopAboveLowWater();
        if (item == null || index < _binCount) return item;
        return TakeCachedLarge(item);
    }

    /// <inheritdoc/>
    public override void* AllocateZeroed(nuint size)
    {
        if (Profiled) return AllocateProfiledSlow(size, zero: true, throwOnFailure: true);
        void* p = AllocateSlow(size, zero: true, throwOnFailure: true);
        return p;
    }

    /// <inheritdoc/>
    public override void* AllocateAligned(nuint size, nuint alignment)
    {
        ulong usable = AlignedUsable(size, alignment);
        if (usable <= _smallMax && alignment <= _page) return Allocate((nuint)usable);
        int index = _classes.SizeToIndex(usable);
        void* p = AllocateLarge((nuint)usable, index, alignment < _page ? _page : alignment, zero: false);
        if (p == null) throw OutOfMemory((nuint)usable);
        return Profiled ? SampleAligned(p, (nuint)usable, index) : p;
    }

    /// <inheritdoc cref="Arena.Free"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public new void Free(void* pointer) => FreeWithKey(pointer, ThreadCaches.LastKey);

    // Free with the thread's last key read by the caller (before the FreeCaches test, so that the
    // read dominates, as in Allocate).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void FreeWithKey(void* pointer, ulong lastKey)
    {
        // The inlined hit: a region of one of this arena's active slabs going into this thread's
        // current cache. One leaf word says slab, state and class; the slab's edata gives owner
        // and start for the region check. Null, large blocks, misses and every error go out of line.
        // The thread's cache is read first: the thread-local access is a call, and before it
        // nothing of the lookup is live yet that would have to be saved across it.
        ThreadCache* tc = FreeCaches && lastKey == _key ? ThreadCaches.Last : null;
        ulong word = Rtree.ReadWord(_rtreeRoot, pointer);
        if (RtreeContents.IsActiveSlab(word))
        {
            Edata* e = RtreeContents.EdataOf(word);
            int index = RtreeContents.SizeIndexOf(word);
            if (e->ArenaIndex == _index && IsRegionStart(e, pointer, index))
            {
                Debug.Assert(tc == null || index < tc->BinCount, "every slab class has a cache bin");
                if (tc != null && tc->Bins[index].TryPush(pointer)) return;

                FreeSmallSlow(e, pointer, index);
                return;
            }
        }

        FreeOther(pointer, word, tc);
    }

    // Free of anything but a slab region of this arena: a large block, null, or a pointer to report.
    // The inlined part's leaf word and thread cache come along, so a large block going into the
    // thread cache costs neither a second lookup nor a second thread-local access.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreeOther(void* pointer, ulong word, ThreadCache* tc)
    {
        if (RtreeContents.IsActiveLarge(word))
        {
            Edata* e = RtreeContents.EdataOf(word);
            int index = RtreeContents.SizeIndexOf(word);
            if (e->ArenaIndex == _index && pointer == e->Address)
            {
                // Only a sampled block is filed as non-slab with a small class; it takes FreeLarge's path.
                // A cached class index is below NoSizeIndex, so the hit needs no test of its own for it.
                if (index < _cachedClasses && tc != null && (!Profiled || !e->IsProfiled) && !e->IsInThreadCache)
                {
                    Debug.Assert(index >= _binCount, "a non-slab extent of a small class that is not sampled");
                    e->IsInThreadCache = true;
                    Push(tc, index, pointer);
                    return;
                }

                if (index != Edata.NoSizeIndex)
                {
                    FreeLarge(e, index);
                    return;
                }
            }
        }

        if (pointer == null) return;
        throw NotOwned(pointer);
    }

    /// <inheritdoc cref="Arena.FreeSized(void*, nuint)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public new void FreeSized(void* pointer, nuint size) => FreeSizedWithKey(pointer, size, ThreadCaches.LastKey);

    // FreeSized with the thread's last key read by the caller.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void FreeSizedWithKey(void* pointer, nuint size, ulong lastKey)
    {
        if (size <= _freeFastMax && MayPushSized(pointer))
        {
            if (lastKey != SizedPushKey)
            {
                FreeSizedFromTable(pointer, size);
                return;
            }

            ThreadCache* tc = ThreadCaches.Last;
            Push(tc, SmallIndex(size), pointer);
            return;
        }

        if (DebugChecks) CheckSizeClass(pointer, size);
        Free(pointer);
    }

    // Whether FreeSized may push the block without looking it up: not null, and for a generated
    // policy that profiles not on a page boundary (where a sampled block would be; a slab region there
    // takes the lookup). A runtime policy that profiles is sent out of line by its key instead.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MayPushSized(void* pointer) =>
        !TPolicy.IsRuntimeConfigured && Profiled ? ((nuint)pointer & (Pages.PageSize - 1)) != 0 : pointer != null;

    // The key FreeSized's inlined push compares with the thread's last-used one.
    private ulong SizedPushKey => TPolicy.IsRuntimeConfigured ? _sizedPushKey : _key;

    /// <inheritdoc/>
    public override void FreeSized(void* pointer, nuint size, nuint alignment)
    {
        // The class AllocateAligned chose: the size rounded up by the alignment, classed as one.
        FreeSized(pointer, (nuint)AlignedUsable(size, alignment));
    }

    // The usable size of a block of `size` bytes at `alignment` (jemalloc's sz_sa2u), shared by the
    // aligned allocation and the aligned sized free so that both always name the same class.
    private ulong AlignedUsable(nuint size, nuint alignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        ulong usable = _classes.SizeAlignToUsable(Math.Max(size, 1), alignment, 0);
        if (usable == 0 || usable > _largeMax)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"{size} bytes aligned to {alignment} exceed the largest size class ({_largeMax} bytes).");
        return usable;
    }

    // Debug checks: a sized free must name the block's own class, or the block would be filed under
    // another one. A pointer that is no live block is left for Free to report.
    private void CheckSizeClass(void* pointer, nuint size)
    {
        if (pointer == null || !_tree.TryRead(pointer, out RtreeContents c)) return;
        Edata* e = c.Edata;
        if (e == null || c.State != ExtentState.Active || e->ArenaIndex != _index || c.SizeIndex == Edata.NoSizeIndex) return;
        if (c.IsSlab ? RegionOf(e, pointer, c.SizeIndex) < 0 : pointer != e->Address) return;
        ulong given = Math.Max((ulong)size, 1);
        if (given <= _largeMax && _classes.SizeToIndex(given) == c.SizeIndex) return;
        string givenClass = given <= _largeMax ? $"the {ClassSize(_classes.SizeToIndex(given))}-byte class" : "above the largest class";
        throw new InvalidOperationException(
            $"FreeSized(0x{(nuint)pointer:x}, {size}) in arena {_index}: {size} bytes are {givenClass}, but the block is in the {ClassSize(c.SizeIndex)}-byte class. " +
            "Pass the size (and alignment) it was allocated with; the block was not freed.");
    }

    // FreeSized when the thread last used another arena's cache (or none), and every small one of a
    // runtime policy that profiles: find this arena's cache, out of line so that the inlined path
    // stays small. A block on a page boundary may be a sample there, and takes the lookup.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreeSizedFromTable(void* pointer, nuint size)
    {
        if (TPolicy.IsRuntimeConfigured && Profiled && ((nuint)pointer & (_page - 1)) == 0)
        {
            Free(pointer);
            return;
        }

        ThreadCache* tc = ThreadCacheOrNull();
        if (tc == null)
        {
            Free(pointer);
            return;
        }

        Push(tc, SmallIndex(size), pointer);
    }

    /// <inheritdoc/>
    public override nuint UsableSize(void* pointer)
    {
        Edata* e = Lookup(pointer, out int index, out _);
        Debug.Assert(e != null);
        return (nuint)ClassSize(index);
    }

    /// <inheritdoc/>
    public override void* Reallocate(void* pointer, nuint newSize)
    {
        if (pointer == null) return Allocate(newSize);
        if (newSize == 0) newSize = 1;
        Edata* e = Lookup(pointer, out int oldIndex, out bool slab);
        if (newSize > _largeMax)
            throw new ArgumentOutOfRangeException(nameof(newSize), newSize, $"{newSize} bytes exceed the largest size class ({_largeMax} bytes).");
        int newIndex = _classes.SizeToIndex(newSize);
        if (newIndex == oldIndex) return pointer;
        if (!slab && newIndex >= _binCount && !e->IsGuarded && TryResizeLarge(e, oldIndex, newIndex)) return pointer;

        void* moved = Allocate(newSize);
        ulong oldUsable = ClassSize(oldIndex);
        Buffer.MemoryCopy(pointer, moved, (long)newSize, (long)Math.Min(oldUsable, newSize));
        Free(pointer);
        return moved;
    }

    // Out of line, so that the inlined hits stay small and the callers' loops keep their registers.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* AllocateSlow(nuint size, bool zero, bool throwOnFailure)
    {
        if (size > _largeMax) return throwOnFailure ? throw TooLarge(size) : null;

        // Checked before the lookup table is read: a disposed arena's table is unmapped with its metadata.
        ThrowIfDisposed();
        int index = size <= _lookupMax ? SmallIndex(size) : IndexAboveLookup(size);
        void* p = index < _binCount ? AllocateSmall(index, zero) : AllocateLargeCached((nuint)ClassSize(index), index, zero);
        if (p == null && throwOnFailure) throw OutOfMemory(size);
        return p;
    }

    private ArgumentOutOfRangeException TooLarge(nuint size) =>
        new(nameof(size), size, $"{size} bytes exceed the largest size class ({_largeMax} bytes).");

    // Looks up a pointer already known to be a live block of this arena.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Edata* LookupUnchecked(void* pointer) => RtreeContents.Decode(*_tree.Element(pointer, initMissing: false)).Edata;

    private Edata* Lookup(void* pointer, out int index, out bool slab)
    {
        ulong* element = pointer == null ? null : _tree.Element(pointer, initMissing: false);
        if (element != null)
        {
            RtreeContents c = RtreeContents.Decode(*element);
            Edata* e = c.Edata;
            if (e != null && c.State == ExtentState.Active && e->ArenaIndex == _index && c.SizeIndex != Edata.NoSizeIndex)
            {
                index = c.SizeIndex;
                slab = c.IsSlab;
                if (!slab)
                {
                    if (pointer == e->Address && !e->IsInThreadCache) return e;
                }
                else if (RegionOf(e, pointer, index) is int region and >= 0)
                {
                    if (!e->SlabBitmap.IsSet(region)) throw AlreadyFreed(pointer);
                    return e;
                }
            }
        }

        throw NotOwned(pointer);
    }

    // Whether the pointer starts a region of the slab (the free path's check: one multiply, one compare).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsRegionStart(Edata* slab, void* pointer, int index)
    {
        uint offset = (uint)((byte*)pointer - (byte*)slab->Address);
        ulong magic = MultipleMagic(index);
        return offset * magic < magic;
    }

    // The region of a slab that starts at the pointer, or -1 when it points inside one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RegionOf(Edata* slab, void* pointer, int index)
    {
        uint offset = (uint)((byte*)pointer - (byte*)slab->Address);
        uint region = (uint)(((ulong)offset * DivMagic(index)) >> 32);
        return region * RegionSize(index) == offset ? (int)region : -1;
    }
}

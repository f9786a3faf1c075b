using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using Allocator.Arenas;
using Allocator.Extents;
using Allocator.Os;
using Allocator.Sizing;

namespace Allocator;

/// <summary>
/// The arena core, compiled by the JIT once per policy struct: every <typeparamref name="TPolicy"/>
/// member is a constant for generated policies, so paths a policy turns off (thread cache, debug
/// checks, decay ticks) are not in its copy of the code. Arenas configured at run time use
/// <see cref="RuntimeArenaPolicy"/> and read the same knobs from the instance.
/// </summary>
/// <typeparam name="TPolicy">The compile-time configuration.</typeparam>
[SkipLocalsInit]
public sealed unsafe class Arena<TPolicy> : Arena where TPolicy : struct, IArenaPolicy
{
    private const int LargeCacheCapacity = 20;
    private const long LargeCacheBytesPerClass = 1 << 20;
    private const int SmallCacheBytesPerClass = 256 << 10;
    private const int TicksPerDecay = 64;
    private const ulong InThreadCache = 1;

    private readonly PageAllocator<TPolicy> _pa;
    private readonly Rtree _tree;
    private readonly uint _index;
    private readonly long _id;
    private readonly SizeClasses _classes;
    private readonly byte* _sizeToIndex;
    private readonly ulong* _indexToSize;
    private readonly uint* _regionSize;
    private readonly uint* _divMagic;
    private readonly Bin[] _bins;
    private readonly int _binCount;
    private readonly int _cachedClasses;
    private readonly int[] _cacheCapacities;
    private readonly ulong _lookupMax, _smallMax, _largeMax;
    private readonly nuint _page;
    private readonly bool _threadCache, _debugChecks;
    private bool _decays;
    private readonly Lock _largeLock = new();
    private readonly long[] _largeAllocs, _largeFrees, _largeCurrent;
    private Edata* _large;
    private ThreadCache* _caches;
    private long _uncachedTicks;
    private ulong _key;
    private volatile bool _disposed;

    // The fast paths' own settings, derived once from the others so that the inlined paths test each
    // with one compare: the largest size Allocate pops from the thread cache (0 without one), the
    // largest FreeSized pushes there (0 also with debug checks, which must see every free), and the
    // lookup table's rounding for a runtime policy.
    private readonly nuint _allocFastMax, _freeFastMax, _lookupRound;
    private readonly int _lookupShift;

    // The largest cached class (0 without a thread cache): AllocateSlow tries the cache first up to it.
    private readonly nuint _cachedMax;

    // Above the lookup table a class index is (lg ceil << LgGroup) + the group's step + this bias.
    private readonly int _groupBias, _lgGroup;

    /// <summary>Creates an arena with the policy's settings (a generated arena's constructor calls this).</summary>
    public Arena()
        : this(new ArenaOptions())
    {
    }

    /// <summary>Creates an arena with <paramref name="options"/>; the policy's constants still win where it is not runtime-configured.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public Arena(ArenaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = WithPolicy(options);
        options.Validate();
        _threadCache = options.ThreadCache;
        _debugChecks = options.DebugChecks;
        _decays = options.DirtyDecayMs != -1 || options.MuzzyDecayMs != -1;
        _page = Pages.PageSize;
        _classes = SizeClassesCache.Get(options.LgQuantum, options.LgPage, options.LgGroup, options.LgTinyMin);
        _index = ArenaIndices.Rent();
        _id = NextId();
        try
        {
            _pa = new PageAllocator<TPolicy>(_index, new PageAllocatorOptions
            {
                Hooks = options.Hooks,
                Retain = options.Retain,
                DirtyDecayMs = options.DirtyDecayMs,
                MuzzyDecayMs = options.MuzzyDecayMs,
                OversizeThreshold = options.OversizeThreshold,
                LgExtentMaxActiveFit = options.LgExtentMaxActiveFit,
                GuardSmallEvery = options.GuardSmallEvery,
                GuardLargeEvery = options.GuardLargeEvery,
                TimeProvider = options.TimeProvider,
                PageClasses = _classes,
                Map = options.Map,
            });
        }
        catch
        {
            ArenaIndices.Return(_index);
            throw;
        }

        _tree = _pa.Context.Map.Tree;
        _binCount = _classes.BinCount;
        _lookupMax = _classes.LookupMaxClass;
        _smallMax = _classes.SmallMaxClass;
        _largeMax = _classes.LargeMaxClass;

        _bins = new Bin[_binCount];
        for (int i = 0; i < _binCount; i++) _bins[i] = new Bin(_classes.GetBin(i));
        if (TPolicy.IsRuntimeConfigured)
        {
            // The hot tables live in this arena's metadata: stable addresses, nothing for the GC to scan.
            Base b = _pa.Base;
            int lookupLength = _classes.SizeToIndexTableLength;
            _sizeToIndex = (byte*)Check(b.Allocate((nuint)lookupLength, 64));
            for (int i = 0; i < lookupLength; i++) _sizeToIndex[i] = _classes.SizeToIndexTableEntry(i);
            _indexToSize = (ulong*)Check(b.Allocate((nuint)(sizeof(ulong) * _classes.Count), 64));
            for (int i = 0; i < _classes.Count; i++) _indexToSize[i] = _classes.IndexToSize(i);
            _regionSize = (uint*)Check(b.Allocate((nuint)(sizeof(uint) * _binCount), 64));
            _divMagic = (uint*)Check(b.Allocate((nuint)(sizeof(uint) * _binCount), 64));
            for (int i = 0; i < _binCount; i++)
            {
                BinInfo info = _classes.GetBin(i);
                _regionSize[i] = (uint)info.RegionSize;
                _divMagic[i] = info.Div.Magic;
            }
        }
        else
        {
            GeneratedTables.Check<TPolicy>(_classes);
        }

        _cachedClasses = options.ThreadCacheMax < 8 ? 0 : _classes.SizeToIndex((ulong)options.ThreadCacheMax) + 1;
        if (_cachedClasses > _classes.Count) _cachedClasses = _classes.Count;
        _cacheCapacities = new int[_cachedClasses];
        for (int i = 0; i < _cachedClasses; i++)
        {
            // Small: twice a slab's regions (jemalloc's default) or 256 KiB of regions, whichever is
            // more, between 20 and 200. jemalloc's 20 for classes with few regions per slab made a
            // random mix of sizes fill and flush every hundred or so frees of such a class. Large: up
            // to 20, fewer for big classes so that a class holds about 1 MiB at most.
            _cacheCapacities[i] = i < _binCount
                ? Math.Clamp(Math.Max(2 * _classes.GetBin(i).RegionsPerSlab, SmallCacheBytesPerClass / (int)_classes.GetBin(i).RegionSize), 20, 200)
                : (int)Math.Clamp(LargeCacheBytesPerClass / (long)_classes.IndexToSize(i), 1, LargeCacheCapacity);
        }

        // The largest size the inlined paths serve from the thread cache: looked up by table and cached.
        ulong fastMax = 0;
        for (int i = 0; i < _cachedClasses && ClassSize(i) <= _lookupMax; i++) fastMax = ClassSize(i);
        _allocFastMax = UseThreadCache ? (nuint)fastMax : 0;
        _freeFastMax = DebugChecks ? 0 : _allocFastMax;
        _cachedMax = UseThreadCache && _cachedClasses > 0 ? (nuint)_classes.IndexToSize(_cachedClasses - 1) : 0;
        _lookupShift = options.LgTinyMin;
        _lookupRound = ((nuint)1 << options.LgTinyMin) - 1;
        _lgGroup = _classes.LgGroup;
        _groupBias = _classes.NTiny - ((_classes.LgGroup + _classes.LgQuantum) << _classes.LgGroup);

        int largeCount = _classes.Count - _binCount;
        _largeAllocs = new long[largeCount];
        _largeFrees = new long[largeCount];
        _largeCurrent = new long[largeCount];
        _key = NextKey();
        Register(this);
        if (options.BackgroundPurge) _pa.StartBackgroundPurge();
    }

    /// <inheritdoc/>
    public override uint Index => _index;

    /// <inheritdoc/>
    public override nuint MaxSize => (nuint)_largeMax;

    /// <summary>The page allocator behind the arena (for diagnostics and the address-space picture).</summary>
    public PageAllocator<TPolicy> PageAllocator => _pa;

    internal override long Id => _id;

    internal override bool HasDebugChecks => DebugChecks;

    // This thread's cache in this arena, or null when it has none valid (yet, or since a reset). The
    // hit tests the thread's last-used key only: keys are never reused and a disposed arena gets a
    // fresh one, so a match means the last-used block is this arena's and current.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadCache* ThreadCacheOrNull()
    {
        if (ThreadCaches.LastKey == _key) return ThreadCaches.Last;
        return ThreadCaches.GetFromTable(_index, _key);
    }

    // The size class of a size above the lookup table (and at most the largest class): jemalloc's
    // sz_size2index_compute with a lzcnt for the doubling, so the large paths skip the general loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int IndexAboveLookup(nuint size)
    {
        int lgGroup = TPolicy.IsRuntimeConfigured ? _lgGroup : TPolicy.LgGroup;
        int lgCeil = BitOperations.Log2(((ulong)size << 1) - 1);
        int step = (int)(((ulong)size - 1) >> (lgCeil - lgGroup - 1)) & ((1 << lgGroup) - 1);
        return (lgCeil << lgGroup) + step + _groupBias;
    }

    // The size class of a size the lookup table covers. A generated policy reads its own table, baked
    // into the user's assembly, with its slot shift a constant; a runtime policy reads the arena's copy.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SmallIndex(nuint size)
    {
        Debug.Assert(size <= _lookupMax);
        if (TPolicy.IsRuntimeConfigured) return _sizeToIndex[(size + _lookupRound) >> _lookupShift];
        // Every caller has checked the size against the lookup limit, and the constructor checked the
        // table's length, so the span's bounds check would only cost a compare on the hot path.
        nuint slot = (size + ((nuint)1 << TPolicy.LgTinyMin) - 1) >> TPolicy.LgTinyMin;
        return Unsafe.Add(ref MemoryMarshal.GetReference(TPolicy.SizeToIndexLookup), slot);
    }

    // A generated policy's class and bin tables are baked into the user's assembly with constant
    // lengths; a runtime policy reads the arena's copies.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ClassSize(int index) => TPolicy.IsRuntimeConfigured ? _indexToSize[index] : TPolicy.ClassSizes[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint RegionSize(int index) => TPolicy.IsRuntimeConfigured ? _regionSize[index] : (uint)TPolicy.BinRegionSizes[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint DivMagic(int index) => TPolicy.IsRuntimeConfigured ? _divMagic[index] : TPolicy.BinDivMagic[index];

    private bool UseThreadCache => TPolicy.IsRuntimeConfigured ? _threadCache : TPolicy.ThreadCache;

    private bool DebugChecks => TPolicy.IsRuntimeConfigured ? _debugChecks : TPolicy.DebugChecks;

    private bool Decays => TPolicy.IsRuntimeConfigured ? _decays : TPolicy.DirtyDecayMs != -1 || TPolicy.MuzzyDecayMs != -1;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void* Allocate(nuint size)
    {
        void* p = PopCached(size);
        return p != null ? p : AllocateSlow(size, zero: false, throwOnFailure: true);
    }

    /// <summary>
    /// The calling thread's direct line to its cache in this arena, for hot loops: allocation and
    /// sized free through it skip the thread-local lookup. Use it only on the thread that got it
    /// (a ref struct cannot leave the stack); after <see cref="Reset"/> or <see cref="Dispose"/> it
    /// falls back to the arena's ordinary paths.
    /// </summary>
    public ThreadHandle GetThreadHandle()
    {
        ThrowIfDisposed();
        // Without a cache the handle carries a key no arena ever has, so it always takes the ordinary path.
        return UseThreadCache ? new ThreadHandle(this, CurrentCache(), _key) : new ThreadHandle(this, null, ulong.MaxValue);
    }

    /// <summary>A thread's handle on its cache in one arena; see <see cref="GetThreadHandle"/>.</summary>
    public readonly ref struct ThreadHandle
    {
        private readonly Arena<TPolicy> _arena;
        private readonly ThreadCache* _cache;
        private readonly ulong _key;

        internal ThreadHandle(Arena<TPolicy> arena, ThreadCache* cache, ulong key)
        {
            _arena = arena;
            _cache = cache;
            _key = key;
        }

        /// <summary>Allocates <paramref name="size"/> bytes, from the thread's cache when it can.</summary>
        /// <exception cref="OutOfMemoryException">No memory could be had.</exception>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* Allocate(nuint size)
        {
            Arena<TPolicy> arena = _arena;
            // The arena's key changes on reset and dispose, and keys are never reused: while it
            // matches, the cache block is alive and current.
            if (size <= arena._allocFastMax && arena._key == _key)
            {
                void* p = _cache->Bins[arena.SmallIndex(size)].Pop();
                if (p != null) return p;
            }

            return arena.Allocate(size);
        }

        /// <summary>Frees a block of a known size, into the thread's cache when it can.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FreeSized(void* pointer, nuint size)
        {
            Arena<TPolicy> arena = _arena;
            if (size <= arena._freeFastMax && pointer != null && arena._key == _key &&
                _cache->Bins[arena.SmallIndex(size)].TryPush(pointer))
                return;
            arena.FreeSized(pointer, size);
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void* TryAllocate(nuint size)
    {
        void* p = PopCached(size);
        return p != null ? p : AllocateSlow(size, zero: false, throwOnFailure: false);
    }

    // The thread-cache hit shared by Allocate and TryAllocate: null when the size is not served
    // inline, the thread's last-used cache is another arena's, or the cache bin is empty (the slow
    // path then finds the cache through the thread's table).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* PopCached(nuint size)
    {
        if (size > _allocFastMax || ThreadCaches.LastKey != _key) return null;
        return ThreadCaches.Last->Bins[SmallIndex(size)].Pop();
    }

    /// <inheritdoc/>
    public override void* AllocateZeroed(nuint size)
    {
        void* p = AllocateSlow(size, zero: true, throwOnFailure: true);
        return p;
    }

    /// <inheritdoc/>
    public override void* AllocateAligned(nuint size, nuint alignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        ulong usable = _classes.SizeAlignToUsable(Math.Max(size, 1), alignment, 0);
        if (usable == 0 || usable > _largeMax)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"{size} bytes aligned to {alignment} exceed the largest size class ({_largeMax} bytes).");
        if (usable <= _smallMax && alignment <= _page) return Allocate((nuint)usable);
        int index = _classes.SizeToIndex(usable);
        void* p = AllocateLarge((nuint)usable, index, alignment < _page ? _page : alignment, zero: false);
        return p != null ? p : throw OutOfMemory((nuint)usable);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void Free(void* pointer)
    {
        if (pointer == null) return;
        ulong* element = _tree.Element(pointer, initMissing: false);
        if (element != null)
        {
            RtreeContents c = RtreeContents.Decode(*element);
            Edata* e = c.Edata;
            if (e != null && c.State == ExtentState.Active && e->ArenaIndex == _index)
            {
                int index = c.SizeIndex;
                if (c.IsSlab)
                {
                    if (RegionOf(e, pointer, index) >= 0)
                    {
                        if (UseThreadCache && !DebugChecks && index < _cachedClasses)
                        {
                            ThreadCache* tc = ThreadCacheOrNull();
                            if (tc != null && tc->Bins[index].TryPush(pointer)) return;
                        }

                        FreeSmallSlow(e, pointer, index);
                        return;
                    }
                }
                else if (pointer == e->Address && index != Edata.NoSizeIndex)
                {
                    FreeLarge(e, index);
                    return;
                }
            }
        }

        throw NotOwned(pointer);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void FreeSized(void* pointer, nuint size)
    {
        if (size <= _freeFastMax && pointer != null)
        {
            if (ThreadCaches.LastKey != _key)
            {
                FreeSizedFromTable(pointer, size);
                return;
            }

            ThreadCache* tc = ThreadCaches.Last;
            Push(tc, SmallIndex(size), pointer);
            return;
        }

        Free(pointer);
    }

    // FreeSized when the thread last used another arena's cache (or none): find this arena's through
    // the thread's table, out of line so that the inlined path stays small.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreeSizedFromTable(void* pointer, nuint size)
    {
        ThreadCache* tc = ThreadCaches.GetFromTable(_index, _key);
        if (tc == null)
        {
            Free(pointer);
            return;
        }

        Push(tc, SmallIndex(size), pointer);
    }

    // Caches a freed item; every free path (sized, unsized, large) pushes through here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Push(ThreadCache* tc, int index, void* item)
    {
        if (!tc->Bins[index].TryPush(item)) PushAfterFlush(tc, index, item);
    }

    // A full cache bin: flush its older half to the bins, then the push fits.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PushAfterFlush(ThreadCache* tc, int index, void* item)
    {
        ref CacheBin cb = ref tc->Bins[index];
        Flush(tc, index, cb.Capacity >> 1);
        cb.TryPush(item);
    }

    // Empties every bin of a cache back into the arena (Purge, and a dead thread's cache).
    private void FlushAll(ThreadCache* tc)
    {
        for (int i = 0; i < tc->BinCount; i++)
        {
            int n = tc->Bins[i].Count;
            if (n != 0) FlushBin(tc, i, n);
        }
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

    /// <inheritdoc/>
    public override void Purge()
    {
        ThrowIfDisposed();
        // What this thread caches would otherwise keep whole slabs and large extents out of reach.
        ThreadCache* tc = ThreadCacheOrNull();
        if (tc != null) FlushAll(tc);
        _pa.PurgeAll();
        // Slabs that are still in use keep their free pages resident; give those back as well.
        foreach (Bin bin in _bins)
        {
            using (bin.Lock.EnterScope()) bin.PurgeFreePages(_pa.Context);
        }
    }

    /// <inheritdoc/>
    public override void SetDecayTimes(long dirtyDecayMs, long muzzyDecayMs)
    {
        ThrowIfDisposed();
        if (!Decay.IsValidDecayMs(dirtyDecayMs)) throw new ArgumentOutOfRangeException(nameof(dirtyDecayMs), dirtyDecayMs, "A decay time is -1 (never), 0 (at once) or milliseconds.");
        if (!Decay.IsValidDecayMs(muzzyDecayMs)) throw new ArgumentOutOfRangeException(nameof(muzzyDecayMs), muzzyDecayMs, "A decay time is -1 (never), 0 (at once) or milliseconds.");
        _pa.SetDecayMs(ExtentState.Dirty, dirtyDecayMs);
        _pa.SetDecayMs(ExtentState.Muzzy, muzzyDecayMs);
        _decays = dirtyDecayMs != -1 || muzzyDecayMs != -1;
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        ThrowIfDisposed();
        // A new key makes every thread's cache stale: its contents point into slabs freed below.
        lock (ThreadCaches.ListLock) _key = NextKey();
        NextGeneration();
        ReleaseEverything();
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        lock (ThreadCaches.ListLock)
        {
            if (_disposed) return;
            _disposed = true;
            NextGeneration();
            // A fresh key, which no thread cache and no handle holds: every fast path misses from now on.
            _key = NextKey();
            // Threads still point at their blocks: mark them, and each thread frees its own later.
            for (ThreadCache* tc = _caches; tc != null; tc = tc->Next) tc->Orphaned = 1;
            _caches = null;
            Unregister(this);
        }

        ReleaseEverything();
        _pa.Dispose();
        ArenaIndices.Return(_index);
    }

    /// <inheritdoc/>
    public override ArenaStats GetStats()
    {
        // Each bin's counters are read under its lock, so every bin's figures agree with each other
        // (allocations - deallocations = current) even while other threads allocate and free.
        var bins = new BinStats[_binCount];
        for (int i = 0; i < _binCount; i++)
        {
            Bin b = _bins[i];
            using (b.Lock.EnterScope())
            {
                bins[i] = new BinStats(i, b.RegionSize, b.RegionsPerSlab, (long)b.SlabSize, b.Allocations, b.Deallocations,
                    b.CurrentRegions, b.Slabs, b.CurrentSlabs, b.Fills, b.Flushes);
            }
        }

        var large = new List<LargeClassStats>();
        using (_largeLock.EnterScope())
        {
            for (int i = 0; i < _largeAllocs.Length; i++)
            {
                if (_largeAllocs[i] != 0)
                    large.Add(new LargeClassStats(_binCount + i, (long)ClassSize(_binCount + i), _largeAllocs[i], _largeFrees[i], _largeCurrent[i]));
            }
        }

        return new ArenaStats(_index, _pa.GetStats(), bins, large);
    }

    /// <inheritdoc/>
    public override void Validate()
    {
        ThrowIfDisposed();
        // The finalizer of a dead thread flushes its cache under this lock: hold it, so such a flush
        // cannot change the arena between collecting its extents and checking them.
        using var quiet = ThreadCaches.ListLock.EnterScope();
        var active = new List<nint>();
        for (int i = 0; i < _binCount; i++)
        {
            Bin bin = _bins[i];
            using (bin.Lock.EnterScope())
            {
                long regions = 0;
                var slabs = new List<(nint Slab, string Where)>();
                if (bin.Current != null) slabs.Add(((nint)bin.Current, "current"));
                var heap = new List<nint>();
                bin.NonFull.ForEach(&Bin.Collect, Unsafe.AsPointer(ref heap));
                foreach (nint s in heap) slabs.Add((s, "non-full"));
                for (Edata* s = bin.Full; s != null; s = s->ListNext) slabs.Add(((nint)s, "full"));
                foreach (var (handle, where) in slabs)
                {
                    var s = (Edata*)handle;
                    int used = s->SlabBitmap.CountSet(bin.RegionsPerSlab);
                    if (!s->IsSlab || s->SizeIndex != i || s->State != ExtentState.Active || s->ArenaIndex != _index)
                        throw Broken($"the {where} slab at 0x{(nuint)s->Address:x} of bin {i} has slab={s->IsSlab}, size index {s->SizeIndex}, state {s->State}");
                    if (used != bin.RegionsPerSlab - s->FreeRegions)
                        throw Broken($"the slab at 0x{(nuint)s->Address:x} of bin {i} has {used} regions marked but {bin.RegionsPerSlab - s->FreeRegions} counted");
                    if (where == "full" && s->FreeRegions != 0 || where == "non-full" && (s->FreeRegions == 0 || s->FreeRegions == bin.RegionsPerSlab))
                        throw Broken($"the slab at 0x{(nuint)s->Address:x} of bin {i} is filed as {where} with {s->FreeRegions} free regions");
                    regions += used;
                    active.Add(handle);
                }

                if (regions != bin.CurrentRegions)
                    throw Broken($"bin {i} counts {bin.CurrentRegions} regions out but its slabs have {regions}");
            }
        }

        using (_largeLock.EnterScope())
        {
            for (Edata* e = _large; e != null; e = e->ListNext)
            {
                if (e->IsSlab || e->State != ExtentState.Active || e->SizeIndex < _binCount)
                    throw Broken($"the large extent at 0x{(nuint)e->Address:x} has slab={e->IsSlab}, state {e->State}, size index {e->SizeIndex}");
                active.Add((nint)e);
            }
        }

        ExtentValidator.Validate(_pa.Context, active.ToArray(), activeIsComplete: true);
    }

    /// <inheritdoc/>
    public override List<AddressSpaceRegion> GetAddressSpace()
    {
        ThrowIfDisposed();
        using var quiet = ThreadCaches.ListLock.EnterScope();
        var extents = new List<nint>();
        foreach (Bin bin in _bins)
        {
            using (bin.Lock.EnterScope()) bin.CollectSlabs(extents, includeFull: true);
        }

        using (_largeLock.EnterScope())
        {
            for (Edata* e = _large; e != null; e = e->ListNext) extents.Add((nint)e);
        }

        var regions = new List<AddressSpaceRegion>();
        foreach (nint e in extents) AddRegion(regions, (Edata*)e, AddressSpaceKind.Active);
        ExtentContext ctx = _pa.Context;
        foreach (Ecache ecache in new[] { ctx.Dirty, ctx.Muzzy, ctx.Retained })
        {
            AddressSpaceKind kind = ecache.State switch
            {
                ExtentState.Dirty => AddressSpaceKind.Dirty,
                ExtentState.Muzzy => AddressSpaceKind.Muzzy,
                _ => AddressSpaceKind.Retained,
            };
            using (ecache.Enter())
            {
                foreach (Eset set in new[] { ecache.Eset, ecache.GuardedEset })
                {
                    for (Edata* e = set.LruFirst; e != null; e = Eset.LruNext(e)) AddRegion(regions, e, kind);
                }
            }
        }

        return regions;
    }

    private void AddRegion(List<AddressSpaceRegion> regions, Edata* e, AddressSpaceKind kind)
    {
        regions.Add(new AddressSpaceRegion((nuint)e->Address, e->Size, kind));
        if (!e->IsGuarded) return;
        regions.Add(new AddressSpaceRegion((nuint)e->Past, _page, AddressSpaceKind.Guard));
        // Slabs cut from the bump region have only the right guard. Free guarded extents are all
        // such slabs (guarded large extents are unguarded when freed); everything else has two.
        bool rightOnly = SanBump.IsSupported(_pa.Context) && (e->IsSlab || kind != AddressSpaceKind.Active);
        if (!rightOnly) regions.Add(new AddressSpaceRegion((nuint)e->Address - _page, _page, AddressSpaceKind.Guard));
    }

    private void* AllocateSlow(nuint size, bool zero, bool throwOnFailure)
    {
        if (size > _largeMax)
        {
            if (!throwOnFailure) return null;
            throw new ArgumentOutOfRangeException(nameof(size), size, $"{size} bytes exceed the largest size class ({_largeMax} bytes).");
        }

        // A cached class above the lookup table (the inlined paths stop there): a hit needs neither
        // the disposed check nor the class's size. Small bins hold regions, large bins the extents.
        if (!zero && size > _lookupMax && size <= _cachedMax && ThreadCaches.LastKey == _key)
        {
            int cachedIndex = IndexAboveLookup(size);
            void* item = ThreadCaches.Last->Bins[cachedIndex].Pop();
            if (item != null) return cachedIndex < _binCount ? item : TakeCachedExtent((Edata*)item);
        }

        // Checked before the lookup table is read: a disposed arena's table is unmapped with its metadata.
        ThrowIfDisposed();
        int index = size <= _lookupMax ? SmallIndex(size) : IndexAboveLookup(size);
        void* p = index < _binCount ? AllocateSmall(index, zero) : AllocateLargeCached((nuint)ClassSize(index), index, zero);
        if (p == null && throwOnFailure) throw OutOfMemory(size);
        return p;
    }

    // A large extent leaves a thread cache: clear the in-cache mark that catches a second free.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void* TakeCachedExtent(Edata* e)
    {
        e->BinShard = 0;
        return e->Address;
    }

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
            Bin bin = _bins[index];
            void* one;
            FillFromBin(bin, index, &one, 1, out int got);
            p = got == 1 ? one : null;
            Tick(null);
        }

        if (p != null && zero) NativeMemory.Clear(p, (nuint)ClassSize(index));
        return p;
    }

    private void Fill(ThreadCache* tc, int index)
    {
        ref CacheBin cb = ref tc->Bins[index];
        int want = Math.Max(1, cb.Capacity >> 1);
        void** buffer = stackalloc void*[want];
        FillFromBin(_bins[index], index, buffer, want, out int got);
        cb.Fill(buffer, got);
        Tick(tc);
    }

    // Takes up to `want` regions, making new slabs as needed; the bin lock is dropped around the
    // page allocator because bin locks rank below every extent lock.
    private void FillFromBin(Bin bin, int index, void** buffer, int want, out int got)
    {
        got = 0;
        bin.Lock.Enter();
        try
        {
            while (got < want)
            {
                void* p = bin.TryTakeRegion();
                if (p != null)
                {
                    buffer[got++] = p;
                    continue;
                }

                bin.Lock.Exit();
                Edata* slab;
                try
                {
                    slab = NewSlab(bin, index);
                }
                finally
                {
                    bin.Lock.Enter();
                }

                if (slab == null) break;
                bin.AddSlab(slab);
            }

            bin.Allocations += got;
            bin.CurrentRegions += got;
            bin.Fills++;
        }
        finally
        {
            bin.Lock.Exit();
        }
    }

    private Edata* NewSlab(Bin bin, int index)
    {
        Edata* slab = _pa.Alloc(bin.SlabSize, _page, slab: true, index, zero: false);
        if (slab == null) return null;
        slab->SlabBitmap.Init(bin.RegionsPerSlab);
        slab->FreeRegions = bin.RegionsPerSlab;
        return slab;
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
        bool allocated;
        using (_bins[index].Lock.EnterScope()) allocated = slab->SlabBitmap.IsSet(region);
        if (!allocated) throw DoubleFree(pointer);
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = ThreadCacheOrNull();
            if (tc != null && tc->Bins[index].Contains(pointer)) throw DoubleFree(pointer);
        }
    }

    private void Flush(ThreadCache* tc, int index, int count)
    {
        FlushBin(tc, index, count);
        Tick(tc);
    }

    private void FlushBin(ThreadCache* tc, int index, int count)
    {
        ref CacheBin cb = ref tc->Bins[index];
        count = Math.Max(1, count);
        void** buffer = stackalloc void*[count];
        int n = cb.FlushTo(buffer, count);
        if (index < _binCount) ReturnToBin(index, buffer, n);
        else
        {
            // Large cache bins hold the extents themselves, not their addresses.
            for (int i = 0; i < n; i++)
            {
                var e = (Edata*)buffer[i];
                e->BinShard = 0;
                FreeLargeNow(e, index, tick: false);
            }
        }
    }

    // Returns regions to their slabs under one hold of the bin lock; empty slabs go back to the page
    // allocator after it is released. A region that is already free is reported after the others are done.
    private void ReturnToBin(int index, void** regions, int count)
    {
        Bin bin = _bins[index];
        Edata** slabs = stackalloc Edata*[count];
        for (int i = 0; i < count; i++) slabs[i] = (Edata*)LookupUnchecked(regions[i]);
        Edata** emptied = stackalloc Edata*[count];
        int emptiedCount = 0, freed = 0;
        void* doubleFreed = null;
        using (bin.Lock.EnterScope())
        {
            for (int i = 0; i < count; i++)
            {
                Edata* empty = bin.ReturnRegion(slabs[i], regions[i], out bool alreadyFree);
                if (alreadyFree)
                {
                    doubleFreed = regions[i];
                    continue;
                }

                freed++;
                if (empty != null) emptied[emptiedCount++] = empty;
            }

            bin.Deallocations += freed;
            bin.CurrentRegions -= freed;
            bin.Flushes++;
        }

        for (int i = 0; i < emptiedCount; i++) _pa.Free(emptied[i]);
        if (doubleFreed != null) throw DoubleFree(doubleFreed);
    }

    private void* AllocateLargeCached(nuint usable, int index, bool zero)
    {
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = CurrentCache();
            // Large cache bins hold edata pointers, so a hit needs no map lookup.
            if (tc->Bins[index].TryPop(out void* cached))
            {
                void* p = TakeCachedExtent((Edata*)cached);
                if (zero) NativeMemory.Clear(p, usable);
                return p;
            }
        }

        return AllocateLarge(usable, index, _page, zero);
    }

    private void* AllocateLarge(nuint usable, int index, nuint alignment, bool zero)
    {
        Edata* e = _pa.Alloc(usable, alignment, slab: false, index, zero);
        if (e == null) return null;
        using (_largeLock.EnterScope())
        {
            e->ListPrev = null;
            e->ListNext = _large;
            if (_large != null) _large->ListPrev = e;
            _large = e;
            _largeAllocs[index - _binCount]++;
            _largeCurrent[index - _binCount]++;
        }

        Tick(UseThreadCache ? ThreadCacheOrNull() : null);
        return e->Address;
    }

    private void FreeLarge(Edata* e, int index)
    {
        // The in-cache mark catches a large extent freed twice while it sits in a thread cache.
        if (e->BinShard == (int)InThreadCache) throw DoubleFree(e->Address);
        if (UseThreadCache && index < _cachedClasses)
        {
            ThreadCache* tc = CurrentCache();
            e->BinShard = (int)InThreadCache;
            Push(tc, index, e);
            return;
        }

        FreeLargeNow(e, index, tick: true);
    }

    private void FreeLargeNow(Edata* e, int index, bool tick)
    {
        using (_largeLock.EnterScope())
        {
            if (e->ListPrev != null) e->ListPrev->ListNext = e->ListNext;
            else _large = e->ListNext;
            if (e->ListNext != null) e->ListNext->ListPrev = e->ListPrev;
            e->ListNext = e->ListPrev = null;
            _largeFrees[index - _binCount]++;
            _largeCurrent[index - _binCount]--;
        }

        _pa.Free(e);
        if (tick) Tick(UseThreadCache ? ThreadCacheOrNull() : null);
    }

    private bool TryResizeLarge(Edata* e, int oldIndex, int newIndex)
    {
        nuint oldSize = e->Size, newSize = (nuint)ClassSize(newIndex);
        bool ok = newSize > oldSize ? _pa.Expand(e, oldSize, newSize, newIndex, zero: false) : _pa.Shrink(e, oldSize, newSize, newIndex);
        if (!ok) return false;
        using (_largeLock.EnterScope())
        {
            _largeFrees[oldIndex - _binCount]++;
            _largeCurrent[oldIndex - _binCount]--;
            _largeAllocs[newIndex - _binCount]++;
            _largeCurrent[newIndex - _binCount]++;
        }

        return true;
    }

    // Slow-path events drive the periodic work: decay, and trimming what this thread's cache has
    // not needed lately. Never called from inside a fill or flush.
    private void Tick(ThreadCache* tc)
    {
        if (tc != null)
        {
            if (++tc->Ticks < TicksPerDecay) return;
            tc->Ticks = 0;
            TrimOneBin(tc);
        }
        else if (Interlocked.Increment(ref _uncachedTicks) % TicksPerDecay != 0)
        {
            return;
        }

        if (Decays) _pa.DecayTick();
    }

    // jemalloc's incremental tcache GC: visit one bin per round; whatever stayed unused below its
    // low-water mark since the last visit mostly goes back to the bins and the page allocator.
    private void TrimOneBin(ThreadCache* tc)
    {
        int index = tc->NextTrim;
        tc->NextTrim = index + 1 == tc->BinCount ? 0 : index + 1;
        ref CacheBin cb = ref tc->Bins[index];
        int lowWater = cb.LowWater;
        if (lowWater > 0) FlushBin(tc, index, lowWater - (lowWater >> 2));
        cb.ResetLowWater();
    }

    private ThreadCache* CurrentCache()
    {
        ThreadCache* tc = ThreadCacheOrNull();
        return tc != null ? tc : CreateCache();
    }

    private ThreadCache* CreateCache()
    {
        lock (ThreadCaches.ListLock)
        {
            ThrowIfDisposed();
            ThreadCache* tc = ThreadCaches.Peek(_index);
            if (tc != null)
            {
                if (tc->Key == _key) return tc;
                if (tc->Orphaned == 0 && tc->ArenaId == _id)
                {
                    // Reset since this thread last came: drop what it cached, keep the block.
                    tc->Clear();
                    tc->Key = _key;
                    return tc;
                }

                Debug.Assert(tc->Orphaned != 0, "a live arena's block under another arena's index");
                ThreadCaches.Forget(tc);
                ThreadCache.Free(tc);
            }

            tc = ThreadCache.Create(_cacheCapacities, _index, _id, _key);
            tc->Next = _caches;
            if (_caches != null) _caches->Prev = tc;
            _caches = tc;
            ThreadCaches.Set(_index, tc);
            return tc;
        }
    }

    /// <summary>A dead thread's cache: flush what it holds into the bins, unlink and free it (ListLock held).</summary>
    internal override void FlushOnThreadExit(nint handle)
    {
        var tc = (ThreadCache*)handle;
        if (tc->Key == _key) FlushAll(tc);

        if (tc->Prev != null) tc->Prev->Next = tc->Next;
        else _caches = tc->Next;
        if (tc->Next != null) tc->Next->Prev = tc->Prev;
        ThreadCache.Free(tc);
    }

    private void ReleaseEverything()
    {
        var extents = new List<nint>();
        foreach (Bin bin in _bins)
        {
            using (bin.Lock.EnterScope())
            {
                if (bin.Current != null) extents.Add((nint)bin.Current);
                Edata* s;
                while ((s = bin.NonFull.RemoveFirst()) != null) extents.Add((nint)s);
                for (s = bin.Full; s != null; s = s->ListNext) extents.Add((nint)s);
                bin.Current = null;
                bin.Full = null;
                bin.Deallocations += bin.CurrentRegions;
                bin.CurrentRegions = 0;
                bin.CurrentSlabs = 0;
            }
        }

        using (_largeLock.EnterScope())
        {
            for (Edata* e = _large; e != null; e = e->ListNext) extents.Add((nint)e);
            _large = null;
            for (int i = 0; i < _largeCurrent.Length; i++)
            {
                _largeFrees[i] += _largeCurrent[i];
                _largeCurrent[i] = 0;
            }
        }

        foreach (nint e in extents)
        {
            ((Edata*)e)->BinShard = 0;
            _pa.Free((Edata*)e);
        }
    }

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
                    if (pointer == e->Address && e->BinShard != (int)InThreadCache) return e;
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

    // The region of a slab that starts at the pointer, or -1 when it points inside one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RegionOf(Edata* slab, void* pointer, int index)
    {
        uint offset = (uint)((byte*)pointer - (byte*)slab->Address);
        uint region = (uint)(((ulong)offset * DivMagic(index)) >> 32);
        return region * RegionSize(index) == offset ? (int)region : -1;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(GetType().Name, $"Arena {_index} has been disposed.");
    }

    private static void* Check(void* p) => p != null ? p : throw new OutOfMemoryException("No memory for arena metadata.");

    // A literal policy's constants replace the options' settings; what a policy does not fix
    // (clock, map, background purge, thread cache size, a hooks instance) comes from the options.
    private static ArenaOptions WithPolicy(ArenaOptions options)
    {
        if (TPolicy.IsRuntimeConfigured) return options;
        return options with
        {
            Retain = TPolicy.Retain,
            DirtyDecayMs = TPolicy.DirtyDecayMs,
            MuzzyDecayMs = TPolicy.MuzzyDecayMs,
            OversizeThreshold = TPolicy.OversizeThreshold,
            LgExtentMaxActiveFit = TPolicy.LgExtentMaxActiveFit,
            LgQuantum = TPolicy.LgQuantum,
            LgPage = TPolicy.LgPage,
            LgGroup = TPolicy.LgGroup,
            LgTinyMin = TPolicy.LgTinyMin,
            GuardSmallEvery = TPolicy.GuardSmallEvery,
            GuardLargeEvery = TPolicy.GuardLargeEvery,
            ThreadCache = TPolicy.ThreadCache,
            DebugChecks = TPolicy.DebugChecks,
            Hooks = options.Hooks ?? TPolicy.CreateHooks(),
        };
    }

    private InvalidOperationException NotOwned(void* pointer)
    {
        // Say the likeliest story: a page of ours that is free now means the block was freed before.
        if (pointer != null && _tree.TryRead(pointer, out RtreeContents c) && c.Edata != null && c.Edata->ArenaIndex == _index &&
            c.State != ExtentState.Active)
            return AlreadyFreed(pointer);
        return new($"0x{(nuint)pointer:x} is not a live block of arena {_index}: it was never allocated here, or points inside a block.");
    }

    private InvalidOperationException AlreadyFreed(void* pointer) =>
        new($"0x{(nuint)pointer:x} was already freed in arena {_index} (a double free or a use after free).");

    private InvalidOperationException DoubleFree(void* pointer) =>
        new($"0x{(nuint)pointer:x} was freed twice in arena {_index}.");

    private OutOfMemoryException OutOfMemory(nuint size) =>
        new($"Arena {_index} could not allocate {size} bytes: the OS or the extent hooks gave no memory.");

    private static InvalidOperationException Broken(string what) => new($"Arena invariant broken: {what}.");
}

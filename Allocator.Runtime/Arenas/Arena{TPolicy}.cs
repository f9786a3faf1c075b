using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Allocator.Extents;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.PageAllocators;
using Allocator.Profiling;
using Allocator.Sizing;
using Allocator.Threading;

namespace Allocator;

/// <summary>
/// The arena core, compiled by the JIT once per policy struct: every <typeparamref name="TPolicy"/>
/// member is a constant for generated policies, so paths a policy turns off (thread cache, debug
/// checks, decay ticks) are not in its copy of the code. Arenas configured at run time use
/// <see cref="RuntimeArenaPolicy"/> and read the same knobs from the instance.
/// </summary>
/// <remarks>
/// One class in several files, one concern each: the fast paths, the thread handle, the thread
/// cache, small allocation through bins, large extents, the lifecycle, introspection, and size
/// lookup. This file holds the state and its construction.
/// </remarks>
/// <typeparam name="TPolicy">The compile-time configuration.</typeparam>
[System.Runtime.CompilerServices.SkipLocalsInit]
public sealed unsafe partial class Arena<TPolicy> : Arena where TPolicy : struct, IArenaPolicy
{
    private const int LargeCacheCapacity = 20;
    private const long LargeCacheBytesPerClass = 1 << 20;
    private const int SmallCacheBytesPerClass = 256 << 10;
    private const int TicksPerDecay = 64;

    private readonly PageAllocator<TPolicy> _pa;
    private readonly Rtree _tree;

    // The tree's root beside the arena's other hot fields, so that Free's lookup is one load from
    // the arena, then the root entry and the leaf word.
    private readonly ulong** _rtreeRoot;
    private readonly uint _index;
    private readonly long _id;
    private readonly SizeClasses _classes;
    private readonly byte* _sizeToIndex;
    private readonly ulong* _indexToSize;
    private readonly uint* _regionSize;
    private readonly uint* _divMagic;
    private readonly ulong* _multipleMagic;
    // The bins of shard s are _bins[s * _binCount ..]; _shardCaches counts each shard's thread
    // caches (under ThreadCaches.ListLock), so a new cache takes the least used shard.
    private readonly Bin[] _bins;
    private readonly int _binShards;
    private readonly int[] _shardCaches;
    private readonly LargeExtents _large;
    private readonly int _binCount;
    private readonly int _cachedClasses;
    private readonly int[] _cacheCapacities;
    private readonly ulong _lookupMax, _smallMax, _largeMax;
    private readonly nuint _page;
    private readonly bool _threadCache, _debugChecks;

    // Free may push into the thread cache: a cache and no debug checks (one test for a runtime policy).
    private readonly bool _freeCaches;

    private bool _decays;
    private ThreadCache* _caches;
    private long _uncachedTicks;
    private ulong _key;

    // FreeSized's copy of _key for a runtime policy: the key itself, or for an arena that profiles a
    // key no cache holds, which sends its small sized frees out of line where the address is checked
    // (a sampled small block is promoted to a page of its own). The inlined test then costs what it
    // did before profiling existed: a null test and a key compare.
    private ulong _sizedPushKey;
    private volatile bool _disposed;
    private int _pins;

    // The fast paths' own settings, derived once from the others so that the inlined paths test each
    // with one compare: the largest size Allocate pops from the thread cache (0 without one), the
    // largest FreeSized pushes there (0 also with debug checks, which must see every free), and the
    // lookup table's rounding for a runtime policy.
    private readonly nuint _allocFastMax, _freeFastMax, _lookupRound;

    private readonly int _lookupShift;

    // The largest cached class (0 without a thread cache): PopAboveLookup tries the cache up to it.
    private readonly nuint _cachedMax;

    // PopAboveLookup's class lookup: the cached classes above the lookup table are multiples of the
    // first one's spacing (2^_cachedAboveShift bytes), so a size rounded up to it names its class in
    // this table, in the metadata. One shift and one load where the class computation took
    // eighteen instructions; null when no class above the lookup table is cached.
    private readonly ushort* _cachedAboveLookup;
    private readonly nuint _cachedAboveRound;
    private readonly int _cachedAboveShift;

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
        if (!TPolicy.IsRuntimeConfigured && TPolicy.ProfileSampleBytes == 0 && options.LeakReport)
            throw new ArgumentException("Leak reports need a profiling arena: declare [Arena(LeakReport = true)] (or ProfileSampleBytes) on it.", nameof(options));
        _profileInterval = ProfileIntervalOf(options);
        _leakReport = options.LeakReport;
        _profiler = _profileInterval != 0 ? new HeapProfiler(_profileInterval) : null;
        _threadCache = options.ThreadCache;
        _debugChecks = options.DebugChecks;
        _decays = options.DirtyDecayMs != -1 || options.MuzzyDecayMs != -1;
        _page = Pages.PageSize;
        _classes = SizeClassesCache.Get(options.LgQuantum, options.LgPage, options.LgGroup, options.LgTinyMin);
        _binCount = _classes.BinCount;
        _lookupMax = _classes.LookupMaxClass;
        _smallMax = _classes.SmallMaxClass;
        _largeMax = _classes.LargeMaxClass;

        // 1. A generated policy's tables checked against the arena's classes, before anything is
        // rented or built: a generator/runtime version skew then leaks nothing.
        if (!TPolicy.IsRuntimeConfigured) GeneratedTables.Check<TPolicy>(_classes);

        // 2. An index and the shard that owns this arena's pages and metadata.
        _index = ArenaIndices.Rent();
        _id = NextId();
        _pa = CreatePageAllocator(options);
        _tree = _pa.Context.Map.Tree;
        _rtreeRoot = _tree.Root;

        // 3. The size tables the hot paths read, copied into the metadata for a runtime policy.
        // Everything from here on can still fail (no metadata memory, no purger thread): give the
        // shard and the index back, so a refused arena leaks neither.
        try
        {
            if (TPolicy.IsRuntimeConfigured) CopySizeTables(out _sizeToIndex, out _indexToSize, out _regionSize, out _divMagic, out _multipleMagic);
            else GeneratedMultipleMagic.Ensure();
            if (UseThreadCache) BuildCachedAboveLookup(CachedClassCount(options.ThreadCacheMax), out _cachedAboveLookup, out _cachedAboveShift);
            _cachedAboveRound = ((nuint)1 << _cachedAboveShift) - 1;
        }
        catch
        {
            _pa.Dispose();
            ArenaIndices.Return(_index);
            throw;
        }

        // 4. The bins of the slab classes, one per shard, and the large extents above them.
        _binShards = options.BinShards != 0 ? options.BinShards : Math.Min(4 * Environment.ProcessorCount, ArenaOptions.MaxBinShards);
        _shardCaches = new int[_binShards];
        _bins = new Bin[_binCount * _binShards];
        for (int s = 0; s < _binShards; s++)
            for (int i = 0; i < _binCount; i++) _bins[s * _binCount + i] = new Bin(_classes.GetBin(i), s);
        _large = new LargeExtents(_binCount, _classes.Count - _binCount);

        // 5. The thread cache's classes and capacities, and the limits of the inlined paths.
        _cacheCapacities = CacheCapacities(options.ThreadCacheMax, out _cachedClasses);
        Debug.Assert(_cachedClasses < Edata.NoSizeIndex, "FreeOther's hit tests a class index against _cachedClasses alone");
        ulong fastMax = 0;
        for (int i = 0; i < _cachedClasses && ClassSize(i) <= _lookupMax; i++) fastMax = ClassSize(i);
        _allocFastMax = UseThreadCache ? (nuint)fastMax : 0;
        // Debug checks must see every free, so FreeSized then pushes nothing inline.
        _freeFastMax = DebugChecks ? 0 : _allocFastMax;
        _freeCaches = UseThreadCache && !DebugChecks;
        _cachedMax = UseThreadCache && _cachedClasses > 0 ? (nuint)_classes.IndexToSize(_cachedClasses - 1) : 0;
        _lookupShift = options.LgTinyMin;
        _lookupRound = ((nuint)1 << options.LgTinyMin) - 1;
        _lgGroup = _classes.LgGroup;
        _groupBias = _classes.NTiny - ((_classes.LgGroup + _classes.LgQuantum) << _classes.LgGroup);

        // 6. Live: a key for the thread caches, the process-wide table, the background purger.
        NewKey();
        Register(this);
        bool systemClock = options.TimeProvider is null || options.TimeProvider == TimeProvider.System;
        if (options.BackgroundPurge ?? (BackgroundPurger.Enabled && systemClock)) StartBackgroundPurge();
    }

    /// <inheritdoc/>
    public override uint Index => _index;

    /// <inheritdoc/>
    public override nuint MaxSize => (nuint)_largeMax;

    /// <summary>The page allocator behind the arena (for diagnostics and the address-space picture).</summary>
    internal PageAllocator<TPolicy> PageAllocator => _pa;

    internal override long Id => _id;

    internal override bool HasDebugChecks => DebugChecks;

    // The last step of construction that can fail: if the purger cannot start, the arena is taken
    // out of the table again and its shard and index are given back.
    private void StartBackgroundPurge()
    {
        try
        {
            _pa.StartBackgroundPurge();
        }
        catch
        {
            using (ThreadCaches.ListLock.EnterScope()) Unregister(this);
            _pa.Dispose();
            ArenaIndices.Return(_index);
            throw;
        }
    }

    private PageAllocator<TPolicy> CreatePageAllocator(ArenaOptions options)
    {
        try
        {
            return new PageAllocator<TPolicy>(_index, new PageAllocatorOptions
            {
                Hooks = options.Hooks,
                Retain = options.Retain,
                DirtyDecayMs = options.DirtyDecayMs,
                MuzzyDecayMs = options.MuzzyDecayMs,
                OversizeThreshold = options.OversizeThreshold,
                LgExtentMaxActiveFit = options.LgExtentMaxActiveFit,
                GuardSmallEvery = options.GuardSmallEvery,
                GuardLargeEvery = options.GuardLargeEvery,
                GuardMappingShare = options.GuardMappingShare,
                GuardAccount = options.GuardAccount,
                TimeProvider = options.TimeProvider,
                PageClasses = _classes,
                Map = options.Map,
                HugePages = options.HugePages,
                HugifyDelayMs = options.HugifyDelayMs,
                HugificationThreshold = options.HugificationThreshold,
                HugePageDirtyMult = options.HugePageDirtyMult,
                HugePageMinPurgeIntervalMs = options.HugePageMinPurgeIntervalMs,
            });
        }
        catch
        {
            ArenaIndices.Return(_index);
            throw;
        }
    }

    // The hot tables live in this arena's metadata: stable addresses, nothing for the GC to scan.
    private void CopySizeTables(out byte* sizeToIndex, out ulong* indexToSize, out uint* regionSize, out uint* divMagic, out ulong* multipleMagic)
    {
        Base b = _pa.Base;
        int lookupLength = _classes.SizeToIndexTableLength;
        sizeToIndex = (byte*)Check(b.Allocate((nuint)lookupLength, 64));
        for (int i = 0; i < lookupLength; i++) sizeToIndex[i] = _classes.SizeToIndexTableEntry(i);
        indexToSize = (ulong*)Check(b.Allocate((nuint)(sizeof(ulong) * _classes.Count), 64));
        for (int i = 0; i < _classes.Count; i++) indexToSize[i] = _classes.IndexToSize(i);
        regionSize = (uint*)Check(b.Allocate((nuint)(sizeof(uint) * _binCount), 64));
        divMagic = (uint*)Check(b.Allocate((nuint)(sizeof(uint) * _binCount), 64));
        multipleMagic = (ulong*)Check(b.Allocate((nuint)(sizeof(ulong) * _binCount), 64));
        for (int i = 0; i < _binCount; i++)
        {
            BinInfo info = _classes.GetBin(i);
            regionSize[i] = (uint)info.RegionSize;
            divMagic[i] = info.Div.Magic;
            multipleMagic[i] = info.Div.MultipleMagic;
        }
    }

    // The table behind _cachedAboveLookup, for the classes below `cached` (none when they all fit
    // the lookup table). Entry i is the class of i << shift bytes.
    private void BuildCachedAboveLookup(int cached, out ushort* table, out int shift)
    {
        table = null;
        shift = 0;
        int first = _classes.SizeToIndex(_lookupMax) + 1;
        if (cached <= first) return;
        shift = BitOperations.Log2(_classes.IndexToSize(first) - _classes.IndexToSize(first - 1));
        ulong top = _classes.IndexToSize(cached - 1);
        nuint length = (nuint)(top >> shift) + 1;
        table = (ushort*)Check(_pa.Base.Allocate(length * sizeof(ushort), 64));
        for (nuint i = 0; i < length; i++) table[i] = (ushort)_classes.SizeToIndex(Math.Max((ulong)i << shift, 1));
        for (int i = first; i < cached; i++)
            Debug.Assert(_classes.IndexToSize(i) % (1UL << shift) == 0, "every cached class above the lookup table is a multiple of the first one's spacing");
    }

    // A generated policy's constants of the region-start test, computed from its classes once per
    // policy type and never freed, like the tables baked into its assembly; a static pointer, so the
    // optimized free path reads the table at a constant address.
    private static class GeneratedMultipleMagic
    {
        internal static readonly ulong* Table = Build();

        internal static void Ensure() => _ = Table;

        private static ulong* Build()
        {
            SizeClasses classes = SizeClassesCache.Get(TPolicy.LgQuantum, TPolicy.LgPage, TPolicy.LgGroup, TPolicy.LgTinyMin);
            var table = (ulong*)NativeMemory.Alloc((nuint)(sizeof(ulong) * Math.Max(classes.BinCount, 1)));
            for (int i = 0; i < classes.BinCount; i++) table[i] = classes.GetBin(i).Div.MultipleMagic;
            return table;
        }
    }

    // One capacity per cached class, the classes up to threadCacheMax, and 0 for the slab classes
    // above it: every slab class has a bin, so Free's inlined push needs no test of the class (a
    // bin of capacity 0 refuses it, and the slow path returns the region to its slab).
    private int[] CacheCapacities(long threadCacheMax, out int cached)
    {
        cached = CachedClassCount(threadCacheMax);
        var capacities = new int[Math.Max(cached, _binCount)];
        for (int i = 0; i < cached; i++)
        {
            // Small: twice a slab's regions (jemalloc's default) or 256 KiB of regions, whichever is
            // more, between 20 and 200. jemalloc's 20 for classes with few regions per slab made a
            // random mix of sizes fill and flush every hundred or so frees of such a class. Large: up
            // to 20, fewer for big classes so that a class holds about 1 MiB at most.
            capacities[i] = i < _binCount
                ? Math.Clamp(Math.Max(2 * _classes.GetBin(i).RegionsPerSlab, SmallCacheBytesPerClass / (int)_classes.GetBin(i).RegionSize), 20, 200)
                : (int)Math.Clamp(LargeCacheBytesPerClass / (long)_classes.IndexToSize(i), 1, LargeCacheCapacity);
        }

        return capacities;
    }

    // How many classes, from the smallest, the thread cache holds for a ThreadCacheMax.
    private int CachedClassCount(long threadCacheMax) =>
        threadCacheMax < 8 ? 0 : Math.Min(_classes.SizeToIndex((ulong)threadCacheMax) + 1, _classes.Count);

    // A key for the thread caches (construction, reset, dispose), and FreeSized's copy. Keys count up
    // from 1 and a handle without a cache holds the maximum, so the complement is no cache's key.
    private void NewKey()
    {
        _key = NextKey();
        _sizedPushKey = TPolicy.IsRuntimeConfigured && Profiled ? ~_key : _key;
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
            GuardMappingShare = TPolicy.GuardMappingShare,
            ThreadCache = TPolicy.ThreadCache,
            DebugChecks = TPolicy.DebugChecks,
            ProfileSampleBytes = TPolicy.ProfileSampleBytes,
            // The declaration's switch, or the options' on an arena whose declaration profiles.
            LeakReport = TPolicy.LeakReport || options.LeakReport,
            HugePages = TPolicy.HugePages,
            HugifyDelayMs = TPolicy.HugifyDelayMs,
            HugificationThreshold = TPolicy.HugificationThreshold,
            HugePageDirtyMult = TPolicy.HugePageDirtyMult,
            HugePageMinPurgeIntervalMs = TPolicy.HugePageMinPurgeIntervalMs,
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
}

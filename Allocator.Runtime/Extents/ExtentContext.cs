using System;
using System.ComponentModel;
using System.Threading;
using Allocator.Guards;
using Allocator.Hooks;
using Allocator.Map;
using Allocator.Metadata;
using Allocator.Os;
using Allocator.Sizing;
using Allocator.Threading;

namespace Allocator.Extents;

/// <summary>
/// Everything the extent operations work on for one page allocator shard: the hooks, the address
/// map, the metadata, the three ecaches (dirty, muzzy, retained), retained growth and counters.
/// The page allocator owns one; <see cref="ExtentOps{TPolicy}"/> is its behaviour.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed unsafe class ExtentContext
{
    private long _nextSerial;
    private long _dirtyDecayMs, _muzzyDecayMs, _oversizeThreshold;

    /// <summary>Creates the context of one shard.</summary>
    public ExtentContext(uint arenaIndex, IExtentHooks hooks, ExtentMap map, Base metadata, SizeClasses pageClasses,
        bool retain, int lgExtentMaxActiveFit = 6, long oversizeThreshold = 8 << 20, long dirtyDecayMs = 10_000, long muzzyDecayMs = 0)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(pageClasses);
        if ((nuint)pageClasses.PageSize != Pages.PageSize)
            throw new ArgumentException($"The size classes were computed for {pageClasses.PageSize}-byte pages but the OS page is {Pages.PageSize} bytes.", nameof(pageClasses));
        if (lgExtentMaxActiveFit is < 0 or > 64)
            throw new ArgumentOutOfRangeException(nameof(lgExtentMaxActiveFit), lgExtentMaxActiveFit, "Must be between 0 and 64.");
        ArenaIndex = arenaIndex;
        Hooks = hooks;
        HooksAreDefault = hooks is DefaultExtentHooks;
        Map = map;
        Base = metadata;
        PageClasses = pageClasses;
        Page = Pages.PageSize;
        Retain = retain;
        LgExtentMaxActiveFit = lgExtentMaxActiveFit;
        OversizeThreshold = oversizeThreshold;
        DirtyDecayMs = dirtyDecayMs;
        MuzzyDecayMs = muzzyDecayMs;
        EdataCache = new EdataCache(metadata);
        Dirty = new Ecache(metadata, pageClasses, ExtentState.Dirty, delayCoalesce: true);
        Muzzy = new Ecache(metadata, pageClasses, ExtentState.Muzzy, delayCoalesce: false);
        Retained = new Ecache(metadata, pageClasses, ExtentState.Retained, delayCoalesce: false);
        Grow = new ExpGrow(pageClasses);
    }

    /// <summary>The arena index stamped on every extent of this shard.</summary>
    public uint ArenaIndex { get; }

    /// <summary>Where address space comes from.</summary>
    public IExtentHooks Hooks { get; }

    /// <summary>True for the built-in OS hooks (only they support guard pages).</summary>
    public bool HooksAreDefault { get; }

    /// <summary>The address map the extents are registered in.</summary>
    public ExtentMap Map { get; }

    /// <summary>Metadata memory.</summary>
    public Base Base { get; }

    /// <summary>Recycled edata structs.</summary>
    internal EdataCache EdataCache { get; }

    /// <summary>Page-size classes (bins of the esets, steps of growth).</summary>
    public SizeClasses PageClasses { get; }

    /// <summary>The page size.</summary>
    public nuint Page { get; }

    /// <summary>Address space is kept (retained) instead of unmapped.</summary>
    public bool Retain { get; }

    /// <summary>A dirty extent is not split for a request 2^this times smaller.</summary>
    public int LgExtentMaxActiveFit { get; }

    /// <summary>Freed dirty extents at least this large are purged at once unless a decay time is -1.</summary>
    public long OversizeThreshold { get => Volatile.Read(ref _oversizeThreshold); set => Volatile.Write(ref _oversizeThreshold, value); }

    /// <summary>Dirty decay time in milliseconds, as the decay layer last set it.</summary>
    public long DirtyDecayMs { get => Volatile.Read(ref _dirtyDecayMs); set => Volatile.Write(ref _dirtyDecayMs, value); }

    /// <summary>Muzzy decay time in milliseconds, as the decay layer last set it.</summary>
    public long MuzzyDecayMs { get => Volatile.Read(ref _muzzyDecayMs); set => Volatile.Write(ref _muzzyDecayMs, value); }

    /// <summary>Freed pages, still committed.</summary>
    public Ecache Dirty { get; }

    /// <summary>Lazily purged pages.</summary>
    public Ecache Muzzy { get; }

    /// <summary>Purged or decommitted address space, kept for reuse.</summary>
    public Ecache Retained { get; }

    /// <summary>Taken across retained recycle and grow; ranks above the ecache locks (taken first).</summary>
    internal RankedLock GrowLock { get; } = new(LockRank.Grow);

    /// <summary>Growth of retained address space.</summary>
    internal ExpGrow Grow { get; }

    /// <summary>Counters.</summary>
    public ExtentStats Stats { get; } = new();

    /// <summary>What this shard's guard pages may cost in mappings; the page allocator sets it from its options.</summary>
    internal GuardBudget GuardBudget { get; set; } = new(GuardMappingAccount.Process, GuardBudget.DefaultShare);

    /// <summary>Whether an oversize extent may be purged at once (no decay time says "never").</summary>
    public bool MayForceDecay => DirtyDecayMs != -1 && MuzzyDecayMs != -1;

    /// <summary>The next extent serial number.</summary>
    public ulong NextSerialNumber() => (ulong)Interlocked.Increment(ref _nextSerial) - 1;
}

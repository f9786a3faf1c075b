using System;
using Allocator.Extents;

namespace Allocator;

/// <summary>
/// The compile-time configuration of an arena. The source generator emits one implementing struct
/// per <c>[Arena]</c> declaration with every member returning a literal, so the JIT compiles a copy
/// of <c>Arena&lt;TPolicy&gt;</c> with the unused paths (guards, retain, decay) removed.
/// </summary>
/// <remarks>
/// Arenas configured at run time use a policy whose <see cref="IsRuntimeConfigured"/> is true;
/// the core then reads every knob from the arena instance instead of from the policy.
/// </remarks>
public interface IArenaPolicy
{
    /// <summary>True when the knobs below are placeholders and the arena instance holds the real values.</summary>
    static abstract bool IsRuntimeConfigured { get; }

    /// <summary>Keep unused address space mapped (retained) instead of unmapping it; jemalloc's <c>opt_retain</c>.</summary>
    static abstract bool Retain { get; }

    /// <summary>Milliseconds for dirty pages to decay to muzzy; -1 never, 0 at once.</summary>
    static abstract long DirtyDecayMs { get; }

    /// <summary>Milliseconds for muzzy pages to decay to retained; -1 never, 0 at once.</summary>
    static abstract long MuzzyDecayMs { get; }

    /// <summary>Freed extents at least this large are purged at once (unless a decay time is -1).</summary>
    static abstract long OversizeThreshold { get; }

    /// <summary>A dirty extent is never split for a request more than 2^this times smaller.</summary>
    static abstract int LgExtentMaxActiveFit { get; }

    /// <summary>Log2 of the smallest size-class spacing.</summary>
    static abstract int LgQuantum { get; }

    /// <summary>Log2 of the page size the size classes were computed for.</summary>
    static abstract int LgPage { get; }

    /// <summary>Log2 of the number of size classes per doubling.</summary>
    static abstract int LgGroup { get; }

    /// <summary>Log2 of the smallest (tiny) size class.</summary>
    static abstract int LgTinyMin { get; }

    /// <summary>Guard every N-th slab extent with guard pages (1 = all, 0 = none).</summary>
    static abstract int GuardSmallEvery { get; }

    /// <summary>Guard every N-th large extent with guard pages (1 = all, 0 = none).</summary>
    static abstract int GuardLargeEvery { get; }

    /// <summary>Whether each thread keeps a cache of recently freed regions.</summary>
    static abstract bool ThreadCache { get; }

    /// <summary>Check every free against the slab bitmap at once (double frees are caught immediately).</summary>
    static abstract bool DebugChecks { get; }

    /// <summary>
    /// The size-to-class lookup table for sizes up to the lookup limit, one entry per 2^<see cref="LgTinyMin"/>
    /// bytes (jemalloc's sz_size2index_tab). Generated policies return data baked into the assembly;
    /// a runtime-configured policy returns an empty span (the arena keeps its own copy).
    /// </summary>
    static abstract ReadOnlySpan<byte> SizeToIndexLookup { get; }

    /// <summary>Creates the hooks that back this arena, or returns null for the default OS hooks.</summary>
    static abstract IExtentHooks? CreateHooks();
}

using System.ComponentModel;
using Allocator.Hooks;
using Allocator.PageAllocators;

namespace Allocator.Extents;

/// <summary>
/// The part of an arena's compile-time policy the extent layer reads. <see cref="ExtentOps{TPolicy}"/>,
/// <see cref="ClassicPageAllocator{TPolicy}"/> and <see cref="PageAllocator{TPolicy}"/> are compiled by
/// the JIT once per implementing struct, so with literal members the branches a policy turns off
/// (guarded sets, retained growth, the dalloc hook with retain) are not in its copy of the code.
/// </summary>
/// <remarks>
/// The shard's <see cref="ExtentContext"/> always holds the same values; a policy whose
/// <see cref="IsRuntimeConfigured"/> is true is read through the context instead.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public interface IExtentPolicy
{
    /// <summary>True when the knobs below are placeholders and the shard's context holds the real values.</summary>
    static abstract bool IsRuntimeConfigured { get; }

    /// <summary>Keep unused address space mapped (retained) instead of unmapping it; jemalloc's <c>opt_retain</c>.</summary>
    static abstract bool Retain { get; }

    /// <summary>A dirty extent is never split for a request more than 2^this times smaller.</summary>
    static abstract int LgExtentMaxActiveFit { get; }

    /// <summary>Guard every N-th slab extent with guard pages (1 = all, 0 = none).</summary>
    static abstract int GuardSmallEvery { get; }

    /// <summary>Guard every N-th large extent with guard pages (1 = all, 0 = none).</summary>
    static abstract int GuardLargeEvery { get; }

    /// <summary>The extents come from the built-in OS hooks (no custom <see cref="IExtentHooks"/>).</summary>
    static abstract bool UsesDefaultHooks { get; }
}

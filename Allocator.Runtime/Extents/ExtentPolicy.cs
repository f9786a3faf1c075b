using System.Runtime.CompilerServices;
using Allocator.Metadata;
using Allocator.PageAllocators;

namespace Allocator.Extents;

/// <summary>
/// The extent layer's knobs as the JIT sees them: constants for a literal policy, reads of the
/// context for a runtime-configured one. Both always agree; <see cref="PageAllocator{TPolicy}"/> checks it.
/// </summary>
internal static unsafe class ExtentPolicy<TPolicy> where TPolicy : struct, IExtentPolicy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Retain(ExtentContext ctx) => TPolicy.IsRuntimeConfigured ? ctx.Retain : TPolicy.Retain;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LgExtentMaxActiveFit(ExtentContext ctx) =>
        TPolicy.IsRuntimeConfigured ? ctx.LgExtentMaxActiveFit : TPolicy.LgExtentMaxActiveFit;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HooksAreDefault(ExtentContext ctx) => TPolicy.IsRuntimeConfigured ? ctx.HooksAreDefault : TPolicy.UsesDefaultHooks;

    /// <summary>The dalloc hook is known to refuse (default hooks with retain): skip the call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool DallocWillFail(ExtentContext ctx) => HooksAreDefault(ctx) && Retain(ctx);

    /// <summary>
    /// Whether any extent of the shard can be guarded. A runtime-configured shard cannot know (tests
    /// guard extents by hand); a literal policy without sampled guards, or with custom hooks, never is.
    /// </summary>
    public static bool MayGuard
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => MayGuardSlabs || MayGuardLarge;
    }

    public static bool MayGuardSlabs
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TPolicy.IsRuntimeConfigured || (TPolicy.UsesDefaultHooks && TPolicy.GuardSmallEvery != 0);
    }

    public static bool MayGuardLarge
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TPolicy.IsRuntimeConfigured || (TPolicy.UsesDefaultHooks && TPolicy.GuardLargeEvery != 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsGuarded(Edata* e) => MayGuard && e->IsGuarded;
}

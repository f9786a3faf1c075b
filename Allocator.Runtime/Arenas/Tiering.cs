using System.Runtime.CompilerServices;

namespace Allocator;

/// <summary>
/// How the JIT compiles the arena's slow paths: the thread-cache miss, fill and flush, large
/// allocation and free, and the bin, extent, map and page-allocator operations behind them.
/// </summary>
/// <remarks>
/// Tiered compilation compiles a method at tier 0, then instrumented, then at tier 1 once it is
/// hot; tier-0 code calls even the smallest getter, so each of those is compiled three times too.
/// The slow paths run a few times per thousand calls, yet every program reaches them early and
/// often enough to be tiered up: of the 1,531 compilations in a process running a database job
/// through an arena, 1,085 were the allocator's. Compiled optimized at once, the slow paths inline
/// their helpers and are compiled a single time (734 of the allocator's remain).
/// The inlined hits and the out-of-line cache hits (a large block's pop and free) keep tiering,
/// so that profile-guided layout still shapes the code that runs on every call.
/// </remarks>
internal static class Tiering
{
    /// <summary>A slow path: compiled fully optimized on its first call, never re-compiled.</summary>
    public const MethodImplOptions OptimizeAtOnce = MethodImplOptions.AggressiveOptimization;

    /// <summary>A slow path kept out of its caller's code, compiled as <see cref="OptimizeAtOnce"/>.</summary>
    public const MethodImplOptions OptimizeAtOnceOutOfLine = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;
}

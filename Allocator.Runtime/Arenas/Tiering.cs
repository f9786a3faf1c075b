using System.Runtime.CompilerServices;

namespace Allocator;

/// <summary>
/// How the JIT compiles the arena's slow paths: the thread-cache miss, fill and flush, large
/// allocation and free, and the bin, extent, map and page-allocator operations behind them.
/// </summary>
/// <remarks>
/// Under tiered compilation a slow path, and every small getter its tier-0 code calls, is compiled
/// three times; compiled optimized at once it inlines its helpers and is compiled a single time. The
/// inlined hits and the out-of-line cache hits keep tiering, for their profile-guided layout.
/// docs/architecture.md ("Compiled once") lists the methods and why.
/// </remarks>
internal static class Tiering
{
    /// <summary>A slow path: compiled fully optimized on its first call, never re-compiled.</summary>
    public const MethodImplOptions OptimizeAtOnce = MethodImplOptions.AggressiveOptimization;

    /// <summary>A slow path kept out of its caller's code, compiled as <see cref="OptimizeAtOnce"/>.</summary>
    public const MethodImplOptions OptimizeAtOnceOutOfLine = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;
}

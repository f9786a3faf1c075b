using System;
using System.Linq;
using System.Reflection;
using Allocator.Extents;
using Allocator.Metadata;
using Allocator.PageAllocators;

namespace Allocator.Tests.Arenas;

/// <summary>
/// The slow paths are compiled once, fully optimized (<c>Tiering.OptimizeAtOnce</c>), and the
/// out-of-line cache hits keep tiering. The tests run a debug build, which the JIT never optimizes,
/// so they check what the runtime reads: the methods' implementation flags. What the flags save is
/// measured in a release build by the SQLite bench (methods compiled during the job).
/// </summary>
public sealed class TieringTests
{
    private const BindingFlags Members = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static TheoryData<Type, string> SlowPaths => new()
    {
        { typeof(Arena<RuntimeArenaPolicy>), "AllocateSlow" },
        { typeof(Arena<RuntimeArenaPolicy>), "FreeSmallSlow" },
        { typeof(Arena<RuntimeArenaPolicy>), "Fill" },
        { typeof(Arena<RuntimeArenaPolicy>), "FlushBin" },
        { typeof(Arena<RuntimeArenaPolicy>), "AllocateLarge" },
        { typeof(Arena<RuntimeArenaPolicy>), "FreeLarge" },
        { typeof(Arena<RuntimeArenaPolicy>), "Reallocate" },
        { typeof(Bin), "Fill" },
        { typeof(Bin), "Return" },
        { typeof(Eset), "Fit" },
        { typeof(ExtentOps<RuntimeArenaPolicy>), "Alloc" },
        { typeof(ExtentOps<RuntimeArenaPolicy>), "Dalloc" },
        { typeof(PageAllocator<RuntimeArenaPolicy>), "Alloc" },
        { typeof(PageAllocator<RuntimeArenaPolicy>), "Free" },
        { typeof(EdataCache), "Get" },
    };

    public static TheoryData<Type, string> CacheHits => new()
    {
        { typeof(Arena<RuntimeArenaPolicy>), "PopAboveLookup" },
        { typeof(Arena<RuntimeArenaPolicy>), "FreeOther" },
    };

    private static MethodInfo[] Named(Type type, string name)
    {
        MethodInfo[] methods = type.GetMethods(Members).Where(m => m.Name == name).ToArray();
        Assert.True(methods.Length > 0, $"{type.Name} has no method {name}");
        return methods;
    }

    [Theory]
    [MemberData(nameof(SlowPaths))]
    public void ASlowPathIsCompiledOnceFullyOptimized(Type type, string name)
    {
        foreach (MethodInfo method in Named(type, name))
            Assert.True(method.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization), $"{type.Name}.{method} keeps tiering");
    }

    [Theory]
    [MemberData(nameof(CacheHits))]
    public void AnOutOfLineCacheHitKeepsTieringAndStaysOutOfLine(Type type, string name)
    {
        foreach (MethodInfo method in Named(type, name))
        {
            Assert.False(method.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization), $"{type.Name}.{method} is compiled without profile-guided layout");
            Assert.True(method.MethodImplementationFlags.HasFlag(MethodImplAttributes.NoInlining), $"{type.Name}.{method} may be inlined");
        }
    }
}

using System;

namespace Allocator;

/// <summary>
/// Declares an arena: the source generator emits, inside the attributed partial class, a policy
/// struct whose members are the values below as literals, so the arena core is compiled once for
/// this configuration with the unused paths removed. Defaults are jemalloc 5.3's on x86-64 Linux.
/// </summary>
/// <remarks>
/// Combine with <see cref="SizeClassesAttribute"/>, <see cref="GuardsAttribute"/> and
/// <see cref="ExtentHooksAttribute"/> on the same class. The analyzers reject values out of range
/// at compile time (ALLOC1001 and up); the generator emits nothing for such a declaration.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if ALLOCATOR_EMBEDDED_ATTRIBUTES
internal
#else
public
#endif
sealed class ArenaAttribute : Attribute
{
    /// <summary>
    /// Keep unused address space mapped as retained instead of unmapping it (jemalloc's
    /// <c>opt_retain</c>). Default <see langword="true"/>.
    /// </summary>
    public bool Retain { get; set; } = ArenaDeclarationRules.DefaultRetain;

    /// <summary>
    /// Milliseconds over which dirty (freed, still resident) pages decay to muzzy; -1 never, 0 at
    /// once. Default 10 000.
    /// </summary>
    public long DirtyDecayMs { get; set; } = ArenaDeclarationRules.DefaultDirtyDecayMs;

    /// <summary>
    /// Milliseconds over which muzzy (lazily purged) pages decay to retained; -1 never, 0 at once.
    /// Default 0.
    /// </summary>
    public long MuzzyDecayMs { get; set; } = ArenaDeclarationRules.DefaultMuzzyDecayMs;

    /// <summary>
    /// Freed extents of at least this many bytes are purged at once instead of decaying (unless a
    /// decay time is -1). At least one page. Default 8 MiB.
    /// </summary>
    public long OversizeThreshold { get; set; } = ArenaDeclarationRules.DefaultOversizeThreshold;

    /// <summary>
    /// A cached dirty extent is never split for a request more than 2^this times smaller, which
    /// bounds fragmentation. 0 to 64. Default 6.
    /// </summary>
    public int LgExtentMaxActiveFit { get; set; } = ArenaDeclarationRules.DefaultLgExtentMaxActiveFit;

    /// <summary>Give each thread a cache of recently freed regions. Default <see langword="true"/>.</summary>
    public bool ThreadCache { get; set; } = ArenaDeclarationRules.DefaultThreadCache;

    /// <summary>
    /// Check every free against the slab bitmap at once, so double frees are caught immediately.
    /// Default <see langword="false"/>.
    /// </summary>
    public bool DebugChecks { get; set; } = ArenaDeclarationRules.DefaultDebugChecks;

    /// <summary>
    /// Heap profiling: the mean bytes allocated between samples; 0 (the default) is off, and the
    /// generated arena then has no sampling code at all. 524288 (2^19, jemalloc's default) costs
    /// little enough to leave on; 1 samples every block. At most 2^40.
    /// </summary>
    public long ProfileSampleBytes { get; set; } = ArenaDeclarationRules.DefaultProfileSampleBytes;

    /// <summary>
    /// Leak reports: every block is sampled, and disposing the arena with blocks still allocated
    /// reports them by allocation site (<see cref="Arena.LeaksFound"/>, else standard error). Each
    /// small block then takes a page, so this is a debugging switch; it implies
    /// <see cref="ProfileSampleBytes"/> = 1, and any other interval beside it is an error (ALLOC1016).
    /// Default <see langword="false"/>.
    /// </summary>
    public bool LeakReport { get; set; } = ArenaDeclarationRules.DefaultLeakReport;
}

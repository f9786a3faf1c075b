using System;

namespace Allocator;

/// <summary>
/// The size-class parameters of an <see cref="ArenaAttribute"/> declaration. Each class is
/// 2^lgBase + n·2^lgDelta, as in jemalloc; the generator bakes the resulting tables into the
/// assembly. Defaults are jemalloc 5.3's on x86-64 Linux (16-byte quantum, 4 KiB pages, four
/// classes per doubling, 8-byte smallest class).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if ALLOCATOR_EMBEDDED_ATTRIBUTES
internal
#else
public
#endif
sealed class SizeClassesAttribute : Attribute
{
    /// <summary>Log2 of the quantum, the smallest spacing between classes. Default 4 (16 bytes).</summary>
    public int LgQuantum { get; set; } = ArenaDeclarationRules.DefaultLgQuantum;

    /// <summary>Log2 of the page size the classes and slabs are computed for. Default 12 (4 KiB).</summary>
    public int LgPage { get; set; } = ArenaDeclarationRules.DefaultLgPage;

    /// <summary>Log2 of the number of classes per doubling. Default 2 (four classes).</summary>
    public int LgGroup { get; set; } = ArenaDeclarationRules.DefaultLgGroup;

    /// <summary>Log2 of the smallest (tiny) class, below the quantum. Default 3 (8 bytes).</summary>
    public int LgTinyMin { get; set; } = ArenaDeclarationRules.DefaultLgTinyMin;
}

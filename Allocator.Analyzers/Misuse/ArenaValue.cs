namespace Allocator.Analyzers.Misuse;

/// <summary>
/// One abstract value in <see cref="ArenaMisuseWalker"/>'s flow: an arena, a block from one, or
/// anything else a variable holds. Identity is reference identity: two variables that hold the
/// same <see cref="ArenaValue"/> are aliases.
/// </summary>
internal sealed class ArenaValue
{
    /// <summary>An arena object created in this method (<c>new</c> or <c>Arena.Create</c>).</summary>
    public bool IsCreatedArena { get; init; }

    /// <summary>An arena from <c>Arena.Create()</c> without options: the default size classes.</summary>
    public bool IsDefaultRuntimeArena { get; init; }

    /// <summary>The block this pointer points into, when it came from an arena allocation.</summary>
    public AllocationFacts? Allocation { get; init; }

    /// <summary>The pointer was computed from an allocated one (arithmetic): same memory, not the block's start.</summary>
    public bool IsDerived { get; init; }
}

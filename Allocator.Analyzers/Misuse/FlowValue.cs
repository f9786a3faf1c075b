using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>What an allocation told us about the block it returned.</summary>
internal sealed class AllocationFacts
{
    public AllocationFacts(FlowValue? arena, ITypeSymbol? arenaType, string arenaText, string method, IOperation? size, IOperation? alignment = null)
    {
        Alignment = alignment;
        Arena = arena;
        ArenaText = arenaText;
        ArenaType = arenaType;
        Method = method;
        Size = size;
    }

    /// <summary>The arena value the block came from, when the flow knows it.</summary>
    public FlowValue? Arena { get; }

    /// <summary>The static type of the receiver of the allocating call.</summary>
    public ITypeSymbol? ArenaType { get; }

    /// <summary>The receiver of the allocating call, as written.</summary>
    public string ArenaText { get; }

    /// <summary>The allocating method's name.</summary>
    public string Method { get; }

    /// <summary>The size argument, or null.</summary>
    public IOperation? Size { get; }

    /// <summary>The alignment argument of AllocateAligned, or null.</summary>
    public IOperation? Alignment { get; }
}

/// <summary>
/// One abstract value in a method's flow: a definition (an allocation, a cast, a parameter, a
/// merge of two values at a join). Identity is reference identity: two variables that hold the
/// same <see cref="FlowValue"/> are aliases.
/// </summary>
internal sealed class FlowValue
{
    /// <summary>The value was built from an address (a cast, Unsafe, an address lookup); the text says how.</summary>
    public string? AddressOrigin { get; init; }

    /// <summary>An <c>RtreeContents</c> written by an [AddressLookup] method; names that method.</summary>
    public string? LookupMethod { get; init; }

    /// <summary>An <c>Edata*</c> the flow received as one (not rebuilt from an address).</summary>
    public bool IsExtentHandle { get; init; }

    /// <summary>An arena object created in this method (<c>new</c> or <c>Arena.Create</c>).</summary>
    public bool IsCreatedArena { get; init; }

    /// <summary>An arena from <c>Arena.Create()</c> without options: the default size classes.</summary>
    public bool IsDefaultRuntimeArena { get; init; }

    /// <summary>The block this pointer points into, when it came from an arena allocation.</summary>
    public AllocationFacts? Allocation { get; init; }

    /// <summary>The pointer was computed from an allocated one (arithmetic): same memory, not the block's start.</summary>
    public bool IsDerived { get; init; }
}

using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>What an allocation told us about the block it returned.</summary>
internal sealed class AllocationFacts
{
    public AllocationFacts(ArenaValue? arena, ITypeSymbol? arenaType, string arenaText, string method, IOperation? size, IOperation? alignment = null)
    {
        Alignment = alignment;
        Arena = arena;
        ArenaText = arenaText;
        ArenaType = arenaType;
        Method = method;
        Size = size;
    }

    /// <summary>The arena value the block came from, when the flow knows it.</summary>
    public ArenaValue? Arena { get; }

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

using System.Collections.Generic;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace Allocator.Analyzers.Flow;

/// <summary>
/// Where the walker enters a block: the block and, when it heads a loop, the loop's extent and
/// the states its back edges carried.
/// </summary>
/// <remarks>
/// A back edge is a branch from a block that is not before the block it enters: blocks are
/// ordered as the source is, so a branch back to an earlier (or the same) block closes a loop.
/// </remarks>
internal readonly struct BlockEntry<TState>
    where TState : class
{
    public BlockEntry(BasicBlock block, int latch, IReadOnlyList<TState> backEdges)
    {
        Block = block;
        Latch = latch;
        BackEdges = backEdges;
    }

    /// <summary>The block entered.</summary>
    public BasicBlock Block { get; }

    /// <summary>
    /// The ordinal of the last block of the loop this block heads (the furthest source of a back
    /// edge), or -1 when no back edge enters it.
    /// </summary>
    public int Latch { get; }

    /// <summary>True when a back edge enters the block.</summary>
    public bool IsLoopHead => Latch >= 0;

    /// <summary>The states at the end of the back edges walked so far, in predecessor order.</summary>
    public IReadOnlyList<TState> BackEdges { get; }
}

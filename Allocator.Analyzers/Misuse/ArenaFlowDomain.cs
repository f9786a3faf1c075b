using System.Collections.Generic;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The lattice of <see cref="ArenaFlowState"/>: at a join a variable keeps its value only when
/// both paths agree, and each event set keeps the values both paths recorded (intersection). At a
/// loop head it also records the blocks the previous iteration freed (ALLOC2005 in a loop).
/// </summary>
internal sealed class ArenaFlowDomain : FlowDomain<ArenaFlowState>
{
    public static ArenaFlowDomain Instance { get; } = new();

    public override ArenaFlowState Unknown() => new();

    public override ArenaFlowState Clone(ArenaFlowState state) => state.Clone();

    public override bool Equal(ArenaFlowState a, ArenaFlowState b) => a.SameAs(b);

    public override ArenaFlowState Join(BasicBlock block, ArenaFlowState a, ArenaFlowState b)
    {
        var result = new ArenaFlowState(Variables<ArenaValue>.Join(block, a.Variables, b.Variables, merge: null));
        Intersect(a.Freed, b.Freed, result.Freed);
        Intersect(a.Invalidated, b.Invalidated, result.Invalidated);
        Intersect(a.Disposed, b.Disposed, result.Disposed);
        foreach (var pair in a.FreedLastIteration)
        {
            if (b.FreedLastIteration.ContainsKey(pair.Key)) result.FreedLastIteration[pair.Key] = pair.Value;
        }

        return result;
    }

    /// <summary>
    /// At a loop head: a block freed at the end of every iteration (every back edge), bound to
    /// the same variable on every edge (not reassigned in the loop), is freed again by the next
    /// iteration. Remembered for the blocks of the loop only (head to latch).
    /// </summary>
    public override void Enter(BlockEntry<ArenaFlowState> entry, ArenaFlowState joined)
    {
        var ordinal = entry.Block.Ordinal;

        // Facts carried from an enclosing loop stay valid only inside it.
        var stale = new List<ArenaValue>();
        foreach (var pair in joined.FreedLastIteration)
        {
            if (ordinal < pair.Value.Head || ordinal > pair.Value.Latch) stale.Add(pair.Key);
        }

        foreach (var value in stale) joined.FreedLastIteration.Remove(value);

        if (!entry.IsLoopHead) return;
        foreach (var pair in joined.Variables)
        {
            var value = pair.Value;
            if (joined.Freed.ContainsKey(value) || joined.FreedLastIteration.ContainsKey(value)) continue;
            IOperation? freedAt = null;
            var everyEdge = true;
            foreach (var incoming in entry.BackEdges)
            {
                if (incoming.Freed.TryGetValue(value, out var at)) freedAt = at;
                else everyEdge = false;
            }

            if (everyEdge && freedAt is not null) joined.FreedLastIteration[value] = (freedAt, ordinal, entry.Latch);
        }
    }

    private static void Intersect(Dictionary<ArenaValue, IOperation> a, Dictionary<ArenaValue, IOperation> b, Dictionary<ArenaValue, IOperation> into)
    {
        foreach (var pair in a)
        {
            if (b.ContainsKey(pair.Key)) into[pair.Key] = pair.Value;
        }
    }
}

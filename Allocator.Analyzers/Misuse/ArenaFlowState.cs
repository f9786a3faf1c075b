using System.Collections.Generic;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The facts <see cref="ArenaMisuseWalker"/> holds at one point of a method. All are "must" facts:
/// a variable maps to a value only when every path agrees, and an event (freed, invalidated,
/// disposed) is recorded only when it happened on every path, so a report never rests on one
/// branch alone. The lattice is <see cref="ArenaFlowDomain"/>.
/// </summary>
internal sealed class ArenaFlowState : IVariableState<ArenaValue>
{
    public ArenaFlowState()
        : this(new Variables<ArenaValue>())
    {
    }

    public ArenaFlowState(Variables<ArenaValue> variables) => Variables = variables;

    public Variables<ArenaValue> Variables { get; }

    /// <summary>Blocks freed on every path, with the call that freed them.</summary>
    public Dictionary<ArenaValue, IOperation> Freed { get; } = new();

    /// <summary>
    /// Inside a loop (blocks Head..Latch): blocks freed by every previous iteration and not
    /// reassigned in the loop, with the call that freed them.
    /// </summary>
    public Dictionary<ArenaValue, (IOperation At, int Head, int Latch)> FreedLastIteration { get; } = new();

    /// <summary>Blocks whose arena was reset or disposed on every path since they were allocated.</summary>
    public Dictionary<ArenaValue, IOperation> Invalidated { get; } = new();

    /// <summary>Arenas disposed on every path.</summary>
    public Dictionary<ArenaValue, IOperation> Disposed { get; } = new();

    public ArenaFlowState Clone()
    {
        var copy = new ArenaFlowState(Variables.Clone());
        foreach (var pair in Freed) copy.Freed[pair.Key] = pair.Value;
        foreach (var pair in FreedLastIteration) copy.FreedLastIteration[pair.Key] = pair.Value;
        foreach (var pair in Invalidated) copy.Invalidated[pair.Key] = pair.Value;
        foreach (var pair in Disposed) copy.Disposed[pair.Key] = pair.Value;
        return copy;
    }

    /// <summary>Forgets every event of <paramref name="value"/>: it now stands for a new object.</summary>
    public void Forget(ArenaValue value)
    {
        Freed.Remove(value);
        FreedLastIteration.Remove(value);
        Invalidated.Remove(value);
        Disposed.Remove(value);
    }

    public bool SameAs(ArenaFlowState other) =>
        Variables.SameAs(other.Variables) && SameKeys(Freed, other.Freed) && SameKeys(FreedLastIteration, other.FreedLastIteration) &&
        SameKeys(Invalidated, other.Invalidated) && SameKeys(Disposed, other.Disposed);

    private static bool SameKeys<TValue>(Dictionary<ArenaValue, TValue> a, Dictionary<ArenaValue, TValue> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var key in a.Keys)
        {
            if (!b.ContainsKey(key)) return false;
        }

        return true;
    }
}

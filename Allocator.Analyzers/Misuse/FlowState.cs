using System.Collections.Generic;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The facts at one point of a method's control-flow graph. Variables map to values only when
/// every path agrees (a "must" alias); the event sets (freed, invalidated, disposed) hold a value
/// only when the event happened on every path, so a report never rests on one branch alone.
/// Address provenance is the exception: it is a "may" fact (see <see cref="FlowWalker"/>).
/// </summary>
internal sealed class FlowState
{
    /// <summary>Locals, parameters and flow captures (keyed by symbol or CaptureId) to their value.</summary>
    public Dictionary<object, FlowValue> Variables { get; } = new();

    /// <summary>Blocks freed on every path, with the call that freed them.</summary>
    public Dictionary<FlowValue, Microsoft.CodeAnalysis.IOperation> Freed { get; } = new();

    /// <summary>
    /// Inside a loop (blocks Head..Latch): blocks freed by every previous iteration and not
    /// reassigned in the loop, with the call that freed them.
    /// </summary>
    public Dictionary<FlowValue, (Microsoft.CodeAnalysis.IOperation At, int Head, int Latch)> FreedLastIteration { get; } = new();

    /// <summary>Blocks whose arena was reset or disposed on every path since they were allocated.</summary>
    public Dictionary<FlowValue, Microsoft.CodeAnalysis.IOperation> Invalidated { get; } = new();

    /// <summary>Arenas disposed on every path.</summary>
    public Dictionary<FlowValue, Microsoft.CodeAnalysis.IOperation> Disposed { get; } = new();

    public FlowState Clone()
    {
        var copy = new FlowState();
        foreach (var pair in Variables) copy.Variables[pair.Key] = pair.Value;
        foreach (var pair in Freed) copy.Freed[pair.Key] = pair.Value;
        foreach (var pair in FreedLastIteration) copy.FreedLastIteration[pair.Key] = pair.Value;
        foreach (var pair in Invalidated) copy.Invalidated[pair.Key] = pair.Value;
        foreach (var pair in Disposed) copy.Disposed[pair.Key] = pair.Value;
        return copy;
    }

    public bool SameAs(FlowState other) =>
        SameMap(Variables, other.Variables) && SameKeys(Freed, other.Freed) && SameKeys(FreedLastIteration, other.FreedLastIteration) &&
        SameKeys(Invalidated, other.Invalidated) && SameKeys(Disposed, other.Disposed);

    private static bool SameMap(Dictionary<object, FlowValue> a, Dictionary<object, FlowValue> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var pair in a)
        {
            if (!b.TryGetValue(pair.Key, out var other) || !ReferenceEquals(other, pair.Value)) return false;
        }

        return true;
    }

    private static bool SameKeys<TValue>(Dictionary<FlowValue, TValue> a, Dictionary<FlowValue, TValue> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var key in a.Keys)
        {
            if (!b.ContainsKey(key)) return false;
        }

        return true;
    }
}

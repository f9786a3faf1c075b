using Microsoft.CodeAnalysis.FlowAnalysis;

namespace Allocator.Analyzers.Flow;

/// <summary>
/// The lattice one rule's analysis runs in: how the states of two paths combine where they meet,
/// and when two states are the same, so the walker knows it has reached a fixed point.
/// </summary>
/// <remarks>
/// The walker adds the bottom element itself: a block it has not walked yet has no state, and a
/// join with it is the other state unchanged. <see cref="Join"/> therefore only ever sees states
/// that some path reached, and a rule's state needs no "unreachable" flag.
/// </remarks>
/// <typeparam name="TState">The facts at one point of the graph; mutable, owned by one block at a time.</typeparam>
internal abstract class FlowDomain<TState>
    where TState : class
{
    /// <summary>A new state in which nothing is known: where an exception handler starts.</summary>
    public abstract TState Unknown();

    /// <summary>A copy of <paramref name="state"/> that can be changed without changing it.</summary>
    public abstract TState Clone(TState state);

    /// <summary>
    /// The least upper bound of <paramref name="a"/> and <paramref name="b"/>, two paths meeting
    /// at <paramref name="block"/>: a new state, neither input changed. The same inputs must give
    /// <see cref="Equal"/> states on every pass (an object it creates is created once and reused),
    /// or the walk never settles. Predecessors are joined in a fixed order, first to last.
    /// </summary>
    public abstract TState Join(BasicBlock block, TState a, TState b);

    /// <summary>True when the two states hold the same facts.</summary>
    public abstract bool Equal(TState a, TState b);

    /// <summary>
    /// Called with the joined state when the walker enters a block that a walked path reaches; a
    /// rule whose facts depend on the loop structure adjusts <paramref name="joined"/> here.
    /// </summary>
    public virtual void Enter(BlockEntry<TState> entry, TState joined)
    {
    }
}

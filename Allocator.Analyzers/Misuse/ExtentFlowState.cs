using Allocator.Analyzers.Flow;

namespace Allocator.Analyzers.Misuse;

/// <summary>What the variables hold at one point, for ALLOC2001; the lattice is <see cref="ExtentFlowDomain"/>.</summary>
internal sealed class ExtentFlowState : IVariableState<ExtentValue>
{
    public ExtentFlowState(Variables<ExtentValue> variables) => Variables = variables;

    public Variables<ExtentValue> Variables { get; }
}

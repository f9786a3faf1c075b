using System.Collections.Generic;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Tests.Flow;

/// <summary>A toy value: an object the program created, or anything else a variable holds.</summary>
internal sealed class ToyValue
{
}

/// <summary>A toy state: what the variables hold, nothing else.</summary>
internal sealed class ToyState : IVariableState<ToyValue>
{
    public ToyState(Variables<ToyValue> variables) => Variables = variables;

    public Variables<ToyValue> Variables { get; }
}

/// <summary>The "must alias" lattice: a variable keeps its value where every path agrees on it.</summary>
internal sealed class ToyDomain : FlowDomain<ToyState>
{
    public override ToyState Unknown() => new(new Variables<ToyValue>());

    public override ToyState Clone(ToyState state) => new(state.Variables.Clone());

    public override ToyState Join(BasicBlock block, ToyState a, ToyState b) => new(Variables<ToyValue>.Join(block, a.Variables, b.Variables, merge: null));

    public override bool Equal(ToyState a, ToyState b) => a.Variables.SameAs(b.Variables);
}

/// <summary>
/// A toy rule over <see cref="OperationWalker{TValue, TState}"/>: <c>new object()</c> and
/// <c>Make(out x)</c> create values, and <c>Same(a, b)</c> records, in the report pass, whether
/// its two arguments certainly hold the same object.
/// </summary>
internal sealed class AliasWalker : OperationWalker<ToyValue, ToyState>
{
    private AliasWalker(HashSet<ISymbol> untracked)
        : base(new ToyDomain(), untracked)
    {
    }

    /// <summary>One entry per Same call reached in the report pass, in block order.</summary>
    public List<bool> Answers { get; } = new();

    public static List<bool> Run(string body)
    {
        var graph = Snippet.Graph(body);
        var walker = new AliasWalker(UntrackedVariables.Find(graph.OriginalOperation));
        walker.Run(graph, default);
        return walker.Answers;
    }

    protected override ToyValue? OnObjectCreation(IObjectCreationOperation creation, ToyValue?[] arguments) =>
        Fresh(creation, static () => new ToyValue());

    protected override ToyValue? OnOutArgument(IArgumentOperation argument, IMethodSymbol method) =>
        method.Name == "Make" ? Definition(argument, static () => new ToyValue()) : null;

    protected override ToyValue? OnInvocation(IInvocationOperation invocation, ToyValue? instance, ToyValue?[] arguments)
    {
        if (Reporting && invocation.TargetMethod.Name == "Same") Answers.Add(arguments[0] is not null && ReferenceEquals(arguments[0], arguments[1]));
        return null;
    }
}

using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Flow;

/// <summary>
/// A forward data-flow pass over one control-flow graph (a method body, a lambda or a local
/// function): it walks the blocks in order, again and again, joining the states of each block's
/// predecessors in <see cref="Domain"/> and calling <see cref="Transfer"/>, until no block's
/// state changes; then it walks once more with <see cref="Reporting"/> set, so a rule reports from
/// stable states only.
/// </summary>
/// <remarks>
/// A predecessor not walked yet contributes nothing (the lattice's bottom), so the first pass over
/// a loop assumes the back edge changes nothing and later passes correct that. A block that no
/// walked path reaches (an exception handler) starts from <see cref="FlowDomain{TState}.Unknown"/>.
/// A lambda's or local function's body is its own graph, walked after the graph that holds it.
/// </remarks>
internal abstract class FlowWalker<TState>
    where TState : class
{
    /// <summary>Passes after which a graph that has not settled is given up, reporting nothing.</summary>
    public const int MaxPasses = 32;

    protected FlowWalker(FlowDomain<TState> domain) => Domain = domain;

    /// <summary>The lattice the states live in.</summary>
    protected FlowDomain<TState> Domain { get; }

    /// <summary>True during the final pass, when rules report.</summary>
    protected bool Reporting { get; private set; }

    /// <summary>Walks <paramref name="graph"/>, then the graphs of its lambdas and local functions.</summary>
    public void Run(ControlFlowGraph graph, CancellationToken cancellationToken)
    {
        RunOne(graph, cancellationToken);
        foreach (var function in graph.LocalFunctions)
        {
            Run(graph.GetLocalFunctionControlFlowGraph(function, cancellationToken), cancellationToken);
        }

        foreach (var block in graph.Blocks)
        {
            foreach (var operation in block.Operations)
            {
                RunLambdas(graph, operation, cancellationToken);
            }

            if (block.BranchValue is { } branch) RunLambdas(graph, branch, cancellationToken);
        }
    }

    /// <summary>Called before the walk of each graph, the outermost first.</summary>
    protected virtual void BeginGraph(ControlFlowGraph graph)
    {
    }

    /// <summary>The state at the start of <paramref name="graph"/>'s entry block.</summary>
    protected abstract TState Start(ControlFlowGraph graph);

    /// <summary>
    /// The state at the end of <paramref name="block"/>, given the state at its start. The
    /// transfer owns <paramref name="entry"/>: it may change it and return it.
    /// </summary>
    protected abstract TState Transfer(BasicBlock block, TState entry);

    private void RunLambdas(ControlFlowGraph graph, IOperation root, CancellationToken cancellationToken)
    {
        foreach (var operation in root.DescendantsAndSelf())
        {
            if (operation is IFlowAnonymousFunctionOperation lambda)
            {
                Run(graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), cancellationToken);
            }
        }
    }

    private void RunOne(ControlFlowGraph graph, CancellationToken cancellationToken)
    {
        BeginGraph(graph);
        var blocks = graph.Blocks;
        var outStates = new TState?[blocks.Length];
        var changed = true;
        for (var pass = 0; changed && pass < MaxPasses; pass++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            changed = false;
            foreach (var block in blocks)
            {
                if (!block.IsReachable) continue;
                var result = Transfer(block, Entry(graph, block, outStates));
                if (outStates[block.Ordinal] is not { } previous || !Domain.Equal(previous, result))
                {
                    outStates[block.Ordinal] = result;
                    changed = true;
                }
            }
        }

        // Before the fixed point, states can still hold facts a later pass would drop: a report
        // could be false, so a graph that does not settle reports nothing.
        if (changed) return;

        Reporting = true;
        try
        {
            foreach (var block in blocks)
            {
                if (block.IsReachable) Transfer(block, Entry(graph, block, outStates));
            }
        }
        finally
        {
            Reporting = false;
        }
    }

    private TState Entry(ControlFlowGraph graph, BasicBlock block, TState?[] outStates)
    {
        if (block.Kind == BasicBlockKind.Entry) return Start(graph);

        TState? joined = null;
        var latch = -1;
        List<TState>? backEdges = null;
        foreach (var branch in block.Predecessors)
        {
            var source = branch.Source.Ordinal;
            var backEdge = source >= block.Ordinal;
            if (backEdge) latch = System.Math.Max(latch, source);
            if (outStates[source] is not { } incoming) continue;
            if (backEdge) (backEdges ??= new List<TState>()).Add(incoming);
            joined = joined is null ? Domain.Clone(incoming) : Domain.Join(block, joined, incoming);
        }

        if (joined is null) return Domain.Unknown();
        Domain.Enter(new BlockEntry<TState>(block, latch, (IReadOnlyList<TState>?)backEdges ?? System.Array.Empty<TState>()), joined);
        return joined;
    }
}

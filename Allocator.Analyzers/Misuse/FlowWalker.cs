using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// A forward data-flow pass over one control-flow graph (a method body, a lambda or a local
/// function), run to a fixed point and then once more to report. Rules derive from it and give
/// meaning to invocations, conversions and field reads; the walker tracks locals, parameters and
/// flow captures through assignments, aliases, branches and loops.
/// </summary>
/// <remarks>
/// Variables written inside a lambda or local function, or whose address is taken, are never
/// tracked: the walker cannot know when those writes happen. A lambda's body is its own graph,
/// walked with nothing known about the variables it captures. Exception handlers start with
/// nothing known either, so a report never depends on where an exception was thrown.
/// </remarks>
internal abstract class FlowWalker
{
    private const int MaxPasses = 32;

    private readonly Dictionary<object, FlowValue> _definitions = new();
    private readonly Dictionary<(int Block, object Key, string Origin), FlowValue> _merges = new();
    private readonly HashSet<ISymbol> _untracked;
    private IMethodSymbol? _owner;

    protected FlowWalker(HashSet<ISymbol> untracked) => _untracked = untracked;

    /// <summary>True during the final pass, when rules report.</summary>
    protected bool Reporting { get; private set; }

    /// <summary>The state being updated by the operation now evaluated.</summary>
    protected FlowState State { get; private set; } = new();

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
        _owner = Owner(graph) is { } owner && owner.MethodKind is MethodKind.AnonymousFunction or MethodKind.LocalFunction ? owner : null;
        _merges.Clear();
        var blocks = graph.Blocks;
        var outStates = new FlowState?[blocks.Length];
        var changed = true;
        for (var pass = 0; changed && pass < MaxPasses; pass++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            changed = false;
            foreach (var block in blocks)
            {
                if (!block.IsReachable) continue;
                var result = Transfer(block, Entry(graph, block, outStates));
                if (outStates[block.Ordinal] is not { } previous || !previous.SameAs(result))
                {
                    outStates[block.Ordinal] = result;
                    changed = true;
                }
            }
        }

        // Before the fixed point, states can still hold facts a later pass would drop: a report
        // could be false, so a graph that does not settle reports nothing.
        if (changed) return;

        // The states are stable: report once.
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

    private FlowState Entry(ControlFlowGraph graph, BasicBlock block, FlowState?[] outStates)
    {
        if (block.Kind == BasicBlockKind.Entry)
        {
            var start = new FlowState();
            foreach (var parameter in Parameters(graph))
            {
                if (!_untracked.Contains(parameter)) start.Variables[parameter] = Definition(parameter, () => NewParameterValue(parameter));
            }

            return start;
        }

        FlowState? joined = null;
        foreach (var branch in block.Predecessors)
        {
            // A predecessor not yet walked contributes nothing (optimistic first pass of a loop).
            if (outStates[branch.Source.Ordinal] is not { } incoming) continue;
            joined = joined is null ? incoming.Clone() : Join(block.Ordinal, joined, incoming);
        }

        if (joined is null) return new FlowState();
        CarryLoopFrees(block, outStates, joined);
        return joined;
    }

    private static IEnumerable<IParameterSymbol> Parameters(ControlFlowGraph graph) =>
        Owner(graph) is { } method ? method.Parameters : System.Linq.Enumerable.Empty<IParameterSymbol>();

    private static IMethodSymbol? Owner(ControlFlowGraph graph)
    {
        ISymbol? owner = graph.OriginalOperation switch
        {
            IMethodBodyOperation body => body.SemanticModel?.GetDeclaredSymbol(body.Syntax),
            IConstructorBodyOperation body => body.SemanticModel?.GetDeclaredSymbol(body.Syntax),
            ILocalFunctionOperation function => function.Symbol,
            IAnonymousFunctionOperation lambda => lambda.Symbol,
            IFlowAnonymousFunctionOperation lambda => lambda.Symbol,
            _ => null,
        };
        return owner as IMethodSymbol;
    }

    private FlowState Join(int block, FlowState a, FlowState b)
    {
        var result = new FlowState();
        foreach (var pair in a.Variables)
        {
            if (!b.Variables.TryGetValue(pair.Key, out var other)) continue;
            if (ReferenceEquals(pair.Value, other))
            {
                result.Variables[pair.Key] = other;
                continue;
            }

            // Different definitions meet: the variable no longer names one block, but it may still
            // hold an address-built extent (or an address lookup's result) on one of the paths.
            var origin = pair.Value.AddressOrigin ?? other.AddressOrigin;
            var lookup = pair.Value.LookupMethod ?? other.LookupMethod;
            if (origin is null && lookup is null) continue;
            var key = (block, pair.Key, origin + "|" + lookup);
            if (!_merges.TryGetValue(key, out var merged))
            {
                merged = new FlowValue { AddressOrigin = origin, LookupMethod = lookup };
                _merges[key] = merged;
            }

            result.Variables[pair.Key] = merged;
        }

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
    /// iteration. Remembered for the blocks of the loop only (head to last back edge source).
    /// </summary>
    private static void CarryLoopFrees(BasicBlock head, FlowState?[] outStates, FlowState joined)
    {
        // Facts carried from an enclosing loop stay valid only inside it.
        var stale = new List<FlowValue>();
        foreach (var pair in joined.FreedLastIteration)
        {
            if (head.Ordinal < pair.Value.Head || head.Ordinal > pair.Value.Latch) stale.Add(pair.Key);
        }

        foreach (var value in stale) joined.FreedLastIteration.Remove(value);

        var latch = -1;
        foreach (var branch in head.Predecessors)
        {
            if (branch.Source.Ordinal >= head.Ordinal) latch = System.Math.Max(latch, branch.Source.Ordinal);
        }

        if (latch < 0) return;
        foreach (var pair in joined.Variables)
        {
            var value = pair.Value;
            if (joined.Freed.ContainsKey(value) || joined.FreedLastIteration.ContainsKey(value)) continue;
            IOperation? freedAt = null;
            var everyEdge = true;
            foreach (var branch in head.Predecessors)
            {
                if (outStates[branch.Source.Ordinal] is not { } incoming) continue;
                var backEdge = branch.Source.Ordinal >= head.Ordinal;
                if (backEdge && incoming.Freed.TryGetValue(value, out var at)) freedAt = at;
                else if (backEdge) everyEdge = false;
            }

            if (everyEdge && freedAt is not null) joined.FreedLastIteration[value] = (freedAt, head.Ordinal, latch);
        }
    }

    private static void Intersect(Dictionary<FlowValue, IOperation> a, Dictionary<FlowValue, IOperation> b, Dictionary<FlowValue, IOperation> into)
    {
        foreach (var pair in a)
        {
            if (b.ContainsKey(pair.Key)) into[pair.Key] = pair.Value;
        }
    }

    private FlowState Transfer(BasicBlock block, FlowState entry)
    {
        State = entry.Clone();
        foreach (var operation in block.Operations) Evaluate(operation);
        if (block.BranchValue is { } branch) Evaluate(branch);
        return State;
    }

    /// <summary>
    /// One value per definition (operation or symbol), created once, so repeated passes over a
    /// loop see the same value and the walk reaches a fixed point.
    /// </summary>
    protected FlowValue Definition(object site, System.Func<FlowValue> create)
    {
        if (!_definitions.TryGetValue(site, out var value))
        {
            value = create();
            _definitions[site] = value;
        }

        return value;
    }

    /// <summary>
    /// The value a definition site produces each time it runs: a new object for the program, so
    /// what happened to the previous one (freed, disposed) is forgotten.
    /// </summary>
    protected FlowValue Fresh(IOperation site, System.Func<FlowValue> create)
    {
        var value = Definition(site, create);
        State.Freed.Remove(value);
        State.FreedLastIteration.Remove(value);
        State.Invalidated.Remove(value);
        State.Disposed.Remove(value);
        return value;
    }

    protected bool IsTracked(ISymbol symbol) => !_untracked.Contains(symbol);

    /// <summary>Evaluates an operation in a read position and returns its value, if the flow knows one.</summary>
    protected FlowValue? Evaluate(IOperation? operation)
    {
        switch (operation)
        {
            case null:
                return null;
            case ILocalReferenceOperation local:
                return Read(local, local.Local);
            case IParameterReferenceOperation parameter:
                return Read(parameter, parameter.Parameter);
            case IFlowCaptureReferenceOperation capture:
                return State.Variables.TryGetValue(capture.Id, out var captured) ? captured : null;
            case IFlowCaptureOperation capture:
            {
                var value = Evaluate(capture.Value);
                if (value is null) State.Variables.Remove(capture.Id);
                else State.Variables[capture.Id] = value;
                return null;
            }

            case ISimpleAssignmentOperation assignment:
            {
                var value = Evaluate(assignment.Value);
                Assign(assignment.Target, value ?? Fresh(assignment, static () => new FlowValue()));
                return value;
            }

            case ICompoundAssignmentOperation compound:
            {
                var old = Evaluate(compound.Target);
                Evaluate(compound.Value);
                Assign(compound.Target, Fresh(compound, () => Arithmetic(old)));
                return null;
            }

            case IIncrementOrDecrementOperation step:
            {
                var old = Evaluate(step.Target);
                Assign(step.Target, Fresh(step, () => Arithmetic(old)));
                return null;
            }

            case IConversionOperation conversion:
                return OnConversion(conversion, Evaluate(conversion.Operand));
            case IInvocationOperation invocation:
            {
                var instance = Evaluate(invocation.Instance);
                var arguments = EvaluateArguments(invocation.Arguments);
                var result = OnInvocation(invocation, instance, arguments);
                WriteBack(invocation.Arguments, invocation.TargetMethod);
                return result;
            }

            case IObjectCreationOperation creation:
            {
                var arguments = EvaluateArguments(creation.Arguments);
                if (creation.Initializer is not null) Evaluate(creation.Initializer);
                var result = OnObjectCreation(creation, arguments);
                if (creation.Constructor is { } constructor) WriteBack(creation.Arguments, constructor);
                return result;
            }

            case IFieldReferenceOperation field:
                return OnFieldReference(field, Evaluate(field.Instance));
            case IPropertyReferenceOperation property:
            {
                var instance = Evaluate(property.Instance);
                EvaluateArguments(property.Arguments);
                return OnPropertyReference(property, instance);
            }

            case IBinaryOperation binary:
            {
                var left = Evaluate(binary.LeftOperand);
                var right = Evaluate(binary.RightOperand);
                return binary.Type is IPointerTypeSymbol ? Fresh(binary, () => Arithmetic(left ?? right)) : null;
            }

            case IAddressOfOperation addressOf:
                return OnAddressOf(addressOf, Evaluate(addressOf.Reference));
            case IParenthesizedOperation parenthesized:
                return Evaluate(parenthesized.Operand);
            case IFlowAnonymousFunctionOperation:
                return null;
            default:
                foreach (var child in operation.ChildOperations) Evaluate(child);
                return null;
        }
    }

    private FlowValue? Read(IOperation reference, ISymbol symbol)
    {
        if (!State.Variables.TryGetValue(symbol, out var value))
        {
            // A variable a lambda or local function captures (and never writes, or it would be
            // untracked): one unknown value for the whole body, so aliases and frees still line up.
            if (!IsTracked(symbol) || _owner is null || SymbolEqualityComparer.Default.Equals(symbol.ContainingSymbol, _owner)) return null;
            value = Definition((_owner, symbol), static () => new FlowValue());
            State.Variables[symbol] = value;
        }

        OnRead(reference, value);
        return value;
    }

    private FlowValue?[] EvaluateArguments(System.Collections.Immutable.ImmutableArray<IArgumentOperation> arguments)
    {
        var values = new FlowValue?[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            // An out argument is written, not read.
            if (arguments[i].Parameter?.RefKind == RefKind.Out) continue;
            values[i] = Evaluate(arguments[i].Value);
        }

        return values;
    }

    private void WriteBack(System.Collections.Immutable.ImmutableArray<IArgumentOperation> arguments, IMethodSymbol method)
    {
        foreach (var argument in arguments)
        {
            if (argument.Parameter is not { RefKind: RefKind.Out or RefKind.Ref }) continue;
            var written = OnOutArgument(argument, method) ?? Fresh(argument, static () => new FlowValue());
            Assign(argument.Value, written);
        }
    }

    private void Assign(IOperation target, FlowValue value)
    {
        if (target is IDeclarationExpressionOperation declaration) target = declaration.Expression;
        switch (target)
        {
            case ILocalReferenceOperation local:
                Set(local.Local, value);
                break;
            case IParameterReferenceOperation parameter:
                Set(parameter.Parameter, value);
                break;
            case IFlowCaptureReferenceOperation:
                break;
            default:
                // A field, an element or an indirection: evaluate what the target reads.
                foreach (var child in target.ChildOperations) Evaluate(child);
                break;
        }
    }

    private void Set(ISymbol symbol, FlowValue value)
    {
        if (IsTracked(symbol)) State.Variables[symbol] = value;
        else State.Variables.Remove(symbol);
    }

    private static FlowValue Arithmetic(FlowValue? from) => new()
    {
        Allocation = from?.Allocation,
        IsDerived = true,
    };

    protected virtual FlowValue NewParameterValue(IParameterSymbol parameter) => new();

    protected virtual FlowValue? OnConversion(IConversionOperation conversion, FlowValue? operand) => operand;

    protected virtual FlowValue? OnInvocation(IInvocationOperation invocation, FlowValue? instance, FlowValue?[] arguments) => null;

    protected virtual FlowValue? OnObjectCreation(IObjectCreationOperation creation, FlowValue?[] arguments) => null;

    protected virtual FlowValue? OnFieldReference(IFieldReferenceOperation field, FlowValue? instance) => null;

    protected virtual FlowValue? OnPropertyReference(IPropertyReferenceOperation property, FlowValue? instance) => null;

    protected virtual FlowValue? OnAddressOf(IAddressOfOperation addressOf, FlowValue? reference) => null;

    protected virtual FlowValue? OnOutArgument(IArgumentOperation argument, IMethodSymbol method) => null;

    protected virtual void OnRead(IOperation reference, FlowValue value)
    {
    }

    /// <summary>
    /// Variables the walker must not track in <paramref name="root"/>: written inside a lambda or
    /// local function, address taken, or ref locals.
    /// </summary>
    public static HashSet<ISymbol> Untracked(IOperation root)
    {
        var result = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var operation in root.DescendantsAndSelf())
        {
            ISymbol? symbol = operation switch
            {
                ILocalReferenceOperation local => local.Local,
                IParameterReferenceOperation parameter => parameter.Parameter,
                _ => null,
            };
            if (symbol is null) continue;
            if (symbol is ILocalSymbol { IsRef: true } || operation.Parent is IAddressOfOperation
                || (IsWrite(operation) && InsideFunction(operation, symbol)))
            {
                result.Add(symbol);
            }
        }

        return result;
    }

    /// <summary>True when <paramref name="reference"/> is written: assigned, stepped, or passed by ref or out.</summary>
    public static bool IsWrite(IOperation reference) => (reference.Parent is IDeclarationExpressionOperation declaration ? declaration : reference).Parent switch
    {
        IAssignmentOperation assignment => assignment.Target == reference,
        IIncrementOrDecrementOperation => true,
        IArgumentOperation argument => argument.Parameter?.RefKind is RefKind.Out or RefKind.Ref,
        _ => false,
    };

    // True when the reference sits in a lambda or local function that does not own the symbol.
    private static bool InsideFunction(IOperation reference, ISymbol symbol)
    {
        for (var parent = reference.Parent; parent is not null; parent = parent.Parent)
        {
            IMethodSymbol? function = parent switch
            {
                IAnonymousFunctionOperation lambda => lambda.Symbol,
                ILocalFunctionOperation local => local.Symbol,
                _ => null,
            };
            if (function is null) continue;
            return !SymbolEqualityComparer.Default.Equals(symbol.ContainingSymbol, function);
        }

        return false;
    }
}

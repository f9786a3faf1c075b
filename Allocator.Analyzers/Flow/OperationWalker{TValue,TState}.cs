using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Flow;

/// <summary>
/// The transfer over a block's operations: it tracks locals, parameters and flow captures through
/// assignments, aliases, out and ref arguments, and hands each invocation, conversion, creation,
/// field or property read to the rule, whose hooks give those operations meaning.
/// </summary>
/// <remarks>
/// A value is a <typeparamref name="TValue"/> object: one per definition site, created once, so
/// repeated passes over a loop see the same object and the walk settles. Variables written inside
/// a lambda or local function, or whose address is taken, are never tracked (see
/// <see cref="UntrackedVariables"/>). A lambda's body is walked with one unknown value per
/// variable it captures.
/// </remarks>
internal abstract class OperationWalker<TValue, TState> : FlowWalker<TState>
    where TValue : class, new()
    where TState : class, IVariableState<TValue>
{
    private readonly Dictionary<object, TValue> _definitions = new();
    private readonly HashSet<ISymbol> _untracked;
    private IMethodSymbol? _owner;
    private TState? _state;

    protected OperationWalker(FlowDomain<TState> domain, HashSet<ISymbol> untracked)
        : base(domain) => _untracked = untracked;

    /// <summary>The state being updated by the operation now evaluated.</summary>
    protected TState State => _state ?? throw new System.InvalidOperationException("No block is being walked.");

    /// <summary>
    /// One value per definition (operation, symbol or any key a rule builds), created once, so
    /// repeated passes over a loop see the same value and the walk reaches a fixed point.
    /// </summary>
    protected TValue Definition(object site, System.Func<TValue> create)
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
    /// what the rule knew of the previous one is forgotten (<see cref="OnRedefined"/>).
    /// </summary>
    protected TValue Fresh(IOperation site, System.Func<TValue> create)
    {
        var value = Definition(site, create);
        OnRedefined(value);
        return value;
    }

    protected bool IsTracked(ISymbol symbol) => !_untracked.Contains(symbol);

    protected sealed override void BeginGraph(ControlFlowGraph graph) =>
        _owner = Owner(graph) is { } owner && owner.MethodKind is MethodKind.AnonymousFunction or MethodKind.LocalFunction ? owner : null;

    protected sealed override TState Start(ControlFlowGraph graph)
    {
        var start = Domain.Unknown();
        if (Owner(graph) is { } method)
        {
            foreach (var parameter in method.Parameters)
            {
                if (IsTracked(parameter)) start.Variables.Set(parameter, Definition(parameter, () => OnParameter(parameter)));
            }
        }

        return start;
    }

    protected sealed override TState Transfer(BasicBlock block, TState entry)
    {
        _state = entry;
        try
        {
            foreach (var operation in block.Operations) Evaluate(operation);
            if (block.BranchValue is { } branch) Evaluate(branch);
            return entry;
        }
        finally
        {
            _state = null;
        }
    }

    /// <summary>Evaluates an operation in a read position and returns its value, if the flow knows one.</summary>
    protected TValue? Evaluate(IOperation? operation) => operation switch
    {
        null => null,
        ILocalReferenceOperation local => Read(local, local.Local),
        IParameterReferenceOperation parameter => Read(parameter, parameter.Parameter),
        IFlowCaptureReferenceOperation capture => State.Variables.TryGetValue(capture.Id, out var captured) ? captured : null,
        IFlowCaptureOperation capture => Capture(capture),
        ISimpleAssignmentOperation assignment => SimpleAssignment(assignment),
        ICompoundAssignmentOperation compound => Rewrite(compound, compound.Target, compound.Value),
        IIncrementOrDecrementOperation step => Rewrite(step, step.Target, null),
        IConversionOperation conversion => OnConversion(conversion, Evaluate(conversion.Operand)),
        IInvocationOperation invocation => Invocation(invocation),
        IObjectCreationOperation creation => ObjectCreation(creation),
        IFieldReferenceOperation field => OnFieldReference(field, Evaluate(field.Instance)),
        IPropertyReferenceOperation property => PropertyReference(property),
        IBinaryOperation binary => Binary(binary),
        IAddressOfOperation addressOf => OnAddressOf(addressOf, Evaluate(addressOf.Reference)),
        IParenthesizedOperation parenthesized => Evaluate(parenthesized.Operand),
        IFlowAnonymousFunctionOperation => null,
        _ => Children(operation),
    };

    /// <summary>The value a parameter holds when the method starts.</summary>
    protected virtual TValue OnParameter(IParameterSymbol parameter) => new();

    /// <summary>
    /// The value computed from <paramref name="operand"/> by arithmetic (a compound assignment,
    /// a step, pointer addition); created once per site.
    /// </summary>
    protected virtual TValue OnArithmetic(TValue? operand) => new();

    /// <summary>A definition site ran again: <paramref name="value"/> now stands for a new object.</summary>
    protected virtual void OnRedefined(TValue value)
    {
    }

    protected virtual TValue? OnConversion(IConversionOperation conversion, TValue? operand) => operand;

    protected virtual TValue? OnInvocation(IInvocationOperation invocation, TValue? instance, TValue?[] arguments) => null;

    protected virtual TValue? OnObjectCreation(IObjectCreationOperation creation, TValue?[] arguments) => null;

    protected virtual TValue? OnFieldReference(IFieldReferenceOperation field, TValue? instance) => null;

    protected virtual TValue? OnPropertyReference(IPropertyReferenceOperation property, TValue? instance) => null;

    protected virtual TValue? OnAddressOf(IAddressOfOperation addressOf, TValue? reference) => null;

    /// <summary>The value an out or ref argument of <paramref name="method"/> holds after the call; null for an unknown one.</summary>
    protected virtual TValue? OnOutArgument(IArgumentOperation argument, IMethodSymbol method) => null;

    /// <summary>A tracked variable holding <paramref name="value"/> is read by <paramref name="reference"/>.</summary>
    protected virtual void OnRead(IOperation reference, TValue value)
    {
    }

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

    private TValue? Capture(IFlowCaptureOperation capture)
    {
        var value = Evaluate(capture.Value);
        if (value is null) State.Variables.Remove(capture.Id);
        else State.Variables.Set(capture.Id, value);
        return null;
    }

    private TValue? SimpleAssignment(ISimpleAssignmentOperation assignment)
    {
        var value = Evaluate(assignment.Value);
        Assign(assignment.Target, value ?? Fresh(assignment, static () => new TValue()));
        return value;
    }

    /// <summary>A compound assignment or a step: the target gets a value computed from its old one.</summary>
    private TValue? Rewrite(IOperation site, IOperation target, IOperation? operand)
    {
        var old = Evaluate(target);
        Evaluate(operand);
        Assign(target, Fresh(site, () => OnArithmetic(old)));
        return null;
    }

    private TValue? Invocation(IInvocationOperation invocation)
    {
        var instance = Evaluate(invocation.Instance);
        var arguments = EvaluateArguments(invocation.Arguments);
        var result = OnInvocation(invocation, instance, arguments);
        WriteBack(invocation.Arguments, invocation.TargetMethod);
        return result;
    }

    private TValue? ObjectCreation(IObjectCreationOperation creation)
    {
        var arguments = EvaluateArguments(creation.Arguments);
        Evaluate(creation.Initializer);
        var result = OnObjectCreation(creation, arguments);
        if (creation.Constructor is { } constructor) WriteBack(creation.Arguments, constructor);
        return result;
    }

    private TValue? PropertyReference(IPropertyReferenceOperation property)
    {
        var instance = Evaluate(property.Instance);
        EvaluateArguments(property.Arguments);
        return OnPropertyReference(property, instance);
    }

    private TValue? Binary(IBinaryOperation binary)
    {
        var left = Evaluate(binary.LeftOperand);
        var right = Evaluate(binary.RightOperand);
        return binary.Type is IPointerTypeSymbol ? Fresh(binary, () => OnArithmetic(left ?? right)) : null;
    }

    private TValue? Children(IOperation operation)
    {
        foreach (var child in operation.ChildOperations) Evaluate(child);
        return null;
    }

    private TValue? Read(IOperation reference, ISymbol symbol)
    {
        if (!State.Variables.TryGetValue(symbol, out var value))
        {
            // A variable a lambda or local function captures (and never writes, or it would be
            // untracked): one unknown value for the whole body, so aliases and frees still line up.
            if (!IsTracked(symbol) || _owner is null || SymbolEqualityComparer.Default.Equals(symbol.ContainingSymbol, _owner)) return null;
            value = Definition((_owner, symbol), static () => new TValue());
            State.Variables.Set(symbol, value);
        }

        OnRead(reference, value);
        return value;
    }

    private TValue?[] EvaluateArguments(ImmutableArray<IArgumentOperation> arguments)
    {
        var values = new TValue?[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            // An out argument is written, not read.
            if (arguments[i].Parameter?.RefKind == RefKind.Out) continue;
            values[i] = Evaluate(arguments[i].Value);
        }

        return values;
    }

    private void WriteBack(ImmutableArray<IArgumentOperation> arguments, IMethodSymbol method)
    {
        foreach (var argument in arguments)
        {
            if (argument.Parameter is not { RefKind: RefKind.Out or RefKind.Ref }) continue;
            var written = OnOutArgument(argument, method) ?? Fresh(argument, static () => new TValue());
            Assign(argument.Value, written);
        }
    }

    private void Assign(IOperation target, TValue value)
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

    private void Set(ISymbol symbol, TValue value)
    {
        if (IsTracked(symbol)) State.Variables.Set(symbol, value);
        else State.Variables.Remove(symbol);
    }
}

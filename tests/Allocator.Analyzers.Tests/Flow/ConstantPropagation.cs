using System.Collections.Generic;
using System.Linq;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Tests.Flow;

/// <summary>
/// A toy rule over <see cref="FlowWalker{TState}"/> alone: which int locals hold a known
/// constant. A local is in the map only while it holds one constant on every path (missing means
/// "not a constant"), so the join keeps the entries both paths agree on.
/// </summary>
internal sealed class ConstantDomain : FlowDomain<Dictionary<string, int>>
{
    public override Dictionary<string, int> Unknown() => new();

    public override Dictionary<string, int> Clone(Dictionary<string, int> state) => new(state);

    public override Dictionary<string, int> Join(BasicBlock block, Dictionary<string, int> a, Dictionary<string, int> b)
    {
        var result = new Dictionary<string, int>();
        foreach (var pair in a)
        {
            if (b.TryGetValue(pair.Key, out var other) && other == pair.Value) result[pair.Key] = pair.Value;
        }

        return result;
    }

    public override bool Equal(Dictionary<string, int> a, Dictionary<string, int> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);
}

/// <summary>
/// Transfers <c>x = literal</c>, <c>x = y</c> and <c>x = y + literal</c>; <c>Probe(a, b, …)</c>
/// records, in the report pass, each argument's constant or "?".
/// </summary>
internal sealed class ConstantWalker : FlowWalker<Dictionary<string, int>>
{
    public ConstantWalker()
        : base(new ConstantDomain())
    {
    }

    /// <summary>One line per Probe call reached in the report pass, in block order: "x=1 y=?".</summary>
    public List<string> Probes { get; } = new();

    public static List<string> Run(string body)
    {
        var walker = new ConstantWalker();
        walker.Run(Snippet.Graph(body), default);
        return walker.Probes;
    }

    protected override Dictionary<string, int> Start(ControlFlowGraph graph) => new();

    protected override Dictionary<string, int> Transfer(BasicBlock block, Dictionary<string, int> entry)
    {
        foreach (var operation in block.Operations)
        {
            var statement = operation is IExpressionStatementOperation expression ? expression.Operation : operation;
            switch (statement)
            {
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment:
                    if (Value(assignment.Value, entry) is { } value) entry[target.Local.Name] = value;
                    else entry.Remove(target.Local.Name);
                    break;
                case IInvocationOperation { TargetMethod.Name: "Probe" } probe when Reporting:
                    Probes.Add(string.Join(" ", Arguments(probe).Select(argument =>
                        argument is ILocalReferenceOperation local
                            ? local.Local.Name + "=" + (entry.TryGetValue(local.Local.Name, out var known) ? known.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")
                            : "?")));
                    break;
            }
        }

        return entry;
    }

    private static IEnumerable<IOperation> Arguments(IInvocationOperation probe) =>
        probe.Arguments.SelectMany<IArgumentOperation, IOperation>(static argument => argument.Value is IArrayCreationOperation { Initializer: { } values } ? values.ElementValues : new[] { argument.Value });

    private static int? Value(IOperation value, Dictionary<string, int> state) => value switch
    {
        ILiteralOperation { ConstantValue: { HasValue: true, Value: int literal } } => literal,
        ILocalReferenceOperation local => state.TryGetValue(local.Local.Name, out var known) ? known : null,
        IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } add => Value(add.LeftOperand, state) + Value(add.RightOperand, state),
        _ => null,
    };
}

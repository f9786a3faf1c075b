using System.Collections.Generic;
using System.Collections.Immutable;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The transfer functions and reports of <see cref="ArenaMisuseAnalyzer"/>: allocations, frees,
/// resets and disposals recorded in <see cref="ArenaFlowState"/>, ALLOC2003 to ALLOC2007 and
/// ALLOC3001 reported from the stable states.
/// </summary>
internal sealed class ArenaMisuseWalker : OperationWalker<ArenaValue, ArenaFlowState>
{
    private readonly HashSet<ISymbol> _written;
    private readonly ArenaSymbols _symbols;
    private readonly System.Action<Diagnostic> _report;
    private readonly SemanticModel _model;
    private readonly HashSet<(string, Location)> _reported = new();

    public ArenaMisuseWalker(HashSet<ISymbol> untracked, HashSet<ISymbol> written, ArenaSymbols symbols, SemanticModel model, System.Action<Diagnostic> report)
        : base(ArenaFlowDomain.Instance, untracked)
    {
        _model = model;
        _written = written;
        _symbols = symbols;
        _report = report;
    }

    // Arithmetic keeps the block it points into, but the result is not the block's start.
    protected override ArenaValue OnArithmetic(ArenaValue? operand) => new() { Allocation = operand?.Allocation, IsDerived = true };

    protected override void OnRedefined(ArenaValue value) => State.Forget(value);

    protected override ArenaValue? OnObjectCreation(IObjectCreationOperation creation, ArenaValue?[] arguments) =>
        _symbols.IsArena(creation.Type) ? Fresh(creation, static () => new ArenaValue { IsCreatedArena = true }) : null;

    protected override ArenaValue? OnFieldReference(IFieldReferenceOperation field, ArenaValue? instance)
    {
        // A readonly field names the same arena on every read (of this instance).
        var symbol = field.Field;
        if (!symbol.IsReadOnly || !_symbols.IsArena(symbol.Type)) return null;
        if (!symbol.IsStatic && field.Instance is not IInstanceReferenceOperation) return null;
        return Definition(symbol, static () => new ArenaValue());
    }

    protected override ArenaValue? OnPropertyReference(IPropertyReferenceOperation property, ArenaValue? instance)
    {
        var symbol = property.Property;
        if (instance is not null && State.Disposed.TryGetValue(instance, out var at) && _symbols.IsArena(symbol.ContainingType))
        {
            ReportArenaUse(property, at);
        }

        // The facade's Core is the arena it forwards to; Shared is one arena per facade type.
        if (symbol.Name == "Core" && instance is not null && _symbols.IsFacade(symbol.ContainingType)) return instance;
        if (symbol.IsStatic && symbol.Name == "Shared" && _symbols.IsArena(symbol.Type)) return Definition(symbol, static () => new ArenaValue());
        return null;
    }

    protected override ArenaValue? OnInvocation(IInvocationOperation invocation, ArenaValue? instance, ArenaValue?[] arguments)
    {
        var method = invocation.TargetMethod;
        if (!_symbols.IsArena(method.ContainingType)) return null;
        if (method.IsStatic)
        {
            if (method.Name != "Create" || !_symbols.IsArena(method.ReturnType)) return null;
            var defaults = true;
            foreach (var argument in invocation.Arguments) defaults &= argument.ArgumentKind == ArgumentKind.DefaultValue;
            return Fresh(invocation, () => new ArenaValue { IsCreatedArena = true, IsDefaultRuntimeArena = defaults });
        }

        if (instance is not null && method.Name != "Dispose" && State.Disposed.TryGetValue(instance, out var disposedAt))
        {
            ReportArenaUse(invocation, disposedAt);
        }

        var receiverType = invocation.Instance?.Type;
        var receiverText = invocation.Instance?.Syntax.ToString() ?? "this";
        switch (method.Name)
        {
            case "Allocate" or "TryAllocate" or "AllocateZeroed" or "AllocateAligned" when arguments.Length >= 1:
                return Fresh(invocation, () => new ArenaValue
                {
                    Allocation = new AllocationFacts(instance, receiverType, receiverText, method.Name, invocation.Arguments[0].Value,
                        method.Name == "AllocateAligned" && invocation.Arguments.Length >= 2 ? invocation.Arguments[1].Value : null),
                });
            case "Reallocate" when arguments.Length == 2:
                // It may return the same block (same size class), so the old pointer is not
                // counted as freed; reallocating a block already freed is still reported.
                Release(invocation, instance, arguments[0], marksFreed: false);
                return Fresh(invocation, () => new ArenaValue
                {
                    Allocation = new AllocationFacts(instance, receiverType, receiverText, method.Name, invocation.Arguments[1].Value),
                });
            case "Free" or "FreeSized" when arguments.Length >= 1:
                Release(invocation, instance, arguments[0], marksFreed: true);
                return null;
            case "Reset" or "Dispose" when arguments.Length == 0:
                if (instance is null) return null;
                foreach (var value in State.Variables.Values)
                {
                    if (ReferenceEquals(value.Allocation?.Arena, instance) && !State.Invalidated.ContainsKey(value)) State.Invalidated[value] = invocation;
                }

                if (method.Name == "Dispose" && !State.Disposed.ContainsKey(instance)) State.Disposed[instance] = invocation;
                return null;
            default:
                return null;
        }
    }

    protected override void OnRead(IOperation reference, ArenaValue value)
    {
        if (!Reporting || !State.Invalidated.TryGetValue(value, out var at)) return;

        // Comparing the pointer, or copying it, does not touch the memory.
        var use = reference;
        while (use.Parent is IConversionOperation conversion) use = conversion;
        if (use.Parent is IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals }) return;
        if (use.Parent is ISimpleAssignmentOperation assignment && assignment.Value == use) return;
        var allocation = value.Allocation!;

        // Passing it back to its disposed arena: the call itself is reported, once.
        if (allocation.Arena is { } arena && State.Disposed.ContainsKey(arena)
            && reference.Parent is IArgumentOperation { Parent: IInvocationOperation { Instance: { } receiver } }
            && receiver.Syntax.ToString() == allocation.ArenaText)
        {
            return;
        }

        Report(
            DiagnosticDescriptors.UseAfterResetOrDispose,
            reference.Syntax.GetLocation(),
            null,
            $"'{reference.Syntax}', memory from '{allocation.ArenaText}',",
            Call(at),
            Line(at),
            "its memory is gone; allocate again after the call, or finish with the block before it");
    }

    private void ReportArenaUse(IOperation use, IOperation disposedAt) => Report(
        DiagnosticDescriptors.UseAfterResetOrDispose,
        use.Syntax.GetLocation(),
        null,
        "The arena",
        Call(disposedAt),
        Line(disposedAt),
        "create a new arena, or move the call before Dispose()");

    private void Release(IInvocationOperation call, ArenaValue? arena, ArenaValue? pointer, bool marksFreed)
    {
        if (pointer is null || pointer.IsDerived) return;
        var pointerText = call.Arguments[0].Value.Syntax.ToString();
        if (Reporting)
        {
            if (State.Freed.TryGetValue(pointer, out var first))
            {
                Report(DiagnosticDescriptors.DoubleFree, call.Syntax.GetLocation(), null, pointerText, Line(first));
            }
            else if (State.FreedLastIteration.TryGetValue(pointer, out var carried))
            {
                Report(DiagnosticDescriptors.DoubleFree, call.Syntax.GetLocation(), null, pointerText, Line(carried.At) + " by the previous iteration of the loop,");
            }
            else if (pointer.Allocation is { } allocation)
            {
                if (Distinct(allocation.Arena, allocation.ArenaType, arena, call.Instance?.Type))
                {
                    Report(
                        DiagnosticDescriptors.FreedToOtherArena,
                        call.Syntax.GetLocation(),
                        null,
                        pointerText,
                        allocation.ArenaText,
                        call.Instance?.Syntax.ToString() ?? "this",
                        call.TargetMethod.Name);
                }
                else if (call.TargetMethod.Name == "FreeSized" && call.Arguments.Length == 2 && allocation.Alignment is { } alignment)
                {
                    // The block's class came from size and alignment together; the size alone names another.
                    Report(
                        DiagnosticDescriptors.FreeSizedWithoutAlignment,
                        call.Syntax.GetLocation(),
                        null,
                        pointerText,
                        allocation.Size?.Syntax.ToString() ?? "size",
                        alignment.Syntax.ToString());
                }
                else if (call.TargetMethod.Name == "FreeSized" && arena is not null && ReferenceEquals(arena, allocation.Arena))
                {
                    CheckSizeClass(call, arena, pointerText, allocation);
                }
                else if (call.TargetMethod.Name == "Free" && arena is not null && ReferenceEquals(arena, allocation.Arena)
                    && allocation.Method != "AllocateAligned" && allocation.Size is { } size && IsStable(size, call))
                {
                    var sizeText = size.Syntax.ToString();
                    Report(
                        DiagnosticDescriptors.FreeWithKnownSize,
                        call.Syntax.GetLocation(),
                        ImmutableDictionary<string, string?>.Empty.Add(ArenaMisuseAnalyzer.SizeProperty, sizeText),
                        pointerText,
                        sizeText);
                }
            }
        }

        if (marksFreed && !State.Freed.ContainsKey(pointer)) State.Freed[pointer] = call;
    }

    // ALLOC2006: both sizes constant, the arena's classes known, and the classes differ.
    private void CheckSizeClass(IInvocationOperation call, ArenaValue arena, string pointerText, AllocationFacts allocation)
    {
        if (allocation.Method == "AllocateAligned" || call.Arguments.Length != 2
            || AsSize(allocation.Size) is not { } allocated || AsSize(call.Arguments[1].Value) is not { } freed || allocated == freed)
        {
            return;
        }

        var configurations = _symbols.SizeClassesOf(arena, call.Instance?.Type);
        if (configurations.IsEmpty) return;
        ulong allocatedClass = 0, freedClass = 0;
        foreach (var classes in configurations)
        {
            if (allocated > classes.LargeMaxClass || freed > classes.LargeMaxClass) return;
            allocatedClass = classes.RoundUp(allocated);
            freedClass = classes.RoundUp(freed);
            if (allocatedClass == freedClass) return;
        }

        Report(
            DiagnosticDescriptors.FreeSizedClassMismatch,
            call.Arguments[1].Syntax.GetLocation(),
            null,
            pointerText,
            allocated,
            allocatedClass,
            freed,
            freedClass);
    }

    private static ulong? AsSize(IOperation? size)
    {
        if (size?.ConstantValue is not { HasValue: true, Value: { } value }) return null;
        try
        {
            var number = System.Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture);
            return number > 0 && number <= ulong.MaxValue ? (ulong)number : null;
        }
        catch (System.Exception e) when (e is System.InvalidCastException or System.FormatException or System.OverflowException)
        {
            return null;
        }
    }

    private bool Distinct(ArenaValue? a, ITypeSymbol? aType, ArenaValue? b, ITypeSymbol? bType)
    {
        if (a is not null && ReferenceEquals(a, b)) return false;
        if (a is { IsCreatedArena: true } && b is { IsCreatedArena: true }) return true;
        var keyA = _symbols.DistinctKey(aType);
        var keyB = _symbols.DistinctKey(bType);
        return keyA is not null && keyB is not null && !SymbolEqualityComparer.Default.Equals(keyA, keyB);
    }

    // The size expression means the same at the free as at the allocation, and can be written there.
    private bool IsStable(IOperation size, IOperation at)
    {
        switch (size)
        {
            case ISizeOfOperation:
            case ILiteralOperation:
                return true;
            case { ConstantValue.HasValue: true } when size is not IFieldReferenceOperation and not ILocalReferenceOperation:
                return true;
            case IConversionOperation conversion:
                return IsStable(conversion.Operand, at);
            case IParenthesizedOperation parenthesized:
                return IsStable(parenthesized.Operand, at);
            case IBinaryOperation binary:
                return IsStable(binary.LeftOperand, at) && IsStable(binary.RightOperand, at);
            case IParameterReferenceOperation parameter:
                return !_written.Contains(parameter.Parameter) && InScope(parameter.Parameter, at);
            case ILocalReferenceOperation local:
                return !_written.Contains(local.Local) && InScope(local.Local, at);
            case IFieldReferenceOperation field:
                // Written unqualified, the name must still mean the field where it is pasted.
                return (field.Field.IsReadOnly || field.Field.IsConst)
                    && (field.Instance is null or IInstanceReferenceOperation || IsStable(field.Instance, at))
                    && (field.Syntax is not Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax || InScope(field.Field, at));
            case IPropertyReferenceOperation { Property.Name: "Length", Instance: { } instance }:
                return instance.Type is IArrayTypeSymbol || instance.Type?.SpecialType == SpecialType.System_String
                    || instance.Type?.Name is "Span" or "ReadOnlySpan" ? IsStable(instance, at) : false;
            default:
                return false;
        }
    }

    private bool InScope(ISymbol symbol, IOperation at)
    {
        foreach (var visible in _model.LookupSymbols(at.Syntax.SpanStart, name: symbol.Name))
        {
            if (SymbolEqualityComparer.Default.Equals(visible, symbol)) return true;
        }

        return false;
    }

    private void Report(DiagnosticDescriptor descriptor, Location location, ImmutableDictionary<string, string?>? properties, params object[] arguments)
    {
        if (!Reporting || !_reported.Add((descriptor.Id, location))) return;
        _report(Diagnostic.Create(descriptor, location, properties, arguments));
    }

    private static string Call(IOperation call) => call.Syntax.ToString();

    private static int Line(IOperation operation) => operation.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
}

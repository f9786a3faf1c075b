using System.Collections.Generic;
using System.Collections.Immutable;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// The transfer functions and report of ALLOC2001: which values were built from an address (a
/// pointer cast, Unsafe, an [AddressLookup] result), followed into [AcquiredExtent] arguments.
/// </summary>
internal sealed class ExtentDisciplineWalker : OperationWalker<ExtentValue, ExtentFlowState>
{
    private readonly ExtentSymbols _symbols;
    private readonly System.Action<Diagnostic> _report;
    private readonly HashSet<Location> _reported = new();

    public ExtentDisciplineWalker(HashSet<ISymbol> untracked, ExtentSymbols symbols, System.Action<Diagnostic> report)
        : base(new ExtentFlowDomain(), untracked)
    {
        _symbols = symbols;
        _report = report;
    }

    protected override ExtentValue OnParameter(IParameterSymbol parameter) =>
        new() { IsExtentHandle = _symbols.IsEdataPointer(parameter.Type) };

    protected override ExtentValue? OnConversion(IConversionOperation conversion, ExtentValue? operand)
    {
        if (!_symbols.IsEdataPointer(conversion.Type)) return operand;
        var source = conversion.Operand;

        // null, default and values that were extent handles all along are not addresses. Nor
        // is an integer: nint is how held extents are kept in collections (a pointer cannot
        // be a type argument), so (Edata*)handle is a round trip; an address is a pointer.
        if (source.ConstantValue.HasValue || source is IDefaultValueOperation || _symbols.IsEdataPointer(source.Type)
            || source.Type is not IPointerTypeSymbol
            || operand is { IsExtentHandle: true } || operand?.AddressOrigin is not null)
        {
            return operand ?? Definition(conversion, static () => new ExtentValue { IsExtentHandle = true });
        }

        return Definition(conversion, static () => new ExtentValue { AddressOrigin = "a pointer cast" });
    }

    protected override ExtentValue? OnInvocation(IInvocationOperation invocation, ExtentValue? instance, ExtentValue?[] arguments)
    {
        var method = invocation.TargetMethod;
        Check(invocation.Arguments, arguments, method);
        var returnType = method.ReturnType;
        if (_symbols.Unsafe is { } unsafeType && SymbolEqualityComparer.Default.Equals(method.ContainingType, unsafeType)
            && (_symbols.IsEdataPointer(returnType) || SymbolEqualityComparer.Default.Equals(returnType, _symbols.Edata)))
        {
            return Definition(invocation, () => new ExtentValue { AddressOrigin = "Unsafe." + method.Name });
        }

        if (_symbols.IsLookup(method))
        {
            return _symbols.IsEdataPointer(returnType)
                ? Definition(invocation, () => new ExtentValue { AddressOrigin = "the result of address lookup '" + method.Name + "'" })
                : Definition(invocation, () => new ExtentValue { LookupMethod = method.Name });
        }

        return _symbols.IsEdataPointer(returnType) ? Definition(invocation, static () => new ExtentValue { IsExtentHandle = true }) : null;
    }

    protected override ExtentValue? OnObjectCreation(IObjectCreationOperation creation, ExtentValue?[] arguments)
    {
        if (creation.Constructor is { } constructor) Check(creation.Arguments, arguments, constructor);
        return null;
    }

    protected override ExtentValue? OnOutArgument(IArgumentOperation argument, IMethodSymbol method) =>
        _symbols.IsLookup(method) ? Definition(argument, () => new ExtentValue { LookupMethod = method.Name }) : null;

    protected override ExtentValue? OnFieldReference(IFieldReferenceOperation field, ExtentValue? instance)
    {
        if (!_symbols.IsEdataPointer(field.Type)) return null;
        return instance?.LookupMethod is { } lookup
            ? Definition(field, () => new ExtentValue { AddressOrigin = "the result of address lookup '" + lookup + "'" })
            : Definition(field, static () => new ExtentValue { IsExtentHandle = true });
    }

    protected override ExtentValue? OnAddressOf(IAddressOfOperation addressOf, ExtentValue? reference) =>
        reference?.AddressOrigin is not null ? reference : null;

    private void Check(ImmutableArray<IArgumentOperation> arguments, ExtentValue?[] values, IMethodSymbol method)
    {
        if (!Reporting) return;
        for (var i = 0; i < arguments.Length; i++)
        {
            if (values[i]?.AddressOrigin is not { } origin || arguments[i].Parameter is not { } parameter || !_symbols.IsAcquired(parameter)) continue;
            var location = arguments[i].Syntax.GetLocation();
            if (!_reported.Add(location)) continue;
            _report(Diagnostic.Create(
                DiagnosticDescriptors.ExtentFromAddress,
                location,
                parameter.Name,
                method.ContainingType?.Name + "." + method.Name,
                origin));
        }
    }
}

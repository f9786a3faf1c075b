using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// ALLOC2001: an extent built from an address reaches an [AcquiredExtent] parameter.
/// ALLOC2002: IExtentHooks.Split or Merge called directly.
/// Both work from the runtime's marker attributes and interface, not from method names, so code
/// that extends the allocator with its own [AcquiredExtent] parameters is checked the same way.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ExtentDisciplineAnalyzer : DiagnosticAnalyzer
{
    private const string AcquiredExtentAttribute = "Allocator.Map.AcquiredExtentAttribute";
    private const string AddressLookupAttribute = "Allocator.Map.AddressLookupAttribute";
    private const string EdataType = "Allocator.Metadata.Edata";
    private const string ExtentHooksType = "Allocator.Hooks.IExtentHooks";
    private const string UnsafeType = "System.Runtime.CompilerServices.Unsafe";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ExtentFromAddress,
        DiagnosticDescriptors.DirectHookSplitMerge);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var compilation = start.Compilation;
            // The runtime itself is where the wrappers call the hooks.
            if (compilation.GetTypeByMetadataName(ExtentHooksType) is { } hooks
                && !SymbolEqualityComparer.Default.Equals(hooks.ContainingAssembly, compilation.Assembly))
            {
                var split = Member(hooks, "Split");
                var merge = Member(hooks, "Merge");
                if (split is not null && merge is not null)
                {
                    start.RegisterOperationAction(c => AnalyzeHookCall(c, hooks, split, merge), OperationKind.Invocation);
                }
            }

            if (compilation.GetTypeByMetadataName(AcquiredExtentAttribute) is not { } acquired
                || compilation.GetTypeByMetadataName(AddressLookupAttribute) is not { } lookup
                || compilation.GetTypeByMetadataName(EdataType) is not { } edata)
            {
                return;
            }

            var symbols = new Symbols(acquired, lookup, edata, compilation.GetTypeByMetadataName(UnsafeType));
            start.RegisterOperationBlockAction(block => AnalyzeBlock(block, symbols));
        });
    }

    private static IMethodSymbol? Member(INamedTypeSymbol type, string name)
    {
        foreach (var member in type.GetMembers(name))
        {
            if (member is IMethodSymbol method) return method;
        }

        return null;
    }

    private static void AnalyzeHookCall(OperationAnalysisContext context, INamedTypeSymbol hooks, IMethodSymbol split, IMethodSymbol merge)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name is not ("Split" or "Merge") || method.IsStatic) return;

        // Only calls through the interface (an IExtentHooks reference, or a type parameter bound
        // to it): that is how an arena's hooks are reached, so that is the bypass. A call on a
        // concrete hooks class is that class being tested or composed.
        var target = method.Name == "Split" ? split : merge;
        if (!SymbolEqualityComparer.Default.Equals(method.OriginalDefinition, target)) return;

        // A hooks type that wraps another forwards its own Split/Merge to the inner one: that is
        // the hook chain, not a caller bypassing the extent operations.
        if (context.ContainingSymbol is IMethodSymbol caller && Implements(caller, hooks, target)) return;

        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DirectHookSplitMerge, invocation.Syntax.GetLocation(), method.Name));
    }

    // True when method is the implementation of interfaceMember in its type.
    private static bool Implements(IMethodSymbol method, INamedTypeSymbol hooks, IMethodSymbol interfaceMember)
    {
        if (method.ContainingType is not { } type || method.Name != interfaceMember.Name) return false;
        foreach (var implemented in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(implemented, hooks))
            {
                return SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(interfaceMember), method);
            }
        }

        return false;
    }

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, Symbols symbols)
    {
        foreach (var root in context.OperationBlocks)
        {
            if (root.Kind is not (OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block)) continue;

            // Most methods pass no extent anywhere: look before building a graph.
            if (!HasAcquiredArgument(root, symbols)) continue;
            var graph = context.GetControlFlowGraph(root);
            new Walker(FlowWalker.Untracked(root), symbols, context.ReportDiagnostic).Run(graph, context.CancellationToken);
        }
    }

    private static bool HasAcquiredArgument(IOperation root, Symbols symbols)
    {
        foreach (var operation in root.Descendants())
        {
            if (operation is IArgumentOperation { Parameter: { } parameter } && symbols.IsAcquired(parameter)) return true;
        }

        return false;
    }

    private sealed class Symbols
    {
        private readonly ConcurrentDictionary<IMethodSymbol, bool> _lookups = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<IParameterSymbol, bool> _acquired = new(SymbolEqualityComparer.Default);

        public Symbols(INamedTypeSymbol acquired, INamedTypeSymbol lookup, INamedTypeSymbol edata, INamedTypeSymbol? unsafeType)
        {
            Acquired = acquired;
            Lookup = lookup;
            Edata = edata;
            Unsafe = unsafeType;
        }

        public INamedTypeSymbol Acquired { get; }

        public INamedTypeSymbol Lookup { get; }

        public INamedTypeSymbol Edata { get; }

        public INamedTypeSymbol? Unsafe { get; }

        public bool IsAcquired(IParameterSymbol parameter) =>
            _acquired.GetOrAdd(parameter, p => HasAttribute(p.GetAttributes(), Acquired)
                || (!SymbolEqualityComparer.Default.Equals(p.OriginalDefinition, p) && HasAttribute(p.OriginalDefinition.GetAttributes(), Acquired)));

        public bool IsLookup(IMethodSymbol method) =>
            _lookups.GetOrAdd(method, m => HasAttribute(m.OriginalDefinition.GetAttributes(), Lookup));

        public bool IsEdataPointer(ITypeSymbol? type) =>
            type is IPointerTypeSymbol pointer && SymbolEqualityComparer.Default.Equals(pointer.PointedAtType, Edata);

        private static bool HasAttribute(ImmutableArray<AttributeData> attributes, INamedTypeSymbol attribute) =>
            AttributeLookup.Find(attributes, attribute) is not null;
    }

    private sealed class Walker : FlowWalker
    {
        private readonly Symbols _symbols;
        private readonly System.Action<Diagnostic> _report;
        private readonly HashSet<Location> _reported = new();

        public Walker(HashSet<ISymbol> untracked, Symbols symbols, System.Action<Diagnostic> report)
            : base(untracked)
        {
            _symbols = symbols;
            _report = report;
        }

        protected override FlowValue NewParameterValue(IParameterSymbol parameter) =>
            new() { IsExtentHandle = _symbols.IsEdataPointer(parameter.Type) };

        protected override FlowValue? OnConversion(IConversionOperation conversion, FlowValue? operand)
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
                return operand ?? Definition(conversion, static () => new FlowValue { IsExtentHandle = true });
            }

            return Definition(conversion, static () => new FlowValue { AddressOrigin = "a pointer cast" });
        }

        protected override FlowValue? OnInvocation(IInvocationOperation invocation, FlowValue? instance, FlowValue?[] arguments)
        {
            var method = invocation.TargetMethod;
            Check(invocation.Arguments, arguments, method);
            var returnType = method.ReturnType;
            if (_symbols.Unsafe is { } unsafeType && SymbolEqualityComparer.Default.Equals(method.ContainingType, unsafeType)
                && (_symbols.IsEdataPointer(returnType) || SymbolEqualityComparer.Default.Equals(returnType, _symbols.Edata)))
            {
                return Definition(invocation, () => new FlowValue { AddressOrigin = "Unsafe." + method.Name });
            }

            if (_symbols.IsLookup(method))
            {
                return _symbols.IsEdataPointer(returnType)
                    ? Definition(invocation, () => new FlowValue { AddressOrigin = "the result of address lookup '" + method.Name + "'" })
                    : Definition(invocation, () => new FlowValue { LookupMethod = method.Name });
            }

            return _symbols.IsEdataPointer(returnType) ? Definition(invocation, static () => new FlowValue { IsExtentHandle = true }) : null;
        }

        protected override FlowValue? OnObjectCreation(IObjectCreationOperation creation, FlowValue?[] arguments)
        {
            if (creation.Constructor is { } constructor) Check(creation.Arguments, arguments, constructor);
            return null;
        }

        protected override FlowValue? OnOutArgument(IArgumentOperation argument, IMethodSymbol method) =>
            _symbols.IsLookup(method) ? Definition(argument, () => new FlowValue { LookupMethod = method.Name }) : null;

        protected override FlowValue? OnFieldReference(IFieldReferenceOperation field, FlowValue? instance)
        {
            if (!_symbols.IsEdataPointer(field.Type)) return null;
            return instance?.LookupMethod is { } lookup
                ? Definition(field, () => new FlowValue { AddressOrigin = "the result of address lookup '" + lookup + "'" })
                : Definition(field, static () => new FlowValue { IsExtentHandle = true });
        }

        protected override FlowValue? OnAddressOf(IAddressOfOperation addressOf, FlowValue? reference) =>
            reference?.AddressOrigin is not null ? reference : null;

        private void Check(ImmutableArray<IArgumentOperation> arguments, FlowValue?[] values, IMethodSymbol method)
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
}

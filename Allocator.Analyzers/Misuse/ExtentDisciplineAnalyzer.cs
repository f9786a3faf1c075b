using System.Collections.Immutable;
using Allocator.Analyzers.Flow;
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

            var symbols = new ExtentSymbols(acquired, lookup, edata, compilation.GetTypeByMetadataName(UnsafeType));
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

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, ExtentSymbols symbols)
    {
        foreach (var root in context.OperationBlocks)
        {
            if (root.Kind is not (OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block)) continue;

            // Most methods pass no extent anywhere: look before building a graph.
            if (!HasAcquiredArgument(root, symbols)) continue;
            var graph = context.GetControlFlowGraph(root);
            new ExtentDisciplineWalker(UntrackedVariables.Find(root), symbols, context.ReportDiagnostic).Run(graph, context.CancellationToken);
        }
    }

    private static bool HasAcquiredArgument(IOperation root, ExtentSymbols symbols)
    {
        foreach (var operation in root.Descendants())
        {
            if (operation is IArgumentOperation { Parameter: { } parameter } && symbols.IsAcquired(parameter)) return true;
        }

        return false;
    }
}

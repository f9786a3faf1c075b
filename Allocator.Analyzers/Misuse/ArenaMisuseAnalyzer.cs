using System.Collections.Generic;
using System.Collections.Immutable;
using Allocator.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// Follows blocks and arenas through one method's control flow:
/// ALLOC2003 a block freed to another arena, ALLOC2004 an arena or its memory used after
/// Dispose()/Reset(), ALLOC2005 a block freed twice, ALLOC2006 FreeSized with a size of another
/// class, ALLOC2007 FreeSized without the alignment of an aligned block, ALLOC3001 Free where
/// FreeSized could be used.
/// Arenas are recognized by type: Allocator.Arena and its derived types, and classes with [Arena]
/// (the generated facade, which forwards the same members).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ArenaMisuseAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The property holding the size expression for the FreeSized code fix.</summary>
    public const string SizeProperty = "Size";

    private const string ArenaType = "Allocator.Arena";
    private const string GenericArenaType = "Allocator.Arena`1";
    private const string ArenaAttributeType = "Allocator.ArenaAttribute";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.FreedToOtherArena,
        DiagnosticDescriptors.UseAfterResetOrDispose,
        DiagnosticDescriptors.DoubleFree,
        DiagnosticDescriptors.FreeSizedClassMismatch,
        DiagnosticDescriptors.FreeSizedWithoutAlignment,
        DiagnosticDescriptors.FreeWithKnownSize);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var compilation = start.Compilation;
            if (compilation.GetTypeByMetadataName(ArenaType) is not { } arena) return;
            var symbols = new ArenaSymbols(arena, compilation.GetTypeByMetadataName(GenericArenaType), compilation.GetTypeByMetadataName(ArenaAttributeType));
            start.RegisterOperationBlockAction(block => AnalyzeBlock(block, symbols));
        });
    }

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, ArenaSymbols symbols)
    {
        foreach (var root in context.OperationBlocks)
        {
            if (root.Kind is not (OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block)) continue;
            if (!CallsArena(root, symbols, out var written)) continue;
            var graph = context.GetControlFlowGraph(root);
            if (root.SemanticModel is not { } model) continue;
            new ArenaMisuseWalker(UntrackedVariables.Find(root), written, symbols, model, context.ReportDiagnostic).Run(graph, context.CancellationToken);
        }
    }

    // One pass over the body: does it call an arena, and which variables does it write after declaring them?
    private static bool CallsArena(IOperation root, ArenaSymbols symbols, out HashSet<ISymbol> written)
    {
        written = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        var calls = false;
        foreach (var operation in root.Descendants())
        {
            switch (operation)
            {
                case IInvocationOperation invocation when symbols.IsArena(invocation.TargetMethod.ContainingType):
                    calls = true;
                    break;
                case ILocalReferenceOperation { IsDeclaration: false } local when UntrackedVariables.IsWrite(local) || local.Parent is IAddressOfOperation:
                    written.Add(local.Local);
                    break;
                case IParameterReferenceOperation parameter when UntrackedVariables.IsWrite(parameter) || parameter.Parent is IAddressOfOperation:
                    written.Add(parameter.Parameter);
                    break;
            }
        }

        return calls;
    }
}

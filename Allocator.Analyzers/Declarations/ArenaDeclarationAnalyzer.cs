using System.Collections.Generic;
using System.Collections.Immutable;
using Allocator.Declarations;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Allocator.Analyzers.Declarations;

/// <summary>
/// Reports invalid [Arena] declarations (ALLOC1001-ALLOC1010), using the same reader and rules
/// the generator uses to decide that it emits nothing for them.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ArenaDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ArenaTypeNotPartial,
        DiagnosticDescriptors.ArenaTypeShape,
        DiagnosticDescriptors.SizeClassParameters,
        DiagnosticDescriptors.DecayOutOfRange,
        DiagnosticDescriptors.GuardEveryNegative,
        DiagnosticDescriptors.OversizeThresholdBelowPage,
        DiagnosticDescriptors.ExtentMaxActiveFitOutOfRange,
        DiagnosticDescriptors.HooksNotExtentHooks,
        DiagnosticDescriptors.HooksNotConstructible,
        DiagnosticDescriptors.TooManySizeClasses);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // Without the attribute type in the compilation there is nothing to check.
            if (start.Compilation.GetTypeByMetadataName(KnownTypeNames.ArenaAttribute) is not { } arenaAttribute)
            {
                return;
            }

            start.RegisterSymbolAction(symbol => AnalyzeType(symbol, arenaAttribute), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol arenaAttribute)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? arena = null;
        foreach (var attribute in type.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, arenaAttribute))
            {
                arena = attribute;
                break;
            }
        }

        if (arena is null)
        {
            return;
        }

        var problems = new List<DeclarationProblem>();
        ArenaDeclarationReader.Read(type, arena, problems, context.CancellationToken);
        foreach (var problem in problems)
        {
            var descriptor = Descriptor(problem);
            var location = problem.Location ?? type.Locations[0];
            context.ReportDiagnostic(problem.Kind == DeclarationProblemKind.ContainingTypeNotPartial
                ? Diagnostic.Create(descriptor, location, problem.Subject, $"'{problem.Detail}', which it contains")
                : problem.Kind == DeclarationProblemKind.NotPartial
                    ? Diagnostic.Create(descriptor, location, problem.Subject, "it")
                    : Diagnostic.Create(descriptor, location, problem.Subject, problem.Detail));
        }
    }

    private static DiagnosticDescriptor Descriptor(DeclarationProblem problem) => problem.Kind switch
    {
        DeclarationProblemKind.NotPartial or DeclarationProblemKind.ContainingTypeNotPartial => DiagnosticDescriptors.ArenaTypeNotPartial,
        DeclarationProblemKind.InvalidTypeShape => DiagnosticDescriptors.ArenaTypeShape,
        DeclarationProblemKind.HooksNotExtentHooks => DiagnosticDescriptors.HooksNotExtentHooks,
        DeclarationProblemKind.HooksNotConstructible => DiagnosticDescriptors.HooksNotConstructible,
        _ => problem.Violation?.Rule switch
        {
            ArenaRule.DecayOutOfRange => DiagnosticDescriptors.DecayOutOfRange,
            ArenaRule.GuardEveryNegative => DiagnosticDescriptors.GuardEveryNegative,
            ArenaRule.OversizeThresholdBelowPage => DiagnosticDescriptors.OversizeThresholdBelowPage,
            ArenaRule.ExtentMaxActiveFitOutOfRange => DiagnosticDescriptors.ExtentMaxActiveFitOutOfRange,
            ArenaRule.TooManySizeClasses => DiagnosticDescriptors.TooManySizeClasses,
            _ => DiagnosticDescriptors.SizeClassParameters,
        },
    };
}

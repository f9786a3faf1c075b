using System.Collections.Generic;
using System.Collections.Immutable;
using Allocator.Declarations;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Allocator.Analyzers.Declarations;

/// <summary>
/// Reports invalid [Arena] declarations (ALLOC1001-ALLOC1015), using the same reader and rules
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
        DiagnosticDescriptors.GuardMappingShareOutOfRange,
        DiagnosticDescriptors.OversizeThresholdBelowPage,
        DiagnosticDescriptors.ExtentMaxActiveFitOutOfRange,
        DiagnosticDescriptors.HooksNotExtentHooks,
        DiagnosticDescriptors.HooksNotConstructible,
        DiagnosticDescriptors.ConfigurationWithoutArena,
        DiagnosticDescriptors.ProfileSampleBytesOutOfRange,
        DiagnosticDescriptors.LeakReportWithSampleInterval,
        DiagnosticDescriptors.HugePageSettingOutOfRange,
        DiagnosticDescriptors.HugePagesWithCustomHooks);

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
        ReportContainedArena(context, type, arenaAttribute);
        if (ArenaAttributeOf(type, arenaAttribute) is not { } arena)
        {
            ReportConfigurationWithoutArena(context, type);
            return;
        }

        var problems = new List<DeclarationProblem>();
        var read = ArenaDeclarationReader.Read(type, arena, problems, context.CancellationToken);
        ReportHugePagesWithCustomHooks(context, type, read);
        foreach (var problem in problems)
        {
            // Reported by ReportContainedArena when the containing type is analyzed: a symbol's
            // diagnostics must lie in its own declaration for the IDE and code fixes.
            if (problem.Kind == DeclarationProblemKind.ContainingTypeNotPartial)
            {
                continue;
            }

            var detail = problem.Kind == DeclarationProblemKind.NotPartial ? "it" : problem.Detail;
            context.ReportDiagnostic(Diagnostic.Create(Descriptor(problem), problem.Location ?? type.Locations[0], problem.Subject, detail));
        }
    }

    /// <summary>ALLOC1015 on [HugePages] (not off) of a declaration whose extents come from valid custom hooks.</summary>
    private static void ReportHugePagesWithCustomHooks(SymbolAnalysisContext context, INamedTypeSymbol type, ArenaDeclarationReader.Result read)
    {
        if (read.HugePages is not { } hugePages || read.HooksTypeName is null || read.Settings.HugePages == HugePageMode.Off
            || hugePages.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is not { } syntax)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.HugePagesWithCustomHooks,
            syntax.GetLocation(),
            type.Name,
            read.HooksTypeName.Replace("global::", string.Empty)));
    }

    /// <summary>ALLOC1001 on a type that is not partial but contains an [Arena] type.</summary>
    private static void ReportContainedArena(SymbolAnalysisContext context, INamedTypeSymbol type, INamedTypeSymbol arenaAttribute)
    {
        // Nested types are rare, so look for a nested arena before reading any syntax.
        if (FirstNestedArena(type, arenaAttribute) is not { } nested
            || ArenaDeclarationReader.FirstNonPartialDeclaration(type, context.CancellationToken) is not { } declaration)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ArenaTypeNotPartial,
            declaration.Identifier.GetLocation(),
            type.Name,
            $"'{nested.Name}', which it contains"));
    }

    /// <summary>ALLOC1011 on each configuration attribute of a type that has no [Arena].</summary>
    private static void ReportConfigurationWithoutArena(SymbolAnalysisContext context, INamedTypeSymbol type)
    {
        foreach (var attribute in type.GetAttributes())
        {
            var name = ArenaDeclarationReader.AllocatorAttributeName(attribute);
            if (name is KnownTypeNames.SizeClassesAttributeName or KnownTypeNames.GuardsAttributeName or KnownTypeNames.ExtentHooksAttributeName
                    or KnownTypeNames.HugePagesAttributeName
                && attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is { } syntax)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ConfigurationWithoutArena,
                    syntax.GetLocation(),
                    name!.Substring(0, name.Length - "Attribute".Length),
                    type.Name));
            }
        }
    }

    private static INamedTypeSymbol? FirstNestedArena(INamedTypeSymbol type, INamedTypeSymbol arenaAttribute)
    {
        foreach (var member in type.GetTypeMembers())
        {
            if (ArenaAttributeOf(member, arenaAttribute) is not null)
            {
                return member;
            }

            if (FirstNestedArena(member, arenaAttribute) is { } deeper)
            {
                return deeper;
            }
        }

        return null;
    }

    private static AttributeData? ArenaAttributeOf(INamedTypeSymbol type, INamedTypeSymbol arenaAttribute) =>
        AttributeLookup.Find(type.GetAttributes(), arenaAttribute);

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
            ArenaRule.GuardMappingShareOutOfRange => DiagnosticDescriptors.GuardMappingShareOutOfRange,
            ArenaRule.OversizeThresholdBelowPage => DiagnosticDescriptors.OversizeThresholdBelowPage,
            ArenaRule.ExtentMaxActiveFitOutOfRange => DiagnosticDescriptors.ExtentMaxActiveFitOutOfRange,
            ArenaRule.ProfileSampleBytesOutOfRange => DiagnosticDescriptors.ProfileSampleBytesOutOfRange,
            ArenaRule.LeakReportWithSampleInterval => DiagnosticDescriptors.LeakReportWithSampleInterval,
            ArenaRule.HugePageSettingOutOfRange => DiagnosticDescriptors.HugePageSettingOutOfRange,
            _ => DiagnosticDescriptors.SizeClassParameters,
        },
    };
}

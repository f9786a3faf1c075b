using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Allocator.Declarations;

/// <summary>
/// Reads an [Arena] declaration (the class and its [SizeClasses], [Guards], [HugePages] and
/// [ExtentHooks] attributes) into <see cref="ArenaSettings"/> and checks it. Compiled into both the generator
/// and the analyzers, so the generator skips exactly what the analyzers report.
/// </summary>
internal static class ArenaDeclarationReader
{
    /// <summary>The outcome of <see cref="Read"/>.</summary>
    internal readonly struct Result
    {
        public Result(ArenaSettings settings, string? hooksTypeName, bool isValid, AttributeData? hugePages = null)
        {
            Settings = settings;
            HooksTypeName = hooksTypeName;
            IsValid = isValid;
            HugePages = hugePages;
        }

        public ArenaSettings Settings { get; }

        /// <summary>The hooks type as <c>global::</c>-qualified C#, or null for the default hooks.</summary>
        public string? HooksTypeName { get; }

        public bool IsValid { get; }

        /// <summary>The [HugePages] attribute, when the declaration has one (the analyzer locates its warnings on it).</summary>
        public AttributeData? HugePages { get; }
    }

    /// <summary>
    /// Reads and validates a declaration. Pass <paramref name="problems"/> to collect located
    /// problems (the analyzer); pass null to only learn whether it is valid (the generator).
    /// </summary>
    public static Result Read(INamedTypeSymbol type, AttributeData arena, List<DeclarationProblem>? problems, CancellationToken cancellationToken)
    {
        var valid = CheckShape(type, problems, cancellationToken);
        AttributeData? sizeClasses = null, guards = null, hooks = null, hugePages = null;
        foreach (var attribute in type.GetAttributes())
        {
            switch (AllocatorAttributeName(attribute))
            {
                case KnownTypeNames.SizeClassesAttributeName: sizeClasses = attribute; break;
                case KnownTypeNames.GuardsAttributeName: guards = attribute; break;
                case KnownTypeNames.ExtentHooksAttributeName: hooks = attribute; break;
                case KnownTypeNames.HugePagesAttributeName: hugePages = attribute; break;
            }
        }

        var settings = new ArenaSettings();
        foreach (var named in arena.NamedArguments)
        {
            settings = named.Key switch
            {
                nameof(ArenaAttribute.Retain) => settings with { Retain = AsBool(named.Value, settings.Retain) },
                nameof(ArenaAttribute.DirtyDecayMs) => settings with { DirtyDecayMs = AsLong(named.Value, settings.DirtyDecayMs) },
                nameof(ArenaAttribute.MuzzyDecayMs) => settings with { MuzzyDecayMs = AsLong(named.Value, settings.MuzzyDecayMs) },
                nameof(ArenaAttribute.OversizeThreshold) => settings with { OversizeThreshold = AsLong(named.Value, settings.OversizeThreshold) },
                nameof(ArenaAttribute.LgExtentMaxActiveFit) => settings with { LgExtentMaxActiveFit = (int)AsLong(named.Value, settings.LgExtentMaxActiveFit) },
                nameof(ArenaAttribute.ThreadCache) => settings with { ThreadCache = AsBool(named.Value, settings.ThreadCache) },
                nameof(ArenaAttribute.DebugChecks) => settings with { DebugChecks = AsBool(named.Value, settings.DebugChecks) },
                nameof(ArenaAttribute.ProfileSampleBytes) => settings with { ProfileSampleBytes = AsLong(named.Value, settings.ProfileSampleBytes) },
                nameof(ArenaAttribute.LeakReport) => settings with { LeakReport = AsBool(named.Value, settings.LeakReport) },
                _ => settings,
            };
        }

        foreach (var named in sizeClasses?.NamedArguments ?? Enumerable.Empty<KeyValuePair<string, TypedConstant>>())
        {
            settings = named.Key switch
            {
                nameof(SizeClassesAttribute.LgQuantum) => settings with { LgQuantum = (int)AsLong(named.Value, settings.LgQuantum) },
                nameof(SizeClassesAttribute.LgPage) => settings with { LgPage = (int)AsLong(named.Value, settings.LgPage) },
                nameof(SizeClassesAttribute.LgGroup) => settings with { LgGroup = (int)AsLong(named.Value, settings.LgGroup) },
                nameof(SizeClassesAttribute.LgTinyMin) => settings with { LgTinyMin = (int)AsLong(named.Value, settings.LgTinyMin) },
                _ => settings,
            };
        }

        foreach (var named in guards?.NamedArguments ?? Enumerable.Empty<KeyValuePair<string, TypedConstant>>())
        {
            settings = named.Key switch
            {
                nameof(GuardsAttribute.SmallEvery) => settings with { GuardSmallEvery = (int)AsLong(named.Value, settings.GuardSmallEvery) },
                nameof(GuardsAttribute.LargeEvery) => settings with { GuardLargeEvery = (int)AsLong(named.Value, settings.GuardLargeEvery) },
                nameof(GuardsAttribute.MappingShare) => settings with { GuardMappingShare = AsDouble(named.Value, settings.GuardMappingShare) },
                _ => settings,
            };
        }

        if (hugePages is not null)
        {
            settings = settings with { HugePages = ArenaDeclarationRules.DefaultHugePagesDeclared };
            foreach (var named in hugePages.NamedArguments)
            {
                settings = named.Key switch
                {
                    nameof(HugePagesAttribute.Mode) => settings with { HugePages = (HugePageMode)AsLong(named.Value, (long)settings.HugePages) },
                    nameof(HugePagesAttribute.HugifyDelayMs) => settings with { HugifyDelayMs = AsLong(named.Value, settings.HugifyDelayMs) },
                    nameof(HugePagesAttribute.HugificationThreshold) => settings with { HugificationThreshold = AsDouble(named.Value, settings.HugificationThreshold) },
                    nameof(HugePagesAttribute.DirtyMult) => settings with { HugePageDirtyMult = AsDouble(named.Value, settings.HugePageDirtyMult) },
                    nameof(HugePagesAttribute.MinPurgeIntervalMs) => settings with { HugePageMinPurgeIntervalMs = AsLong(named.Value, settings.HugePageMinPurgeIntervalMs) },
                    _ => settings,
                };
            }
        }

        List<ArenaRuleViolation>? violations = problems is null ? null : new List<ArenaRuleViolation>();
        if (!ArenaDeclarationRules.Validate(settings, violations))
        {
            valid = false;
            foreach (var violation in violations ?? Enumerable.Empty<ArenaRuleViolation>())
            {
                var attribute = violation.AttributeName switch
                {
                    ArenaDeclarationRules.SizeClassesAttributeName => sizeClasses,
                    ArenaDeclarationRules.GuardsAttributeName => guards,
                    ArenaDeclarationRules.HugePagesAttributeName => hugePages,
                    _ => arena,
                };
                problems!.Add(new DeclarationProblem(
                    DeclarationProblemKind.Rule,
                    ArgumentLocation(attribute ?? arena, violation.PropertyName, cancellationToken),
                    type.Name,
                    violation.Message,
                    violation));
            }
        }

        string? hooksTypeName = null;
        if (hooks is not null && !ReadHooks(hooks, problems, cancellationToken, out hooksTypeName))
        {
            valid = false;
        }

        return new Result(settings, hooksTypeName, valid, hugePages);
    }

    /// <summary>The short name of an attribute declared in the Allocator namespace, or null.</summary>
    public static string? AllocatorAttributeName(AttributeData attribute)
    {
        var type = attribute.AttributeClass;
        return type is { ContainingNamespace: { Name: KnownTypeNames.Namespace, ContainingNamespace.IsGlobalNamespace: true } }
            ? type.Name
            : null;
    }

    /// <summary>
    /// Where to underline a bad value: the named argument (<c>DirtyDecayMs = -5</c>) when it was
    /// written, else the whole attribute, which is where the default came from.
    /// </summary>
    public static Location? ArgumentLocation(AttributeData attribute, string? propertyName, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax)
        {
            return null;
        }

        foreach (var argument in syntax.ArgumentList?.Arguments ?? default)
        {
            var isMatch = propertyName is null
                ? argument.NameEquals is null && argument.NameColon is null
                : argument.NameEquals?.Name.Identifier.ValueText == propertyName;
            if (isMatch)
            {
                return argument.GetLocation();
            }
        }

        return syntax.GetLocation();
    }

    private static bool CheckShape(INamedTypeSymbol type, List<DeclarationProblem>? problems, CancellationToken cancellationToken)
    {
        var valid = true;
        var shape = type.IsStatic ? "static"
            : type.IsAbstract ? "abstract"
            : type.IsGenericType ? "generic"
            : type.IsRecord ? "a record"
            : null;
        for (var outer = type.ContainingType; shape is null && outer is not null; outer = outer.ContainingType)
        {
            if (outer.IsGenericType)
            {
                shape = $"nested in the generic type '{outer.Name}'";
            }
        }

        if (shape is not null)
        {
            valid = false;
            problems?.Add(new DeclarationProblem(DeclarationProblemKind.InvalidTypeShape, IdentifierLocation(type, cancellationToken), type.Name, shape));
        }

        if (FirstNonPartialDeclaration(type, cancellationToken) is { } notPartial)
        {
            valid = false;
            problems?.Add(new DeclarationProblem(DeclarationProblemKind.NotPartial, notPartial.Identifier.GetLocation(), type.Name, "partial"));
        }

        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (FirstNonPartialDeclaration(outer, cancellationToken) is { } outerNotPartial)
            {
                valid = false;
                problems?.Add(new DeclarationProblem(DeclarationProblemKind.ContainingTypeNotPartial, outerNotPartial.Identifier.GetLocation(), outer.Name, type.Name));
            }
        }

        return valid;
    }

    /// <summary>The first declaration of <paramref name="type"/> without the partial modifier, or null.</summary>
    public static TypeDeclarationSyntax? FirstNonPartialDeclaration(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return declaration;
            }
        }

        return null;
    }

    private static Location? IdentifierLocation(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        type.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
            ? declaration.Identifier.GetLocation()
            : type.Locations.FirstOrDefault();

    private static bool ReadHooks(AttributeData hooks, List<DeclarationProblem>? problems, CancellationToken cancellationToken, out string? hooksTypeName)
    {
        hooksTypeName = null;
        if (hooks.ConstructorArguments.Length != 1 || hooks.ConstructorArguments[0].Value is not INamedTypeSymbol hooksType)
        {
            // typeof(null) or a missing argument is already a compiler error.
            return false;
        }

        var display = hooksType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
        var valid = true;
        if (!hooksType.AllInterfaces.Any(IsExtentHooksInterface))
        {
            valid = false;
            problems?.Add(new DeclarationProblem(DeclarationProblemKind.HooksNotExtentHooks, ArgumentLocation(hooks, null, cancellationToken), display, "IExtentHooks"));
        }

        var constructible = !hooksType.IsAbstract
            && !hooksType.IsStatic
            && !hooksType.IsUnboundGenericType
            && (hooksType.TypeKind == TypeKind.Struct
                || (hooksType.TypeKind == TypeKind.Class
                    && hooksType.InstanceConstructors.Any(static c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public)));
        if (!constructible)
        {
            valid = false;
            problems?.Add(new DeclarationProblem(DeclarationProblemKind.HooksNotConstructible, ArgumentLocation(hooks, null, cancellationToken), display, "constructor"));
        }

        if (valid)
        {
            hooksTypeName = hooksType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        }

        return valid;
    }

    private static bool IsExtentHooksInterface(INamedTypeSymbol type) =>
        type is
        {
            Name: KnownTypeNames.ExtentHooksInterfaceName,
            ContainingNamespace:
            {
                Name: KnownTypeNames.ExtentHooksInterfaceNamespace,
                ContainingNamespace: { Name: KnownTypeNames.Namespace, ContainingNamespace.IsGlobalNamespace: true },
            },
        };

    private static bool AsBool(TypedConstant value, bool fallback) => value.Value is bool b ? b : fallback;

    private static double AsDouble(TypedConstant value, double fallback) => value.Value switch
    {
        double d => d,
        IConvertible c when value.Kind == TypedConstantKind.Primitive => Convert.ToDouble(c, System.Globalization.CultureInfo.InvariantCulture),
        _ => fallback,
    };

    private static long AsLong(TypedConstant value, long fallback) => value.Value switch
    {
        long l => l,
        int i => i,
        IConvertible c when value.Kind == TypedConstantKind.Primitive => Convert.ToInt64(c, System.Globalization.CultureInfo.InvariantCulture),
        _ => fallback,
    };
}

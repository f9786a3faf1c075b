using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers;

/// <summary>The descriptors of every rule, in one place.</summary>
internal static class DiagnosticDescriptors
{
    // Repository-relative until the project has a public home; change this one constant then.
    private const string DocsBase = "docs/diagnostics/";
    private const string Usage = "Usage";
    private const string Reliability = "Reliability";

    public static readonly DiagnosticDescriptor ArenaTypeNotPartial = Error(
        DiagnosticIds.ArenaTypeNotPartial,
        Usage,
        title: "An [Arena] type and its containing types must be partial",
        message: "'{0}' must be partial: the generator adds the arena policy to {1}; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor ArenaTypeShape = Error(
        DiagnosticIds.ArenaTypeShape,
        Usage,
        title: "An [Arena] type must be a non-static, non-generic, non-abstract class, not a record",
        message: "'{0}' is {1}; declare the arena as a plain class (not static, generic, abstract or a record) outside generic types");

    public static readonly DiagnosticDescriptor SizeClassParameters = Error(
        DiagnosticIds.SizeClassParameters,
        Reliability,
        title: "Size-class parameters are out of range or inconsistent",
        message: "Invalid size classes on '{0}': {1}");

    public static readonly DiagnosticDescriptor DecayOutOfRange = Error(
        DiagnosticIds.DecayOutOfRange,
        Usage,
        title: "A decay time is below -1 or above the maximum",
        message: "Invalid decay time on '{0}': {1}");

    public static readonly DiagnosticDescriptor GuardEveryNegative = Error(
        DiagnosticIds.GuardEveryNegative,
        Usage,
        title: "A guard sampling count is negative",
        message: "Invalid guard sampling on '{0}': {1}");

    public static readonly DiagnosticDescriptor OversizeThresholdBelowPage = Error(
        DiagnosticIds.OversizeThresholdBelowPage,
        Usage,
        title: "The oversize threshold is below one page",
        message: "Invalid oversize threshold on '{0}': {1}");

    public static readonly DiagnosticDescriptor ExtentMaxActiveFitOutOfRange = Error(
        DiagnosticIds.ExtentMaxActiveFitOutOfRange,
        Usage,
        title: "LgExtentMaxActiveFit is out of range",
        message: "Invalid extent fit bound on '{0}': {1}");

    public static readonly DiagnosticDescriptor HooksNotExtentHooks = Error(
        DiagnosticIds.HooksNotExtentHooks,
        Usage,
        title: "The extent hooks type does not implement IExtentHooks",
        message: "'{0}' does not implement Allocator.Extents.IExtentHooks; implement it or pass a type that does");

    public static readonly DiagnosticDescriptor HooksNotConstructible = Error(
        DiagnosticIds.HooksNotConstructible,
        Usage,
        title: "The extent hooks type cannot be created",
        message: "'{0}' cannot be created by the generated policy; make it a non-abstract, non-generic type with a public parameterless constructor");

    public static readonly DiagnosticDescriptor TooManySizeClasses = Error(
        DiagnosticIds.TooManySizeClasses,
        Reliability,
        title: "The size-class parameters yield more classes than the size index can number",
        message: "Too many size classes on '{0}': {1}");

    public static readonly DiagnosticDescriptor ConfigurationWithoutArena = new(
        DiagnosticIds.ConfigurationWithoutArena,
        "An arena configuration attribute is used without [Arena]",
        "[{0}] on '{1}' has no effect without [Arena]; add [Arena] to the class or remove [{0}]",
        Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: DocsBase + DiagnosticIds.ConfigurationWithoutArena + ".md");

    private static DiagnosticDescriptor Error(string id, string category, string title, string message) => new(
        id,
        title,
        message,
        category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: DocsBase + id + ".md");
}

using Microsoft.CodeAnalysis;

namespace Allocator.Analyzers;

/// <summary>The descriptors of every rule, in one place.</summary>
internal static class DiagnosticDescriptors
{
    // Repository-relative until the project has a public home; change this one constant then.
    private const string DocsBase = "docs/diagnostics/";
    private const string Usage = "Usage";
    private const string Reliability = "Reliability";
    private const string Performance = "Performance";

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

    public static readonly DiagnosticDescriptor GuardMappingShareOutOfRange = Error(
        DiagnosticIds.GuardMappingShareOutOfRange,
        Usage,
        title: "The guard mapping share is not above 0 and at most 1",
        message: "Invalid guard mapping share on '{0}': {1}");

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

    public static readonly DiagnosticDescriptor ProfileSampleBytesOutOfRange = Error(
        DiagnosticIds.ProfileSampleBytesOutOfRange,
        Usage,
        title: "ProfileSampleBytes is out of range",
        message: "Invalid heap-profile interval on '{0}': {1}");

    public static readonly DiagnosticDescriptor LeakReportWithSampleInterval = Error(
        DiagnosticIds.LeakReportWithSampleInterval,
        Usage,
        title: "LeakReport samples every block; a sampling interval beside it is contradictory",
        message: "Conflicting heap-profile settings on '{0}': {1}");

    public static readonly DiagnosticDescriptor HugePageSettingOutOfRange = Error(
        DiagnosticIds.HugePageSettingOutOfRange,
        Usage,
        title: "A [HugePages] setting is out of range",
        message: "Invalid hugepage setting on '{0}': {1}");

    public static readonly DiagnosticDescriptor HugePagesWithCustomHooks = new(
        DiagnosticIds.HugePagesWithCustomHooks,
        "[HugePages] has no effect with [ExtentHooks]",
        "[HugePages] on '{0}' has no effect: its extents come from the custom hooks '{1}', which supply their own memory; remove [HugePages], or remove [ExtentHooks] to use the OS's transparent huge pages",
        Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: DocsBase + DiagnosticIds.HugePagesWithCustomHooks + ".md");

    public static readonly DiagnosticDescriptor HooksNotExtentHooks = Error(
        DiagnosticIds.HooksNotExtentHooks,
        Usage,
        title: "The extent hooks type does not implement IExtentHooks",
        message: "'{0}' does not implement Allocator.Hooks.IExtentHooks; implement it or pass a type that does");

    public static readonly DiagnosticDescriptor HooksNotConstructible = Error(
        DiagnosticIds.HooksNotConstructible,
        Usage,
        title: "The extent hooks type cannot be created",
        message: "'{0}' cannot be created by the generated policy; make it a non-abstract, non-generic type with a public parameterless constructor");

    public static readonly DiagnosticDescriptor ConfigurationWithoutArena = new(
        DiagnosticIds.ConfigurationWithoutArena,
        "An arena configuration attribute is used without [Arena]",
        "[{0}] on '{1}' has no effect without [Arena]; add [Arena] to the class or remove [{0}]",
        Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: DocsBase + DiagnosticIds.ConfigurationWithoutArena + ".md");

    public static readonly DiagnosticDescriptor ExtentFromAddress = Error(
        DiagnosticIds.ExtentFromAddress,
        Usage,
        title: "An extent built from an address is passed where an acquired extent is required",
        message: "The extent passed to parameter '{0}' of '{1}' was built from an address ({2}); pass an extent you hold, and claim a neighbor with ExtentMap.TryAcquireNeighbor");

    public static readonly DiagnosticDescriptor DirectHookSplitMerge = Error(
        DiagnosticIds.DirectHookSplitMerge,
        Usage,
        title: "An extent hook's Split or Merge is called directly",
        message: "Do not call IExtentHooks.{0} directly; call ExtentOps.{0}Wrapper, which checks head state and keeps the extent map in step");

    public static readonly DiagnosticDescriptor FreedToOtherArena = Error(
        DiagnosticIds.FreedToOtherArena,
        Reliability,
        title: "A block is freed to a different arena than the one that allocated it",
        message: "'{0}' was allocated by '{1}' but is passed to '{2}.{3}'; free it through the arena that allocated it");

    public static readonly DiagnosticDescriptor UseAfterResetOrDispose = Error(
        DiagnosticIds.UseAfterResetOrDispose,
        Reliability,
        title: "An arena or its memory is used after Dispose() or Reset()",
        message: "{0} is used after '{1}' on line {2}; {3}");

    public static readonly DiagnosticDescriptor DoubleFree = Error(
        DiagnosticIds.DoubleFree,
        Reliability,
        title: "A block is freed twice",
        message: "'{0}' was already freed on line {1} on every path here; free it once, or set it to a new block before freeing again");

    public static readonly DiagnosticDescriptor FreeSizedClassMismatch = Error(
        DiagnosticIds.FreeSizedClassMismatch,
        Reliability,
        title: "FreeSized is given a size of another size class than the block was allocated with",
        message: "'{0}' was allocated with {1} bytes (the {2}-byte class) but FreeSized is given {3} bytes (the {4}-byte class); pass the size it was allocated with");

    public static readonly DiagnosticDescriptor FreeSizedWithoutAlignment = Error(
        DiagnosticIds.FreeSizedWithoutAlignment,
        Reliability,
        title: "FreeSized is not given the alignment of a block from AllocateAligned",
        message: "'{0}' comes from AllocateAligned({1}, {2}), whose size class depends on the alignment; call FreeSized({0}, {1}, {2})");

    public static readonly DiagnosticDescriptor FreeWithKnownSize = new(
        DiagnosticIds.FreeWithKnownSize,
        "Free a block whose size is known with FreeSized",
        "The size of '{0}' is known here ({1}); call FreeSized({0}, {1}), which skips the lookup Free needs",
        Performance,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        helpLinkUri: DocsBase + DiagnosticIds.FreeWithKnownSize + ".md");

    private static DiagnosticDescriptor Error(string id, string category, string title, string message) => new(
        id,
        title,
        message,
        category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: DocsBase + id + ".md");
}

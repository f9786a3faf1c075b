namespace Allocator.Analyzers;

/// <summary>
/// Diagnostic IDs. ALLOC1xxx: declarations and configuration (what the generator skips);
/// ALLOC2xxx: runtime API misuse; ALLOC3xxx: performance hints; ALLOC9xxx: reserved.
/// </summary>
public static class DiagnosticIds
{
    /// <summary>An [Arena] type, or a type containing it, is not partial.</summary>
    public const string ArenaTypeNotPartial = "ALLOC1001";

    /// <summary>An [Arena] type is static, generic, abstract or a record.</summary>
    public const string ArenaTypeShape = "ALLOC1002";

    /// <summary>Size-class exponents out of range or inconsistent.</summary>
    public const string SizeClassParameters = "ALLOC1003";

    /// <summary>A decay time below -1 or above the maximum.</summary>
    public const string DecayOutOfRange = "ALLOC1004";

    /// <summary>A negative guard sampling count.</summary>
    public const string GuardEveryNegative = "ALLOC1005";

    /// <summary>An oversize threshold below one page.</summary>
    public const string OversizeThresholdBelowPage = "ALLOC1006";

    /// <summary>LgExtentMaxActiveFit out of range.</summary>
    public const string ExtentMaxActiveFitOutOfRange = "ALLOC1007";

    /// <summary>The [ExtentHooks] type does not implement IExtentHooks.</summary>
    public const string HooksNotExtentHooks = "ALLOC1008";

    /// <summary>The [ExtentHooks] type has no public parameterless constructor.</summary>
    public const string HooksNotConstructible = "ALLOC1009";

    /// <summary>[SizeClasses], [Guards], [HugePages] or [ExtentHooks] on a type without [Arena]: it has no effect.</summary>
    public const string ConfigurationWithoutArena = "ALLOC1011";

    /// <summary>A guard mapping share outside (0, 1].</summary>
    public const string GuardMappingShareOutOfRange = "ALLOC1012";

    /// <summary>ProfileSampleBytes is negative or above 2^40.</summary>
    public const string ProfileSampleBytesOutOfRange = "ALLOC1013";

    /// <summary>A [HugePages] setting is out of range.</summary>
    public const string HugePageSettingOutOfRange = "ALLOC1014";

    /// <summary>[HugePages] together with [ExtentHooks]: the hooks win and no pageslab is used.</summary>
    public const string HugePagesWithCustomHooks = "ALLOC1015";

    /// <summary>LeakReport with a ProfileSampleBytes other than 0 or 1: leak reports sample every block.</summary>
    public const string LeakReportWithSampleInterval = "ALLOC1016";

    /// <summary>An extent built from an address is passed where an acquired extent is required.</summary>
    public const string ExtentFromAddress = "ALLOC2001";

    /// <summary>An extent hook's Split or Merge is called directly instead of through ExtentOps.</summary>
    public const string DirectHookSplitMerge = "ALLOC2002";

    /// <summary>A block is freed to a different arena than the one that allocated it.</summary>
    public const string FreedToOtherArena = "ALLOC2003";

    /// <summary>An arena, or memory from it, is used after Dispose() or Reset().</summary>
    public const string UseAfterResetOrDispose = "ALLOC2004";

    /// <summary>The same block is freed twice on one path.</summary>
    public const string DoubleFree = "ALLOC2005";

    /// <summary>FreeSized with a constant size of another size class than the constant allocation size.</summary>
    public const string FreeSizedClassMismatch = "ALLOC2006";

    /// <summary>FreeSized without the alignment on a block from AllocateAligned.</summary>
    public const string FreeSizedWithoutAlignment = "ALLOC2007";

    /// <summary>Free where the allocated size is known: FreeSized skips a lookup.</summary>
    public const string FreeWithKnownSize = "ALLOC3001";
}

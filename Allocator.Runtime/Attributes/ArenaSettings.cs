namespace Allocator;

/// <summary>
/// Every knob of one arena declaration, as read from its attributes. Value-equatable, so the
/// source generator can use it as (part of) its incremental model; property names match
/// <c>IArenaPolicy</c>'s members.
/// </summary>
internal sealed record ArenaSettings
{
    public bool Retain { get; init; } = ArenaDeclarationRules.DefaultRetain;
    public long DirtyDecayMs { get; init; } = ArenaDeclarationRules.DefaultDirtyDecayMs;
    public long MuzzyDecayMs { get; init; } = ArenaDeclarationRules.DefaultMuzzyDecayMs;
    public long OversizeThreshold { get; init; } = ArenaDeclarationRules.DefaultOversizeThreshold;
    public int LgExtentMaxActiveFit { get; init; } = ArenaDeclarationRules.DefaultLgExtentMaxActiveFit;
    public bool ThreadCache { get; init; } = ArenaDeclarationRules.DefaultThreadCache;
    public bool DebugChecks { get; init; } = ArenaDeclarationRules.DefaultDebugChecks;
    public int LgQuantum { get; init; } = ArenaDeclarationRules.DefaultLgQuantum;
    public int LgPage { get; init; } = ArenaDeclarationRules.DefaultLgPage;
    public int LgGroup { get; init; } = ArenaDeclarationRules.DefaultLgGroup;
    public int LgTinyMin { get; init; } = ArenaDeclarationRules.DefaultLgTinyMin;
    public int GuardSmallEvery { get; init; } = ArenaDeclarationRules.DefaultGuardEvery;
    public int GuardLargeEvery { get; init; } = ArenaDeclarationRules.DefaultGuardEvery;
    public double GuardMappingShare { get; init; } = ArenaDeclarationRules.DefaultGuardMappingShare;

    public long ProfileSampleBytes { get; init; } = ArenaDeclarationRules.DefaultProfileSampleBytes;
    public bool LeakReport { get; init; } = ArenaDeclarationRules.DefaultLeakReport;

    public HugePageMode HugePages { get; init; } = HugePageMode.Off;
    public long HugifyDelayMs { get; init; } = ArenaDeclarationRules.DefaultHugifyDelayMs;
    public double HugificationThreshold { get; init; } = ArenaDeclarationRules.DefaultHugificationThreshold;
    public double HugePageDirtyMult { get; init; } = ArenaDeclarationRules.DefaultHugePageDirtyMult;
    public long HugePageMinPurgeIntervalMs { get; init; } = ArenaDeclarationRules.DefaultHugePageMinPurgeIntervalMs;
}
